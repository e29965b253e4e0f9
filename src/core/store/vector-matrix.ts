// Every row of a store in memory for search: int8 codes (code-rows.ts, scanned by the SIMD
// kernel) with their filter fields in parallel typed arrays and their shares in a typed-array
// arena, so that a scan touches no object per row. The float32 vectors stay in SQLite; a search
// re-scores from them every row the codes cannot rule out (exact-rerank.ts), so answers are exact.
import { CodeRows, maxRowsFor } from './code-rows.js';
import { ConversationRows } from './conversation-rows.js';
import { exactScorer, rerankExactly } from './exact-rerank.js';
import {
  allocateRowColumns,
  arraysOver,
  cutShares,
  grownRowColumns,
  wholeShares,
  RowIds,
  type MatrixHit,
  type RowColumns,
  type RowFields,
  type VectorReader,
} from './matrix-rows.js';
import { RowFilter, type FilterColumns } from './point-filter.js';
import { PartitionIndex } from './partition-index.js';
import { encodeQuery, type CodedQuery } from './quantized-codes.js';
import { groupedOrder, permuteValues, RowGrouping, type GroupColumns } from './row-order.js';
import {
  choosePath,
  DEFAULT_SEARCH_TUNING,
  FilterTallies,
  listsFor,
  probeTarget,
  type SearchTuning,
} from './search-planner.js';
import type { MatrixArrays, MatrixExtras } from './matrix-snapshot.js';
import { ShareArena, type ShareFields } from './share-arena.js';
import { StringCodes } from './string-codes.js';
import type { PointFilter } from './vector-store.js';

export { maxRowsFor } from './code-rows.js';
export type { MatrixHit, RowFields, RowRef, VectorReader } from './matrix-rows.js';

/** Rows allocated before the first growth; doubling from here keeps appends amortised O(1). */
const INITIAL_CAPACITY = 1024;

/** The index is retrained (with more lists) once the rows have grown this many times over. */
const RETRAIN_GROWTH = 4;

export class VectorMatrix {
  /** Length of every row. */
  readonly dimension: number;
  /** Most rows this matrix can ever hold. */
  readonly maxRows: number;
  readonly #rows: CodeRows;
  #size = 0;
  #columns: RowColumns;
  readonly #shares = new ShareArena();
  readonly #ids = new RowIds();
  /** Codes of tenants, sources, conversations and uploaders: few, needed by every query. */
  readonly #strings = new StringCodes();
  /**
   * Codes of message and file ids: about one per share, used only by writes and by deletions'
   * filters, so kept apart and built lazily after a restore (millions of strings at 1M rows).
   */
  readonly #idCodes = new StringCodes();
  readonly #tallies = new FilterTallies();
  /** Rows per conversation, for filters scoped to a few (dropped on every change). */
  readonly #byConversation = new ConversationRows();
  readonly #tuning: SearchTuning;
  #index: PartitionIndex | null = null;
  /** Rows when the index was last trained. */
  #trainedAt = 0;
  /** Which rows the next regroup sorts. */
  readonly #grouping = new RowGrouping();
  readonly #scratch: Float32Array;

  /** An empty matrix with room for at least `capacity` rows before it first grows. */
  constructor(
    dimension: number,
    capacity = INITIAL_CAPACITY,
    tuning: SearchTuning = DEFAULT_SEARCH_TUNING,
  ) {
    this.dimension = dimension;
    this.#tuning = tuning;
    this.#scratch = new Float32Array(dimension);
    this.maxRows = maxRowsFor(dimension);
    const rows = Math.min(Math.max(INITIAL_CAPACITY, capacity), this.maxRows);
    this.#rows = new CodeRows(dimension, rows, tuning.scanThreads, tuning.parallelScanMinRows);
    this.#columns = allocateRowColumns(this.#rows.capacity);
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
    return this.#ids.rowOf(id) !== undefined;
  }

  /** Lists in the partition index, or 0 while there is none (too few rows). */
  get indexLists(): number {
    return this.#index?.lists ?? 0;
  }

  /** Inserts a row, or overwrites the row with the same id; `rowid` is where SQLite keeps it. */
  upsert(id: string, vector: Float32Array, fields: RowFields, rowid = -1): void {
    const existing = this.#ids.rowOf(id);
    if (existing !== undefined) this.#tally(existing, -1);
    const row = this.#rowFor(id);
    this.#rows.write(row, vector);
    this.#columns.rowid[row] = rowid;
    this.#writeFields(row, fields);
    this.#tally(row, 1);
    this.#index?.place(row, this.#index.nearestList(vector));
  }

  /** Like upsert(), with the vector as little-endian float32 bytes (a SQLite BLOB). */
  upsertBytes(id: string, bytes: Uint8Array, fields: RowFields, rowid = -1): void {
    // Copied bytewise: a Buffer's offset need not be 4-byte aligned for a Float32Array view.
    new Uint8Array(this.#scratch.buffer).set(bytes);
    this.upsert(id, this.#scratch, fields, rowid);
  }

  /**
   * Trains the partition index once there are enough rows, and again with more lists as they
   * grow; a no-op otherwise. Call after a batch of writes, not per row.
   */
  maintainIndex(): void {
    const size = this.#size;
    const tuning = this.#tuning;
    if (size < tuning.indexMinRows) return;
    const lists = listsFor(size, tuning);
    if (this.#index !== null) {
      if (lists <= this.#index.lists || size < this.#trainedAt * RETRAIN_GROWTH) return;
    }
    this.#index = PartitionIndex.build(this.#rows, size, lists);
    this.#trainedAt = size;
  }

  /**
   * Puts the rows in tenant and first-conversation order (row-order.ts), so that the int8
   * kernel reads a conversation's rows in sequence; does nothing when they nearly are already.
   * Returns whether rows moved. Called before the index is saved, so that the saved file and a
   * reopen from it are in that order too. Answers do not change, only the speed of scoped scans.
   */
  regroup(): boolean {
    const size = this.#size;
    const c = this.#columns;
    const groups = this.#groupColumns();
    const from = this.#grouping.firstToSort(groups, size);
    const order = groupedOrder(groups, size, this.#strings.size, from);
    if (order === null) {
      this.#grouping.settle(groups, from, size, false);
      return false;
    }
    this.#rows.permute(order);
    permuteValues(c.tenant, order);
    permuteValues(c.source, order);
    permuteValues(c.createdAt, order);
    permuteValues(c.shareStart, order);
    permuteValues(c.shareCount, order);
    permuteValues(c.rowid, order);
    this.#ids.permute(order);
    this.#index?.permute(order);
    // The shares follow their rows, so that a walk of every row's shares stays in sequence.
    this.#shares.pack(size, c);
    this.#byConversation.invalidate();
    this.#grouping.settle(this.#groupColumns(), from, size, true);
    return true;
  }

  /** What rows are grouped by; valid until the next write (packing replaces the shares). */
  #groupColumns(): GroupColumns {
    // Written out rather than spread: a spread object is slower to read in the sort's loops.
    const c = this.#columns;
    return {
      tenant: c.tenant,
      shareStart: c.shareStart,
      shareCount: c.shareCount,
      conversation: this.#shares.columns.conversation,
    };
  }

  /** Views of every array over the current rows, for saving; valid until the next change. */
  snapshot(): { arrays: MatrixArrays; extras: MatrixExtras } {
    const size = this.#size;
    const shares = cutShares(this.#shares.columns, this.#shares.slotsInUse);
    const listOf = this.#index?.listsOf(size) ?? new Int32Array(0);
    const arrays = arraysOver(this.#rows, this.#columns, size, shares, listOf);
    const extras: MatrixExtras = {
      rows: size,
      slots: this.#shares.slotsInUse,
      strings: this.#strings.values(),
      shareIds: () => this.#idCodes.values(),
      ids: this.#ids.ids.slice(0, size),
      centroids: this.#index?.centroids ?? new Float32Array(0),
      trainedAt: this.#trainedAt,
    };
    return { arrays, extras };
  }

  /**
   * Empties the matrix and makes room for a saved index of `rows` rows, `slots` share slots and
   * `lists` lists; returns the arrays to read it into, then call finishRestore().
   */
  beginRestore(rows: number, slots: number, lists: number): MatrixArrays {
    this.clear();
    this.#rows.grow(rows);
    if (this.#columns.tenant.length < this.#rows.capacity) {
      this.#columns = allocateRowColumns(this.#rows.capacity);
    }
    const shares = cutShares(ShareArena.allocate(slots), slots);
    const listOf = new Int32Array(lists > 0 ? rows : 0);
    return arraysOver(this.#rows, this.#columns, rows, shares, listOf);
  }

  /**
   * During a restore of `rows` rows: starts reading their codes from `fd` at `position` on the
   * scan threads, returning the function that finishes the read; null when there are no threads
   * or the codes are too few for them to help (parallelReadMinBytes).
   */
  beginCodeRead(fd: number, position: number, rows: number): (() => void) | null {
    if (rows * this.#rows.stride < this.#tuning.parallelReadMinBytes) return null;
    return this.#rows.beginCodeRead(fd, position, rows);
  }

  /** Completes a restore from the arrays beginRestore() gave, once they are filled. */
  finishRestore(arrays: MatrixArrays, extras: MatrixExtras): void {
    const { rows } = extras;
    this.#size = rows;
    // The norms and residuals were read straight into their arrays.
    this.#rows.forgetMaxima();
    this.#ids.restore(extras.ids);
    this.#strings.restore(extras.strings);
    this.#idCodes.restoreLater(extras.shareIds);
    let live = 0;
    for (let row = 0; row < rows; row++) live += arrays.shareCount[row] as number;
    this.#shares.restore(wholeShares(arrays.shares), extras.slots, live);
    this.#grouping.restored(this.#groupColumns(), rows);
    for (let row = 0; row < rows; row++) this.#tally(row, 1);
    if (extras.centroids.length > 0) {
      const index = new PartitionIndex(this.dimension, extras.centroids, rows);
      index.placeAll(arrays.listOf, rows);
      this.#index = index;
      this.#trainedAt = extras.trainedAt;
    }
  }

  /**
   * Replaces the shares of an existing row (after addShares or removeShares); returns whether
   * the row exists.
   */
  setShares(id: string, shares: readonly ShareFields[]): boolean {
    const row = this.#ids.rowOf(id);
    if (row === undefined) return false;
    this.#tally(row, -1);
    this.#shares.write(row, this.#columns, shares, this.#strings, this.#idCodes);
    this.#tally(row, 1);
    this.#shares.compactIfWasteful(this.#size, this.#columns);
    return true;
  }

  /** Removes a row by moving the last row into its place; returns whether it existed. */
  remove(id: string): boolean {
    const row = this.#ids.rowOf(id);
    if (row === undefined) return false;
    const last = this.#size - 1;
    const c = this.#columns;
    this.#tally(row, -1);
    this.#shares.release(c.shareCount[row] as number);
    this.#index?.detach(row);
    if (row !== last) {
      this.#index?.move(last, row);
      this.#rows.move(last, row);
      c.tenant[row] = c.tenant[last] as number;
      c.source[row] = c.source[last] as number;
      c.createdAt[row] = c.createdAt[last] as number;
      c.shareStart[row] = c.shareStart[last] as number;
      c.shareCount[row] = c.shareCount[last] as number;
      c.rowid[row] = c.rowid[last] as number;
    }
    this.#ids.remove(id, row);
    this.#size = last;
    this.#shares.compactIfWasteful(this.#size, c);
    return true;
  }

  /** Stops the scan threads, if any (the matrix still answers, on one thread). */
  async close(): Promise<void> {
    await this.#rows.close();
  }

  /** Threads ready to share a long scan, the caller's included. */
  get scanThreads(): number {
    return this.#rows.scanThreads;
  }

  /** Removes every row and forgets every string code; keeps the allocated room. */
  clear(): void {
    this.#size = 0;
    this.#ids.clear();
    this.#strings.clear();
    this.#idCodes.clear();
    this.#shares.clear();
    this.#tallies.clear();
    this.#byConversation.invalidate();
    this.#index = null;
    this.#trainedAt = 0;
    this.#grouping.reset();
  }

  /** Ids of the rows the filter matches, in row order. */
  idsMatching(filter: PointFilter): string[] {
    const count = this.#select(filter);
    const ids: string[] = [];
    const rows = this.#rows.rows;
    for (let i = 0; i < count; i++) ids.push(this.#ids.ids[rows[i] as number] as string);
    return ids;
  }

  /** Number of rows the filter matches. */
  countMatching(filter: PointFilter): number {
    return this.#select(filter);
  }

  /**
   * The best `k` rows within the filter by dot product, best first, ties by id ascending, with
   * exact scores from `read`. Exact (`exact`, a small store or a selective filter): an int8 scan
   * of every matching row, then exact scores for the rows it cannot rule out. Otherwise the same
   * over the matching rows of the partition lists nearest the query. `query` must have
   * `dimension` elements.
   */
  nearest(
    query: Float32Array,
    filter: PointFilter,
    k: number,
    read: VectorReader,
    exact = true,
  ): MatrixHit[] {
    const rows = this.#rows;
    const coded = encodeQuery(query, rows.stride);
    const estimate = this.#tallies.estimate(filter, this.#strings);
    const listed = (filter.scope?.conversations ?? filter.share?.conversations) !== undefined;
    const indexed = this.#index !== null;
    const path = choosePath(this.#size, estimate, indexed, exact, this.#tuning, listed);
    const count =
      path === 'exact' ? this.#select(filter) : this.#probe(coded, filter, estimate);
    if (count === 0) return [];
    rows.scan(coded, count);
    const ids = this.#ids.ids;
    const exactScores = exactScorer(query, read, ids, this.#columns.rowid);
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

  /**
   * Fills the rows scratch area with the matching rows of the lists nearest the query, list by
   * list, until enough are found; returns how many.
   */
  #probe(query: CodedQuery, filter: PointFilter, estimate: number): number {
    const rowFilter = this.#compile(filter);
    if (rowFilter.matchesNothing) return 0;
    const target = probeTarget(estimate, this.#tuning);
    const { probeMargin, maxProbeShare } = this.#tuning;
    const most = Math.ceil(this.#size * maxProbeShare);
    const index = this.#index as PartitionIndex;
    const out = this.#rows.rows;
    const found = index.collect(query, rowFilter, target, probeMargin, most, out);
    if (found >= 0) return found;
    // The exact fallback. A filter that is its tenant alone, when that tenant owns every row,
    // matches every row: listing them skips a test per row (about 9 ms of a 1M scan).
    if (this.#matchesEveryRow(filter)) {
      for (let row = 0; row < this.#size; row++) out[row] = row;
      return this.#size;
    }
    return rowFilter.collect(this.#size, out);
  }

  /** Whether `filter` is a tenant alone (nothing else narrows it) owning every row. */
  #matchesEveryRow(filter: PointFilter): boolean {
    const { tenant, scope, share, sources, after, before, excludeIds, ...rest } = filter;
    const narrowed =
      scope !== undefined ||
      share !== undefined ||
      sources !== undefined ||
      after !== undefined ||
      before !== undefined ||
      (excludeIds !== undefined && excludeIds.length > 0) ||
      Object.keys(rest).length > 0;
    return !narrowed && this.#tallies.rowsOf(this.#strings.lookup(tenant)) === this.#size;
  }

  /**
   * Counts row `row` in the planner's tallies (sign 1), or takes it out before it changes or
   * goes (sign -1); either way the conversation lists are dropped.
   */
  #tally(row: number, sign: 1 | -1): void {
    this.#byConversation.invalidate();
    const c = this.#columns;
    this.#tallies.tallyRow(c.tenant[row] as number, sign);
    const start = c.shareStart[row] as number;
    this.#tallies.tallyShares(this.#shares.columns, start, c.shareCount[row] as number, sign);
  }

  /** Fills the rows scratch area with the rows the filter matches; returns how many. */
  #select(filter: PointFilter): number {
    const rowFilter = this.#compile(filter);
    const out = this.#rows.rows;
    const columns = this.#filterColumns();
    const strings = this.#strings;
    const found = this.#byConversation.collect(filter, rowFilter, strings, this.#size, columns, out);
    return found >= 0 ? found : rowFilter.collect(this.#size, out);
  }

  /** The filter as a row test over the current columns. */
  #compile(filter: PointFilter): RowFilter {
    const excluded = new Set<number>();
    for (const id of filter.excludeIds ?? []) {
      const row = this.#ids.rowOf(id);
      if (row !== undefined) excluded.add(row);
    }
    return new RowFilter(filter, this.#filterColumns(), this.#strings, this.#idCodes, excluded);
  }

  /** The columns a filter reads; valid until the next write. */
  #filterColumns(): FilterColumns {
    // Written out rather than spread: a spread object is slower to read in the scan's hot loop.
    const c = this.#columns;
    return {
      tenant: c.tenant,
      source: c.source,
      createdAt: c.createdAt,
      shareStart: c.shareStart,
      shareCount: c.shareCount,
      shares: this.#shares.columns,
    };
  }

  /** The row of `id`, appending a new one (growing if full) when it has none. */
  #rowFor(id: string): number {
    const existing = this.#ids.rowOf(id);
    if (existing !== undefined) return existing;
    if (this.#size === this.#rows.capacity) this.#grow();
    const row = this.#size++;
    // A reused slot may still hold a removed row's share count; the new row has none yet.
    this.#columns.shareCount[row] = 0;
    this.#ids.add(id, row);
    return row;
  }

  #writeFields(row: number, fields: RowFields): void {
    const c = this.#columns;
    const strings = this.#strings;
    c.tenant[row] = strings.intern(fields.tenant);
    c.source[row] = strings.intern(fields.source);
    c.createdAt[row] = fields.createdAtMs;
    this.#shares.write(row, c, fields.shares, strings, this.#idCodes);
  }

  /** Doubles the room. */
  #grow(): void {
    this.#rows.grow(this.#size + 1);
    const capacity = this.#rows.capacity;
    this.#columns = grownRowColumns(this.#columns, capacity);
  }
}
