// The shares of every row of the vector matrix, packed into parallel typed arrays (one slot per
// share, a row's shares in consecutive slots), so that the filter scan reads numbers, not objects.
//
// Why an arena and not an array per row: nearly every image is shared once, and a JS array of
// objects per row costs around 100 bytes and a pointer chase per share in the scan, against 17
// bytes in place here. Rows point at their slots (start, count); slots freed by a removal or a
// shrinking update are reclaimed by compaction once they outnumber the live ones.
import { StringCodes } from './string-codes.js';
import type { ImageShare } from './vector-store.js';

/** The fields of a share the store filters on. */
export type ShareFields = Pick<
  ImageShare,
  'conversation' | 'isPublic' | 'uploader' | 'messageId' | 'fileId'
>;

/** One typed array per share field, indexed by slot. */
export interface ShareColumns {
  /** Code of the share's conversation. */
  conversation: Uint32Array;
  /** 1 when the share is public, else 0. */
  isPublic: Uint8Array;
  /** Code of the share's uploader, or ABSENT_CODE. */
  uploader: Uint32Array;
  /** Code of the share's message id (in the id table), or ABSENT_CODE. */
  messageId: Uint32Array;
  /** Code of the share's file id (in the id table), or ABSENT_CODE. */
  fileId: Uint32Array;
}

/** Slots allocated before the first growth. */
const INITIAL_SLOTS = 1024;

/** Freed slots are not worth compacting away below this many. */
const MIN_GARBAGE_TO_COMPACT = 4096;

/** Where a row's shares sit: the per-row columns the arena reads and rewrites. */
export interface RowSlots {
  /** First slot of each row's shares. */
  shareStart: Uint32Array;
  /** Number of shares of each row. */
  shareCount: Uint32Array;
}

function allocate(slots: number): ShareColumns {
  return {
    conversation: new Uint32Array(slots),
    isPublic: new Uint8Array(slots),
    uploader: new Uint32Array(slots),
    messageId: new Uint32Array(slots),
    fileId: new Uint32Array(slots),
  };
}

export class ShareArena {
  #columns: ShareColumns = allocate(INITIAL_SLOTS);
  /** Slots handed out so far (live and freed); new shares go at the end. */
  #used = 0;
  /** Slots handed out but no longer pointed at by any row. */
  #garbage = 0;

  /** Slots handed out and not yet reclaimed by compaction (live plus freed). */
  get slotsInUse(): number {
    return this.#used;
  }

  /** The current columns; valid until the next write (growth and compaction replace them). */
  get columns(): ShareColumns {
    return this.#columns;
  }

  /**
   * Stores `shares` as the shares of `row`, whose current slots are described by `rows`, and
   * points the row at them. Reuses the row's slots when the new list fits in them. `codes` code
   * conversations and uploaders; `idCodes` message and file ids (a table of their own, see
   * VectorMatrix).
   */
  write(
    row: number,
    rows: RowSlots,
    shares: readonly ShareFields[],
    codes: StringCodes,
    idCodes: StringCodes,
  ): void {
    const oldCount = rows.shareCount[row] as number;
    let start = rows.shareStart[row] as number;
    if (shares.length > oldCount) {
      this.#garbage += oldCount;
      start = this.#claim(shares.length);
    } else {
      this.#garbage += oldCount - shares.length;
    }
    const c = this.#columns;
    for (let i = 0; i < shares.length; i++) {
      const share = shares[i] as ShareFields;
      const slot = start + i;
      c.conversation[slot] = codes.intern(share.conversation);
      c.isPublic[slot] = share.isPublic ? 1 : 0;
      c.uploader[slot] = codes.intern(share.uploader);
      c.messageId[slot] = idCodes.intern(share.messageId);
      c.fileId[slot] = idCodes.intern(share.fileId);
    }
    rows.shareStart[row] = start;
    rows.shareCount[row] = shares.length;
  }

  /** Notes that a row holding `count` shares is gone, so its slots can be reclaimed. */
  release(count: number): void {
    this.#garbage += count;
  }

  /**
   * Packs the live shares of rows 0..rowCount-1 to the front, in row order, when freed slots
   * outnumber live ones; call after removals and updates.
   */
  compactIfWasteful(rowCount: number, rows: RowSlots): void {
    const live = this.#used - this.#garbage;
    if (this.#garbage < MIN_GARBAGE_TO_COMPACT || this.#garbage <= live) return;
    this.pack(rowCount, rows);
  }

  /**
   * Packs the live shares of rows 0..rowCount-1 to the front, in row order: after a compaction's
   * worth of garbage, or after the rows were reordered (a walk of every row's shares then reads
   * the slots in sequence).
   */
  pack(rowCount: number, rows: RowSlots): void {
    // Counted from the rows rather than the garbage tally: the copy below writes slot by slot,
    // and a typed array drops writes past its end silently.
    let live = 0;
    for (let row = 0; row < rowCount; row++) live += rows.shareCount[row] as number;
    const from = this.#columns;
    const to = allocate(Math.max(INITIAL_SLOTS, live * 2));
    let next = 0;
    // Slot by slot rather than a subarray per row and column: a row has one share or two, and
    // five subarrays a row made packing 300k rows take about 100 ms.
    for (let row = 0; row < rowCount; row++) {
      const start = rows.shareStart[row] as number;
      const end = start + (rows.shareCount[row] as number);
      rows.shareStart[row] = next;
      for (let slot = start; slot < end; slot++, next++) {
        to.conversation[next] = from.conversation[slot] as number;
        to.isPublic[next] = from.isPublic[slot] as number;
        to.uploader[next] = from.uploader[slot] as number;
        to.messageId[next] = from.messageId[slot] as number;
        to.fileId[next] = from.fileId[slot] as number;
      }
    }
    this.#columns = to;
    this.#used = next;
    this.#garbage = 0;
  }

  /**
   * Takes over columns read from a saved index: `used` slots, of which `live` are pointed at by
   * rows.
   */
  restore(columns: ShareColumns, used: number, live: number): void {
    this.#columns = columns;
    this.#used = used;
    this.#garbage = used - live;
  }

  /** Empty columns with room for `slots` slots, to read a saved index into. */
  static allocate(slots: number): ShareColumns {
    return allocate(Math.max(INITIAL_SLOTS, slots));
  }

  /** Forgets every share (the rows are being cleared too). */
  clear(): void {
    this.#used = 0;
    this.#garbage = 0;
  }

  /** `count` fresh slots at the end, growing the columns if needed; returns the first. */
  #claim(count: number): number {
    const start = this.#used;
    if (start + count > this.#columns.conversation.length) {
      const from = this.#columns;
      const to = allocate(Math.max(from.conversation.length * 2, start + count));
      for (const key of Object.keys(to) as (keyof ShareColumns)[]) to[key].set(from[key]);
      this.#columns = to;
    }
    this.#used = start + count;
    return start;
  }
}
