// Every vector of a store in one contiguous float32 block (WebAssembly memory, scanned by the
// SIMD kernel), with its filter fields in parallel typed arrays and its shares in a typed-array
// arena, for an exact brute-force search that touches no object per row.
import { StoreError } from '../errors.js';
import { RowFilter, type FilterColumns } from './point-filter.js';
import {
  createScanKernel,
  KERNEL_PAGE_BYTES,
  MAX_KERNEL_MEMORY_BYTES,
  type ScanKernel,
} from './scan-kernel.js';
import { ShareArena, type ShareFields } from './share-arena.js';
import { StringCodes } from './string-codes.js';
import { TopHits } from './top-hits.js';
import type { PointFilter } from './vector-store.js';

/** Rows allocated before the first growth; doubling from here keeps appends amortised O(1). */
const INITIAL_CAPACITY = 1024;

/** The filterable fields of one point, as the matrix keeps them. */
export interface RowFields {
  /** Tenant of the point. */
  tenant: string;
  /** Source of the point ("local", "slack", ...). */
  source: string;
  /** createdAt as epoch milliseconds. */
  createdAtMs: number;
  /** The point's shares, in payload order (an ImageShare[] will do). */
  shares: readonly ShareFields[];
}

/** The per-row columns; the shares live in the arena. */
type RowColumns = Omit<FilterColumns, 'shares'>;

/** One result of nearest(). */
export interface MatrixHit {
  /** Id of the point. */
  id: string;
  /** Dot product with the query (cosine similarity for unit vectors). */
  score: number;
}

/**
 * Where things sit in the kernel's memory for a given capacity: the matrix first (so growing
 * never moves a row), then the scratch areas for one query, which may move at every growth.
 */
interface MemoryLayout {
  /** Byte offset of the query vector. */
  query: number;
  /** Byte offset of the list of rows to score (int32). */
  rows: number;
  /** Byte offset of the scores the kernel writes (float32). */
  scores: number;
  /** Bytes needed in all. */
  total: number;
}

function layoutFor(capacity: number, dimension: number): MemoryLayout {
  const query = capacity * dimension * 4;
  const rows = query + dimension * 4;
  const scores = rows + capacity * 4;
  return { query, rows, scores, total: scores + capacity * 4 };
}

/**
 * Most rows a matrix of this dimension can hold: WebAssembly memory stops at 4 GiB, about 2.09
 * million 512-d vectors. Larger collections belong in Qdrant.
 */
export function maxRowsFor(dimension: number): number {
  return Math.floor((MAX_KERNEL_MEMORY_BYTES - dimension * 4) / (dimension * 4 + 8));
}

export class VectorMatrix {
  /** Length of every row. */
  readonly dimension: number;
  /** Most rows this matrix can ever hold. */
  readonly maxRows: number;
  readonly #kernel: ScanKernel;
  #capacity: number;
  #layout: MemoryLayout;
  #size = 0;
  /** Views over the kernel's memory, remade after every growth (growing detaches them). */
  #data!: Float32Array;
  #bytes!: Uint8Array;
  #query!: Float32Array;
  #rows!: Int32Array;
  #scores!: Float32Array;
  #columns: RowColumns;
  readonly #shares = new ShareArena();
  #ids: string[] = [];
  readonly #rowOf = new Map<string, number>();
  readonly #codes = new StringCodes();

  /** An empty matrix with room for at least `capacity` rows before it first grows. */
  constructor(dimension: number, capacity = INITIAL_CAPACITY) {
    this.dimension = dimension;
    this.maxRows = maxRowsFor(dimension);
    this.#capacity = Math.min(Math.max(INITIAL_CAPACITY, capacity), this.maxRows);
    this.#layout = layoutFor(this.#capacity, dimension);
    this.#kernel = createScanKernel(Math.ceil(this.#layout.total / KERNEL_PAGE_BYTES));
    this.#columns = VectorMatrix.#allocateColumns(this.#capacity);
    this.#makeViews();
  }

  /** Number of rows. */
  get size(): number {
    return this.#size;
  }

  /** How many more rows fit before the matrix is full for good (see maxRowsFor). */
  get room(): number {
    return this.maxRows - this.#size;
  }

  /** Share slots taken in the arena, live or awaiting compaction (for tests of reclaiming). */
  get shareSlotsInUse(): number {
    return this.#shares.slotsInUse;
  }

  /** Whether a row with this id exists. */
  has(id: string): boolean {
    return this.#rowOf.has(id);
  }

  /** Inserts a row, or overwrites the row with the same id. Copies `vector`. */
  upsert(id: string, vector: Float32Array, fields: RowFields): void {
    const row = this.#rowFor(id);
    this.#data.set(vector, row * this.dimension);
    this.#writeFields(row, fields);
  }

  /**
   * Like upsert(), with the vector as little-endian float32 bytes (a SQLite BLOB). Copies
   * bytewise, since a Buffer's offset need not be 4-byte aligned for a Float32Array view.
   */
  upsertBytes(id: string, bytes: Uint8Array, fields: RowFields): void {
    const row = this.#rowFor(id);
    this.#bytes.set(bytes, row * this.dimension * 4);
    this.#writeFields(row, fields);
  }

  /**
   * Replaces the shares of an existing row (after addShares or removeShares); returns whether
   * the row exists.
   */
  setShares(id: string, shares: readonly ShareFields[]): boolean {
    const row = this.#rowOf.get(id);
    if (row === undefined) return false;
    this.#shares.write(row, this.#columns, shares, this.#codes);
    this.#shares.compactIfWasteful(this.#size, this.#columns);
    return true;
  }

  /** Removes a row by moving the last row into its place; returns whether it existed. */
  remove(id: string): boolean {
    const row = this.#rowOf.get(id);
    if (row === undefined) return false;
    const last = this.#size - 1;
    const c = this.#columns;
    this.#shares.release(c.shareCount[row] as number);
    if (row !== last) {
      const d = this.dimension;
      this.#data.copyWithin(row * d, last * d, last * d + d);
      c.tenant[row] = c.tenant[last] as number;
      c.source[row] = c.source[last] as number;
      c.createdAt[row] = c.createdAt[last] as number;
      c.shareStart[row] = c.shareStart[last] as number;
      c.shareCount[row] = c.shareCount[last] as number;
      const moved = this.#ids[last] as string;
      this.#ids[row] = moved;
      this.#rowOf.set(moved, row);
    }
    this.#ids.pop();
    this.#rowOf.delete(id);
    this.#size = last;
    this.#shares.compactIfWasteful(this.#size, c);
    return true;
  }

  /** Removes every row and forgets every string code; keeps the allocated room. */
  clear(): void {
    this.#size = 0;
    this.#ids = [];
    this.#rowOf.clear();
    this.#codes.clear();
    this.#shares.clear();
  }

  /** Ids of the rows the filter matches, in row order. */
  idsMatching(filter: PointFilter): string[] {
    const count = this.#select(filter);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(this.#ids[this.#rows[i] as number] as string);
    return ids;
  }

  /** Number of rows the filter matches. */
  countMatching(filter: PointFilter): number {
    return this.#select(filter);
  }

  /**
   * The best `k` rows within the filter by dot product (float32 arithmetic), best first, ties
   * by id ascending. `query` must have `dimension` elements.
   */
  nearest(query: Float32Array, filter: PointFilter, k: number): MatrixHit[] {
    const count = this.#select(filter);
    if (count === 0) return [];
    this.#query.set(query);
    const layout = this.#layout;
    this.#kernel.scoreRows(0, layout.query, layout.rows, count, this.dimension, layout.scores);
    const top = new TopHits(Math.min(k, count), this.#ids);
    const rows = this.#rows;
    const scores = this.#scores;
    for (let i = 0; i < count; i++) {
      const score = scores[i] as number;
      // Most rows lose to the worst kept hit; skip the call for them.
      if (score >= top.threshold) top.offer(rows[i] as number, score);
    }
    return top.sorted().map((hit) => ({ id: this.#ids[hit.row] as string, score: hit.score }));
  }

  /** Fills the rows scratch area with the rows the filter matches; returns how many. */
  #select(filter: PointFilter): number {
    const excluded = new Set<number>();
    for (const id of filter.excludeIds ?? []) {
      const row = this.#rowOf.get(id);
      if (row !== undefined) excluded.add(row);
    }
    // Written out rather than spread: a spread object is slower to read in the scan's hot loop.
    const c = this.#columns;
    const columns: FilterColumns = {
      tenant: c.tenant,
      source: c.source,
      createdAt: c.createdAt,
      shareStart: c.shareStart,
      shareCount: c.shareCount,
      shares: this.#shares.columns,
    };
    const rowFilter = new RowFilter(filter, columns, this.#codes, excluded);
    return rowFilter.collect(this.#size, this.#rows);
  }

  /** The row of `id`, appending a new one (growing if full) when it has none. */
  #rowFor(id: string): number {
    const existing = this.#rowOf.get(id);
    if (existing !== undefined) return existing;
    if (this.#size === this.#capacity) this.#grow();
    const row = this.#size++;
    // A reused slot may still hold a removed row's share count; the new row has none yet.
    this.#columns.shareCount[row] = 0;
    this.#rowOf.set(id, row);
    this.#ids[row] = id;
    return row;
  }

  #writeFields(row: number, fields: RowFields): void {
    const c = this.#columns;
    const codes = this.#codes;
    c.tenant[row] = codes.intern(fields.tenant);
    c.source[row] = codes.intern(fields.source);
    c.createdAt[row] = fields.createdAtMs;
    this.#shares.write(row, c, fields.shares, codes);
  }

  /** Doubles the room (the matrix stays in place; the scratch areas move past it). */
  #grow(): void {
    const capacity = Math.min(this.#capacity * 2, this.maxRows);
    if (capacity === this.#capacity) {
      throw new StoreError(
        'store_failed',
        `The embedded store holds at most ${this.maxRows} vectors of ${this.dimension} numbers ` +
          '(4 GiB of memory). Use Qdrant for a collection this large (set QDRANT_URL).',
      );
    }
    const layout = layoutFor(capacity, this.dimension);
    const pages = Math.ceil(layout.total / KERNEL_PAGE_BYTES);
    const current = this.#kernel.memory.buffer.byteLength / KERNEL_PAGE_BYTES;
    try {
      if (pages > current) this.#kernel.memory.grow(pages - current);
    } catch (error) {
      throw new StoreError(
        'store_failed',
        `There is not enough memory to hold ${capacity} vectors of ${this.dimension} numbers. ` +
          'Give findimage more memory or use Qdrant (set QDRANT_URL).',
        { cause: error },
      );
    }
    const old = this.#columns;
    const columns = VectorMatrix.#allocateColumns(capacity);
    columns.tenant.set(old.tenant);
    columns.source.set(old.source);
    columns.createdAt.set(old.createdAt);
    columns.shareStart.set(old.shareStart);
    columns.shareCount.set(old.shareCount);
    this.#columns = columns;
    this.#capacity = capacity;
    this.#layout = layout;
    this.#makeViews();
  }

  #makeViews(): void {
    const buffer = this.#kernel.memory.buffer;
    const layout = this.#layout;
    this.#data = new Float32Array(buffer, 0, this.#capacity * this.dimension);
    this.#bytes = new Uint8Array(buffer, 0, this.#capacity * this.dimension * 4);
    this.#query = new Float32Array(buffer, layout.query, this.dimension);
    this.#rows = new Int32Array(buffer, layout.rows, this.#capacity);
    this.#scores = new Float32Array(buffer, layout.scores, this.#capacity);
  }

  static #allocateColumns(capacity: number): RowColumns {
    return {
      tenant: new Uint32Array(capacity),
      source: new Uint32Array(capacity),
      createdAt: new Float64Array(capacity),
      shareStart: new Uint32Array(capacity),
      shareCount: new Uint32Array(capacity),
    };
  }
}
