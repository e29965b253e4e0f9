// The rows of each conversation (and the rows with a public share), so that a filter scoped to
// a few conversations tests only their rows instead of walking every row's filter: at 1M rows
// the walk alone took about 10 ms of a one-channel query. Built in one pass over the share
// arena when first needed and dropped on every write, so a read-mostly store pays it once.
import type { FilterColumns, RowFilter } from './point-filter.js';
import { UNKNOWN_CODE, type StringCodes } from './string-codes.js';
import type { PointFilter } from './vector-store.js';

/**
 * The lists are used only when the rows they name are at most this share of all rows; past it
 * a plain walk of every row is as cheap and needs no merge.
 */
const MAX_LISTED_SHARE = 0.25;

/** Rows per conversation code, as one array of rows cut by offsets (CSR). */
interface Lists {
  /** Rows of conversation c are rows[offsets[c] .. offsets[c + 1]), ascending, unique. */
  offsets: Uint32Array;
  /** Every list, one after the other. */
  rows: Int32Array;
  /** Rows with at least one public share, ascending. */
  publicRows: Int32Array;
}

export class ConversationRows {
  #lists: Lists | null = null;

  /** Forgets the lists; call on every change of rows or shares (they are rebuilt when needed). */
  invalidate(): void {
    this.#lists = null;
  }

  /**
   * Writes the rows among 0..size-1 that `rowFilter` (compiled from `filter`) matches into
   * `out`, in row order, testing only the rows of the filter's conversations; returns how many,
   * or -1 when the filter names no conversations or they hold too many rows to be worth it.
   */
  collect(
    filter: PointFilter,
    rowFilter: RowFilter,
    strings: StringCodes,
    size: number,
    columns: FilterColumns,
    out: Int32Array,
  ): number {
    const scope = filter.scope;
    const named = scope?.conversations ?? filter.share?.conversations;
    if (named === undefined) return -1;
    if (rowFilter.matchesNothing) return 0;
    const lists = this.#listsFor(size, columns, strings.size);
    const parts: Int32Array[] = [];
    let total = 0;
    for (const conversation of new Set(named)) {
      const code = strings.lookup(conversation);
      if (code === UNKNOWN_CODE || code + 1 >= lists.offsets.length) continue;
      const part = lists.rows.subarray(lists.offsets[code], lists.offsets[code + 1]);
      parts.push(part);
      total += part.length;
    }
    if (scope !== undefined && scope.includePublic) {
      parts.push(lists.publicRows);
      total += lists.publicRows.length;
    }
    if (total > size * MAX_LISTED_SHARE) return -1;
    let candidates: Int32Array;
    if (parts.length === 1) candidates = parts[0] as Int32Array;
    else {
      candidates = new Int32Array(total);
      let at = 0;
      for (const part of parts) {
        candidates.set(part, at);
        at += part.length;
      }
      candidates.sort();
    }
    let found = 0;
    let previous = -1;
    // Every listed row has a share in a named conversation (or a public one): when that alone
    // meets the filter's share conditions, the share test (three scattered reads a row) is skipped.
    if (rowFilter.listedRowsMeetShares) {
      for (let i = 0; i < candidates.length; i++) {
        const row = candidates[i] as number;
        if (row === previous) continue;
        previous = row;
        if (rowFilter.matchesPointFields(row)) out[found++] = row;
      }
      return found;
    }
    for (let i = 0; i < candidates.length; i++) {
      const row = candidates[i] as number;
      if (row === previous) continue;
      previous = row;
      if (rowFilter.matches(row)) out[found++] = row;
    }
    return found;
  }

  #listsFor(size: number, columns: FilterColumns, codes: number): Lists {
    if (this.#lists !== null) return this.#lists;
    const { shareStart, shareCount } = columns;
    const { conversation, isPublic } = columns.shares;
    // Codes run 1..codes; a row is counted once per conversation however many shares it has there.
    const counts = new Uint32Array(codes + 2);
    const lastRow = new Int32Array(codes + 2).fill(-1);
    let publicCount = 0;
    for (let row = 0; row < size; row++) {
      const start = shareStart[row] as number;
      const end = start + (shareCount[row] as number);
      let isPublicRow = false;
      for (let slot = start; slot < end; slot++) {
        const code = conversation[slot] as number;
        if (lastRow[code] !== row) {
          lastRow[code] = row;
          counts[code + 1] = (counts[code + 1] as number) + 1;
        }
        if (isPublic[slot] === 1) isPublicRow = true;
      }
      if (isPublicRow) publicCount++;
    }
    const offsets = counts;
    for (let code = 1; code < offsets.length; code++) {
      offsets[code] = (offsets[code] as number) + (offsets[code - 1] as number);
    }
    const rows = new Int32Array(offsets[offsets.length - 1] as number);
    const next = offsets.slice(0, offsets.length - 1);
    const publicRows = new Int32Array(publicCount);
    lastRow.fill(-1);
    let publicAt = 0;
    for (let row = 0; row < size; row++) {
      const start = shareStart[row] as number;
      const end = start + (shareCount[row] as number);
      let isPublicRow = false;
      for (let slot = start; slot < end; slot++) {
        const code = conversation[slot] as number;
        if (lastRow[code] !== row) {
          lastRow[code] = row;
          rows[next[code] as number] = row;
          next[code] = (next[code] as number) + 1;
        }
        if (isPublic[slot] === 1) isPublicRow = true;
      }
      if (isPublicRow) publicRows[publicAt++] = row;
    }
    this.#lists = { offsets, rows, publicRows };
    return this.#lists;
  }
}
