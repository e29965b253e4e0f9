// Every row of a store in memory for search: int8 codes (code-rows.ts, scanned by the SIMD
// kernel) with their filter fields in parallel typed arrays and their shares in a typed-array
// arena, so that a scan touches no object per row. The float32 vectors stay in SQLite; a search
// re-scores from them every row the codes cannot rule out (exact-rerank.ts), so answers are exact.
import { CodeRows, maxRowsFor } from './code-rows.js';
import { rerankExactly } from './exact-rerank.js';
import { RowFilter, type FilterColumns } from './point-filter.js';
import { encodeQuery } from './quantized-codes.js';
import { ShareArena, type ShareFields } from './share-arena.js';
import { StringCodes } from './string-codes.js';
import type { PointFilter } from './vector-store.js';

export { maxRowsFor } from './code-rows.js';

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
type RowColumns = Omit<FilterColumns, 'shares'> & {
  /** SQLite rowid of each row's point (where its float32 vector is), or -1 when unknown. */
  rowid: Float64Array;
};

/** One result of nearest(). */
export interface MatrixHit {
  /** Id of the point. */
  id: string;
  /** Dot product with the query (cosine similarity for unit vectors). */
  score: number;
}

/** A row whose float32 vector a search needs: its point id and where SQLite keeps it. */
export interface RowRef {
  /** Point id. */
  id: string;
  /** SQLite rowid last seen for the point, or -1 when unknown. */
  rowid: number;
}

/**
 * Reads the float32 vectors of these points from the store of record, in the order given;
 * undefined for a point that is gone.
 */
export type VectorReader = (rows: readonly RowRef[]) => (Float32Array | undefined)[];

export class VectorMatrix {
  /** Length of every row. */
  readonly dimension: number;
  /** Most rows this matrix can ever hold. */
  readonly maxRows: number;
  readonly #rows: CodeRows;
  #size = 0;
  #columns: RowColumns;
  readonly #shares = new ShareArena();
  #ids: string[] = [];
  readonly #rowOf = new Map<string, number>();
  readonly #strings = new StringCodes();

  /** An empty matrix with room for at least `capacity` rows before it first grows. */
  constructor(dimension: number, capacity = INITIAL_CAPACITY) {
    this.dimension = dimension;
    this.maxRows = maxRowsFor(dimension);
    const rows = Math.min(Math.max(INITIAL_CAPACITY, capacity), this.maxRows);
    this.#rows = new CodeRows(dimension, rows);
    this.#columns = VectorMatrix.#allocateColumns(this.#rows.capacity);
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

  /** Inserts a row, or overwrites the row with the same id; `rowid` is where SQLite keeps it. */
  upsert(id: string, vector: Float32Array, fields: RowFields, rowid = -1): void {
    const row = this.#rowFor(id);
    this.#rows.write(row, vector);
    this.#columns.rowid[row] = rowid;
    this.#writeFields(row, fields);
  }

  /** Like upsert(), with the vector as little-endian float32 bytes (a SQLite BLOB). */
  upsertBytes(id: string, bytes: Uint8Array, fields: RowFields, rowid = -1): void {
    const row = this.#rowFor(id);
    this.#rows.writeBytes(row, bytes);
    this.#columns.rowid[row] = rowid;
    this.#writeFields(row, fields);
  }

  /**
   * Replaces the shares of an existing row (after addShares or removeShares); returns whether
   * the row exists.
   */
  setShares(id: string, shares: readonly ShareFields[]): boolean {
    const row = this.#rowOf.get(id);
    if (row === undefined) return false;
    this.#shares.write(row, this.#columns, shares, this.#strings);
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
      this.#rows.move(last, row);
      c.tenant[row] = c.tenant[last] as number;
      c.source[row] = c.source[last] as number;
      c.createdAt[row] = c.createdAt[last] as number;
      c.shareStart[row] = c.shareStart[last] as number;
      c.shareCount[row] = c.shareCount[last] as number;
      c.rowid[row] = c.rowid[last] as number;
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
    this.#strings.clear();
    this.#shares.clear();
  }

  /** Ids of the rows the filter matches, in row order. */
  idsMatching(filter: PointFilter): string[] {
    const count = this.#select(filter);
    const ids: string[] = [];
    const rows = this.#rows.rows;
    for (let i = 0; i < count; i++) ids.push(this.#ids[rows[i] as number] as string);
    return ids;
  }

  /** Number of rows the filter matches. */
  countMatching(filter: PointFilter): number {
    return this.#select(filter);
  }

  /**
   * The best `k` rows within the filter by dot product, best first, ties by id ascending: an
   * int8 scan of every matching row, then exact scores from `read` for the rows it cannot rule
   * out. `query` must have `dimension` elements.
   */
  nearest(query: Float32Array, filter: PointFilter, k: number, read: VectorReader): MatrixHit[] {
    const count = this.#select(filter);
    if (count === 0) return [];
    const rows = this.#rows;
    const coded = encodeQuery(query, rows.stride);
    rows.scan(coded, count);
    const ids = this.#ids;
    const rowids = this.#columns.rowid;
    const exactScores = (batch: readonly number[]): Float64Array => {
      const refs = batch.map((row) => ({ id: ids[row] as string, rowid: rowids[row] as number }));
      const vectors = read(refs);
      const scores = new Float64Array(batch.length);
      vectors.forEach((vector, j) => {
        if (vector === undefined) {
          scores[j] = Number.NaN;
          return;
        }
        let sum = 0;
        for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) * (query[i] as number);
        scores[j] = sum;
      });
      return scores;
    };
    const hits = rerankExactly(
      { rows: rows.rows, scores: rows.out, count },
      coded,
      rows,
      Math.min(k, count),
      ids,
      exactScores,
    );
    return hits.map((hit) => ({ id: ids[hit.row] as string, score: hit.score }));
  }

  /** Fills the rows scratch area with the rows the filter matches; returns how many. */
  #select(filter: PointFilter): number {
    return this.#compile(filter).collect(this.#size, this.#rows.rows);
  }

  /** The filter as a row test over the current columns. */
  #compile(filter: PointFilter): RowFilter {
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
    return new RowFilter(filter, columns, this.#strings, excluded);
  }

  /** The row of `id`, appending a new one (growing if full) when it has none. */
  #rowFor(id: string): number {
    const existing = this.#rowOf.get(id);
    if (existing !== undefined) return existing;
    if (this.#size === this.#rows.capacity) this.#grow();
    const row = this.#size++;
    // A reused slot may still hold a removed row's share count; the new row has none yet.
    this.#columns.shareCount[row] = 0;
    this.#rowOf.set(id, row);
    this.#ids[row] = id;
    return row;
  }

  #writeFields(row: number, fields: RowFields): void {
    const c = this.#columns;
    const strings = this.#strings;
    c.tenant[row] = strings.intern(fields.tenant);
    c.source[row] = strings.intern(fields.source);
    c.createdAt[row] = fields.createdAtMs;
    this.#shares.write(row, c, fields.shares, strings);
  }

  /** Doubles the room. */
  #grow(): void {
    this.#rows.grow(this.#size + 1);
    const capacity = this.#rows.capacity;
    const old = this.#columns;
    const columns = VectorMatrix.#allocateColumns(capacity);
    for (const key of Object.keys(columns) as (keyof RowColumns)[]) {
      (columns[key] as Float64Array).set(old[key] as Float64Array);
    }
    this.#columns = columns;
  }

  static #allocateColumns(capacity: number): RowColumns {
    return {
      tenant: new Uint32Array(capacity),
      source: new Uint32Array(capacity),
      createdAt: new Float64Array(capacity),
      shareStart: new Uint32Array(capacity),
      shareCount: new Uint32Array(capacity),
      rowid: new Float64Array(capacity),
    };
  }
}
