// The saved index of the embedded store: one block file beside the database holding the whole
// in-memory state (codes, filter columns, shares, ids, partition lists), so reopening copies
// arrays instead of re-reading and re-parsing every row. It is written to a temp file, fsynced
// and renamed, so a kill -9 leaves the old block or the new one, never half of one; and it is
// used only when its header matches the database (store id, generation, row count) and its
// checksum holds, so a stale or damaged block is rebuilt from SQLite instead of served.
//
// The checksum covers every byte except the int8 codes, of which it covers a page in every
// CODE_SAMPLE_STRIDE bytes and the last page: a CRC over all 512 MB of codes at 1M rows took
// 1.2 s of a reopen. Torn writes cannot happen (temp file and rename) and the header proves the
// block matches the database; the sampled pages catch a wrong-length or overwritten section.
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isProcessAlive } from '../process-liveness.js';
import { crc32 } from 'node:zlib';
import { arraysInOrder, type MatrixArrays, type MatrixExtras } from './matrix-snapshot.js';

/** Identifies the file kind. */
const MAGIC = 'FIMGIDX\0';
/** Layout version of the block; a block of another version is rebuilt. */
export const SNAPSHOT_FORMAT = 2;
const HEADER_BYTES = 64;
/** Reads and writes go in pieces this large (one syscall each). */
const IO_CHUNK_BYTES = 16 * 2 ** 20;
/** The checksum covers the codes' first CODE_SAMPLE_BYTES in every this many, and their end. */
const CODE_SAMPLE_STRIDE = 2 ** 20;
/** Bytes of the codes checksummed at each sample point (a page). */
const CODE_SAMPLE_BYTES = 4096;

/** Folds the sampled pages of the codes section into `checksum` (see the file comment). */
function crcOfCodeSamples(codes: Uint8Array, checksum: number): number {
  let crc = checksum;
  for (let at = 0; at < codes.length; at += CODE_SAMPLE_STRIDE) {
    crc = crc32(codes.subarray(at, at + CODE_SAMPLE_BYTES), crc);
  }
  return crc32(codes.subarray(Math.max(0, codes.length - CODE_SAMPLE_BYTES)), crc);
}

/** What a block must match to be used. */
export interface SnapshotMark {
  /** Random id of the database, made when it was created. */
  storeId: string;
  /** The database's write generation (bumped by every write transaction). */
  generation: number;
  /** Rows in the points table. */
  rows: number;
  /** Vector length. */
  dimension: number;
}

/** Where a store's block lives: beside the database. */
export function snapshotPathFor(databasePath: string): string {
  return `${databasePath}.index`;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Writes the block atomically: temp file, fsync, rename, fsync of the folder. Synchronous, so
 * the state written is the state at the call.
 */
export function writeSnapshot(
  path: string,
  mark: SnapshotMark,
  arrays: MatrixArrays,
  extras: MatrixExtras,
): void {
  const strings = Buffer.from(JSON.stringify(extras.strings), 'utf8');
  const shareIds = Buffer.from(JSON.stringify(extras.shareIds()), 'utf8');
  const ids = Buffer.from(extras.ids.join('\n'), 'utf8');
  const storeId = Buffer.from(mark.storeId, 'utf8');
  const [codes, ...columns] = arraysInOrder(arrays).map(bytesOf) as [Uint8Array, ...Uint8Array[]];
  const rest = [...columns, strings, shareIds, ids, bytesOf(extras.centroids)];
  let checksum = crc32(storeId);
  checksum = crcOfCodeSamples(codes, checksum);
  for (const part of rest) checksum = crc32(part, checksum);
  const body = [storeId, codes, ...rest];
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(SNAPSHOT_FORMAT, 8);
  header.writeUInt32LE(mark.dimension, 12);
  header.writeUInt32LE(extras.rows, 16);
  header.writeUInt32LE(extras.slots, 20);
  header.writeUInt32LE(extras.centroids.length / mark.dimension, 24);
  header.writeUInt32LE(extras.trainedAt, 28);
  header.writeDoubleLE(mark.generation, 32);
  header.writeUInt32LE(strings.length, 40);
  header.writeUInt32LE(ids.length, 44);
  header.writeUInt32LE(checksum, 48);
  header.writeUInt32LE(storeId.length, 52);
  header.writeUInt32LE(mark.rows, 56);
  header.writeUInt32LE(shareIds.length, 60);
  removeAbandonedTemps(path);
  const temp = `${tempPrefix(path)}${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    for (const part of [header, ...body]) {
      for (let at = 0; at < part.length; at += IO_CHUNK_BYTES) {
        writeSync(fd, part, at, Math.min(IO_CHUNK_BYTES, part.length - at));
      }
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  const folder = openSync(dirname(path), 'r');
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}

/** Where a process writes a block before renaming it: `<block>.tmp-<pid>`. */
function tempPrefix(path: string): string {
  return `${path}.tmp-`;
}

/**
 * Deletes the temp blocks of processes that died while saving (a kill -9 mid-write leaves one,
 * as large as the block). A temp file of a running process, another findimage saving the same
 * store, is left alone; a name that is not ours is never touched.
 */
function removeAbandonedTemps(path: string): void {
  const prefix = basename(tempPrefix(path));
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isProcessAlive(pid)) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

/** The header of a block, read before deciding to load it. */
export interface SnapshotHeader {
  /** What the block was saved against. */
  mark: SnapshotMark;
  /** Share slots. */
  slots: number;
  /** Partition lists (0: none). */
  lists: number;
  /** Rows when the index was trained. */
  trainedAt: number;
  /** Rows of the matrix (the database's rows less any unusable ones). */
  matrixRows: number;
  /** Bytes of the JSON of tenants, sources, conversations and uploaders. */
  stringsBytes: number;
  /** Bytes of the JSON of message and file ids. */
  shareIdsBytes: number;
  /** Bytes of the newline-joined point ids. */
  idsBytes: number;
  storeIdBytes: number;
  checksum: number;
}

/** An open block file, read front to back. */
export class SnapshotReader {
  readonly #fd: number;
  #position = 0;
  #checksum = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
  }

  /** The header; throws when the file is not a block of this format. */
  header(): SnapshotHeader {
    const header = Buffer.alloc(HEADER_BYTES);
    this.#read(header, 'unchecked');
    if (header.toString('latin1', 0, 8) !== MAGIC) throw new Error('not an index block');
    const format = header.readUInt32LE(8);
    if (format !== SNAPSHOT_FORMAT) throw new Error(`index block format ${format}`);
    const storeIdBytes = header.readUInt32LE(52);
    const storeId = Buffer.alloc(storeIdBytes);
    this.#read(storeId, 'checked');
    return {
      mark: {
        storeId: storeId.toString('utf8'),
        generation: header.readDoubleLE(32),
        rows: header.readUInt32LE(56),
        dimension: header.readUInt32LE(12),
      },
      slots: header.readUInt32LE(20),
      lists: header.readUInt32LE(24),
      trainedAt: header.readUInt32LE(28),
      matrixRows: header.readUInt32LE(16),
      stringsBytes: header.readUInt32LE(40),
      shareIdsBytes: header.readUInt32LE(60),
      idsBytes: header.readUInt32LE(44),
      storeIdBytes,
      checksum: header.readUInt32LE(48),
    };
  }

  /**
   * Reads the rest into `arrays` (sized by the header); throws on a short or damaged file.
   * `beginCodeRead`, when given, may start reading the codes on other threads (returning the
   * function that finishes that read), so that they arrive while this thread reads the rest.
   */
  body(
    header: SnapshotHeader,
    arrays: MatrixArrays,
    beginCodeRead?: (fd: number, position: number, rows: number) => (() => void) | null,
  ): MatrixExtras {
    const [codes, ...columns] = arraysInOrder(arrays);
    const codeBytes = bytesOf(codes as ArrayBufferView);
    const finishCodes = beginCodeRead?.(this.#fd, this.#position, header.matrixRows) ?? null;
    // With the codes read elsewhere, every section is checksummed once all are in, in the
    // file's order (the checksum depends on it).
    const check = finishCodes === null ? 'checked' : 'unchecked';
    if (finishCodes === null) this.#read(codeBytes, 'sampled');
    else this.#position += codeBytes.length;
    const strings = Buffer.alloc(header.stringsBytes);
    const shareIds = Buffer.alloc(header.shareIdsBytes);
    const ids = Buffer.alloc(header.idsBytes);
    const centroids = new Float32Array(header.lists * header.mark.dimension);
    const rest = [...columns.map(bytesOf), strings, shareIds, ids, bytesOf(centroids)];
    try {
      for (const part of rest) this.#read(part, check);
    } catch (error) {
      // The other threads must be done with the descriptor before the caller closes it.
      try {
        finishCodes?.();
      } catch {
        // The first error says what went wrong.
      }
      throw error;
    }
    if (finishCodes !== null) {
      finishCodes();
      this.#checksum = crcOfCodeSamples(codeBytes, this.#checksum);
      for (const part of rest) this.#checksum = crc32(part, this.#checksum);
    }
    if (this.#checksum !== header.checksum) throw new Error('index block checksum mismatch');
    const rows = header.matrixRows;
    return {
      rows,
      slots: header.slots,
      strings: JSON.parse(strings.toString('utf8')) as string[],
      // Checked above with the rest; parsed only when the matrix first needs an id's code.
      shareIds: () => JSON.parse(shareIds.toString('utf8')) as string[],
      ids: rows === 0 ? [] : ids.toString('utf8').split('\n'),
      centroids,
      trainedAt: header.trainedAt,
    };
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** Reads the next `into.length` bytes, folding them (or their samples) into the checksum. */
  #read(into: Uint8Array, check: 'checked' | 'sampled' | 'unchecked'): void {
    for (let at = 0; at < into.length; ) {
      const length = Math.min(IO_CHUNK_BYTES, into.length - at);
      const got = readSync(this.#fd, into, at, length, this.#position);
      if (got === 0) throw new Error('index block is cut short');
      at += got;
      this.#position += got;
    }
    if (check === 'checked') this.#checksum = crc32(into, this.#checksum);
    else if (check === 'sampled') this.#checksum = crcOfCodeSamples(into, this.#checksum);
  }
}

/**
 * Loads the block at `path` into the matrix if it matches `mark`; returns why not otherwise (the
 * matrix is then left empty, to be rebuilt from SQLite).
 */
export function loadSnapshot(
  path: string,
  mark: SnapshotMark,
  matrix: {
    beginRestore(rows: number, slots: number, lists: number): MatrixArrays;
    finishRestore(arrays: MatrixArrays, extras: MatrixExtras): void;
    clear(): void;
    /** Optional: reads the codes on other threads (see SnapshotReader.body). */
    beginCodeRead?(fd: number, position: number, rows: number): (() => void) | null;
  },
): string | undefined {
  let reader: SnapshotReader;
  try {
    reader = new SnapshotReader(path);
  } catch {
    return 'no saved index';
  }
  try {
    const header = reader.header();
    const saved = header.mark;
    if (saved.storeId !== mark.storeId) return 'the saved index belongs to another database';
    if (saved.dimension !== mark.dimension) return 'the saved index has another dimension';
    if (saved.generation !== mark.generation || saved.rows !== mark.rows) {
      return 'the saved index is older than the database';
    }
    const arrays = matrix.beginRestore(header.matrixRows, header.slots, header.lists);
    const beginCodeRead = matrix.beginCodeRead?.bind(matrix);
    const extras = reader.body(header, arrays, beginCodeRead);
    if (extras.ids.length !== header.matrixRows) throw new Error('index block ids do not match rows');
    matrix.finishRestore(arrays, extras);
    return undefined;
  } catch (error) {
    matrix.clear();
    return `the saved index is unreadable (${(error as Error).message})`;
  } finally {
    reader.close();
  }
}
