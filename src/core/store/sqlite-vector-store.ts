// The default, embedded VectorStore: SQLite (better-sqlite3) is the store of record, and every
// vector is also kept in memory as int8 codes in a VectorMatrix, whose scan is re-scored from
// the float32 vectors in the file wherever the codes cannot decide, so answers stay exact.
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { StoreError } from '../errors.js';
import { openDatabase } from '../sqlite/open-database.js';
import { inPointScope, mergeShares, shareMeets, withConversationPublic } from './image-shares.js';
import {
  checkFilter,
  checkPoints,
  checkPrivacyChange,
  checkQueryWindow,
  checkScrollLimit,
  checkShareRemoval,
  checkShares,
  checkVector,
  pointScopeFilter,
} from './point-validation.js';
import {
  PAGE_SIZE_BYTES,
  readVectors,
  vectorOf,
  prepareFile,
  prepareStatements,
  type PointStatements,
} from './sqlite-points-table.js';
import { DEFAULT_SEARCH_TUNING, type SearchTuning } from './search-planner.js';
import { SearchIndexFile, type RebuildProgress } from './search-index-file.js';

export type { RebuildProgress } from './search-index-file.js';
import { sqliteFailure } from './sqlite-failure.js';
import { VectorMatrix, type RowFields, type RowRef } from './vector-matrix.js';
import type {
  GetOptions,
  ImagePayload,
  ImageShare,
  PointFilter,
  PointInput,
  PointScope,
  QueryOptions,
  ScoredPoint,
  ScrollPage,
  ShareFilter,
  SharesRemoved,
  StoredPoint,
  StoreStats,
  VectorStore,
} from './vector-store.js';

export interface SqliteVectorStoreOptions {
  /** Path of the database file; its folder is created if missing. */
  path: string;
  /** Length of the vectors; a file made for another length refuses to open. */
  dimension: number;
  /** Where open, reload and failure messages go. */
  logger: Logger;
  /**
   * Search knobs (index size threshold, planner threshold, probe depth); the defaults are
   * measured ones. Tests force the index on small data with a low indexMinRows.
   */
  search?: Partial<SearchTuning>;
  /**
   * Called while the in-memory index is rebuilt from the database (no saved index, or a stale
   * or damaged one), every few thousand points: the CLI shows a bar. Without it, the rebuild
   * logs its progress.
   */
  onRebuildProgress?: (progress: RebuildProgress) => void;
}


function rowFieldsOf(payload: ImagePayload): RowFields {
  return {
    tenant: payload.tenant,
    source: payload.source,
    createdAtMs: Date.parse(payload.createdAt),
    shares: payload.shares,
  };
}

/** Opens (creating if needed) the store at `options.path`. */
export async function openSqliteVectorStore(
  options: SqliteVectorStoreOptions,
): Promise<SqliteVectorStore> {
  return SqliteVectorStore.open(options);
}

export class SqliteVectorStore implements VectorStore {
  readonly dimension: number;
  /** Absolute path of the database file. */
  readonly path: string;
  readonly #logger: Logger;
  #db: Database.Database | null;
  #matrix: VectorMatrix | null;
  /** PRAGMA data_version when the matrix was last in step with the file. */
  #dataVersion = 0;
  readonly #statements: PointStatements;

  readonly #indexFile: SearchIndexFile;

  private constructor(
    path: string,
    dimension: number,
    db: Database.Database,
    logger: Logger,
    options: SqliteVectorStoreOptions,
  ) {
    this.path = path;
    this.dimension = dimension;
    this.#db = db;
    this.#logger = logger;
    const tuning = { ...DEFAULT_SEARCH_TUNING, ...options.search };
    this.#statements = prepareStatements(db);
    this.#indexFile = new SearchIndexFile({
      databasePath: path,
      db,
      statements: this.#statements,
      dimension,
      tuning,
      logger,
      onProgress: options.onRebuildProgress,
    });
    // Read the version first: a commit landing during the load then shows up as a change.
    this.#dataVersion = this.#statements.dataVersion.get() as number;
    // One count of the rows serves both the matrix's room and the block's check: count(*) walks
    // a whole B-tree (about 60 ms at 1M points).
    const mark = this.#indexFile.mark();
    this.#matrix = new VectorMatrix(dimension, mark.rows, tuning);
    this.#indexFile.open(this.#matrix, mark);
  }

  /** Lists of the partition index, or 0 while the store answers every query exactly. */
  get indexLists(): number {
    return this.#matrix?.indexLists ?? 0;
  }

  /** Threads ready to share a long scan of the codes, the caller's included (1 once closed). */
  get scanThreads(): number {
    return this.#matrix?.scanThreads ?? 1;
  }

  /** Opens synchronously; openSqliteVectorStore() is the same behind a promise. */
  static open(options: SqliteVectorStoreOptions): SqliteVectorStore {
    if (!Number.isInteger(options.dimension) || options.dimension < 1) {
      throw new StoreError(
        'vector_invalid',
        `A vector store needs a whole-number dimension of at least 1, not ${options.dimension}.`,
      );
    }
    const path = resolve(options.path);
    const logger = options.logger.child({ component: 'sqlite-store' });
    let db: Database.Database | undefined;
    try {
      db = openDatabase(path, { what: 'vector store', pageSizeBytes: PAGE_SIZE_BYTES });
      prepareFile(db, path, options.dimension);
      const started = performance.now();
      const store = new SqliteVectorStore(path, options.dimension, db, logger, options);
      logger.info(
        { path, points: store.#matrix?.size, ms: Math.round(performance.now() - started) },
        'vector store opened',
      );
      return store;
    } catch (error) {
      db?.close();
      throw sqliteFailure(path, 'opening', error);
    }
  }

  async upsert(points: readonly PointInput[]): Promise<void> {
    checkPoints(points, this.dimension);
    const { db, matrix } = this.#open();
    if (points.length === 0) return;
    const added = new Set(points.map((p) => p.id).filter((id) => !matrix.has(id))).size;
    if (added > matrix.room) {
      // Refused before writing, so that the file never holds points the matrix cannot.
      throw new StoreError(
        'store_failed',
        `The embedded store holds at most ${matrix.maxRows} vectors ` +
          `of ${this.dimension} numbers. ` +
          'Use Qdrant for a collection this large (set QDRANT_URL).',
      );
    }
    const { insert } = this.#statements;
    const rowids: number[] = [];
    try {
      // One transaction for the batch: all of it is durable when commit returns, or none of it.
      db.transaction(() => {
        this.#statements.bumpGeneration.run();
        for (const { id, vector, payload } of points) {
          const { lastInsertRowid } = insert.run(
            id,
            payload.tenant,
            payload.source,
            payload.modelId,
            Date.parse(payload.createdAt),
            JSON.stringify(payload),
            Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
          );
          rowids.push(Number(lastInsertRowid));
        }
      }).immediate();
    } catch (error) {
      throw sqliteFailure(this.path, 'writing points', error);
    }
    points.forEach(({ id, vector, payload }, i) => {
      matrix.upsert(id, vector, rowFieldsOf(payload), rowids[i]);
    });
    matrix.maintainIndex();
    this.#changed(points.length);
  }

  async query(vector: Float32Array, options: QueryOptions): Promise<ScoredPoint[]> {
    checkVector(vector, this.dimension, 'The query vector');
    checkFilter(options.filter);
    const offset = options.offset ?? 0;
    checkQueryWindow(options.limit, offset);
    const { matrix } = this.#open();
    this.#sync();
    // The re-rank reads each candidate's payload with its vector (one statement a batch): the
    // hits' payloads are then at hand, and only a hit scored without a read is fetched after.
    const payloadJson = new Map<string, string>();
    const read = (refs: readonly RowRef[]): (Float32Array | undefined)[] =>
      readVectors(this.#statements, refs, this.dimension, payloadJson);
    const hits = this.#read('reading vectors', () =>
      matrix.nearest(vector, options.filter, offset + options.limit, read, options.exact === true),
    ).slice(offset);
    const unread = hits.map((hit) => hit.id).filter((id) => !payloadJson.has(id));
    const fetched = this.#read('reading points', () => this.#fetch(unread, false));
    const payloads = new Map(fetched.map((point) => [point.id, point.payload]));
    const results: ScoredPoint[] = [];
    for (const hit of hits) {
      const json = payloadJson.get(hit.id);
      const payload =
        json === undefined ? payloads.get(hit.id) : (JSON.parse(json) as ImagePayload);
      if (payload !== undefined) results.push({ id: hit.id, score: hit.score, payload });
    }
    return results;
  }

  async get(ids: readonly string[], options: GetOptions): Promise<StoredPoint[]> {
    const scope = pointScopeFilter(options);
    this.#open();
    if (ids.length === 0) return [];
    // Checked on the payloads read from the file, the store of record, rather than the
    // in-memory rows: those may first need a reload after another process wrote, which a
    // lookup by id (the indexer's, between two indexers' writes) should not pay for.
    return this.#read('reading points', () =>
      this.#fetch(ids, options.withVector === true).filter((point) => inPointScope(point.payload, scope)),
    );
  }

  async delete(ids: readonly string[], scope: PointScope): Promise<number> {
    const filter = pointScopeFilter(scope);
    const { db, matrix } = this.#open();
    const unique = [...new Set(ids)];
    if (unique.length === 0) return 0;
    const { payloadOf, deleteOne } = this.#statements;
    const deleted: string[] = [];
    try {
      // Each payload is checked under the write lock it is deleted in.
      db.transaction(() => {
        this.#statements.bumpGeneration.run();
        for (const id of unique) {
          const json = payloadOf.get(id) as string | undefined;
          if (json === undefined || !inPointScope(JSON.parse(json) as ImagePayload, filter)) continue;
          deleteOne.run(id);
          deleted.push(id);
        }
      }).immediate();
    } catch (error) {
      throw sqliteFailure(this.path, 'deleting points', error);
    }
    for (const id of deleted) matrix.remove(id);
    this.#changed(deleted.length);
    return deleted.length;
  }

  async deleteByFilter(filter: PointFilter): Promise<number> {
    checkFilter(filter);
    const { db, matrix } = this.#open();
    const { deleteOne } = this.#statements;
    let ids: string[] = [];
    let removed = 0;
    try {
      // The write lock is taken first, so no other process can add a matching point between
      // choosing the ids and deleting them.
      db.transaction(() => {
        this.#statements.bumpGeneration.run();
        this.#sync();
        ids = matrix.idsMatching(filter);
        for (const id of ids) removed += deleteOne.run(id).changes;
      }).immediate();
    } catch (error) {
      throw sqliteFailure(this.path, 'deleting points', error);
    }
    for (const id of ids) matrix.remove(id);
    this.#changed(removed);
    return removed;
  }

  async addShares(tenant: string, id: string, shares: readonly ImageShare[]): Promise<boolean> {
    checkFilter({ tenant });
    checkShares(shares, `The new shares of point ${id}`);
    const { db, matrix } = this.#open();
    const { payloadOf, updatePayload } = this.#statements;
    let merged: ImageShare[] | undefined;
    try {
      // Read, merge and write under the write lock, so that two processes adding shares to
      // the same image at once both keep theirs.
      db.transaction(() => {
        this.#statements.bumpGeneration.run();
        this.#sync();
        const json = payloadOf.get(id) as string | undefined;
        if (json === undefined) return;
        const payload = JSON.parse(json) as ImagePayload;
        if (payload.tenant !== tenant) return;
        merged = mergeShares(payload.shares, shares);
        updatePayload.run(JSON.stringify({ ...payload, shares: merged }), id);
      }).immediate();
    } catch (error) {
      throw sqliteFailure(this.path, 'adding shares', error);
    }
    if (merged === undefined) return false;
    matrix.setShares(id, merged);
    this.#changed(1);
    return true;
  }

  async removeShares(filter: PointFilter & { share: ShareFilter }): Promise<SharesRemoved> {
    checkShareRemoval(filter);
    const { db, matrix } = this.#open();
    const { payloadOf, updatePayload, deleteOne } = this.#statements;
    const kept = new Map<string, ImageShare[]>();
    const deleted: string[] = [];
    let removedShares = 0;
    try {
      // Like deleteByFilter: the points are chosen under the write lock they are changed in.
      db.transaction(() => {
        this.#statements.bumpGeneration.run();
        this.#sync();
        for (const id of matrix.idsMatching(filter)) {
          const json = payloadOf.get(id) as string | undefined;
          if (json === undefined) continue;
          const payload = JSON.parse(json) as ImagePayload;
          const left = payload.shares.filter((share) => !shareMeets(share, filter));
          if (left.length === 0) {
            deleteOne.run(id);
            deleted.push(id);
          } else {
            removedShares += payload.shares.length - left.length;
            updatePayload.run(JSON.stringify({ ...payload, shares: left }), id);
            kept.set(id, left);
          }
        }
      }).immediate();
    } catch (error) {
      throw sqliteFailure(this.path, 'removing shares', error);
    }
    for (const id of deleted) matrix.remove(id);
    for (const [id, shares] of kept) matrix.setShares(id, shares);
    this.#changed(deleted.length + kept.size);
    return { shares: removedShares, points: deleted.length };
  }

  async setSharesPublic(tenant: string, conversation: string, isPublic: boolean): Promise<number> {
    checkPrivacyChange(tenant, conversation, isPublic);
    const { db, matrix } = this.#open();
    const { payloadOf, updatePayload } = this.#statements;
    const updated = new Map<string, readonly ImageShare[]>();
    let changed = 0;
    try {
      // Like removeShares: the points are chosen under the write lock they are changed in, so a
      // share another process adds to the conversation meanwhile is either seen or comes after.
      db.transaction(() => {
        this.#statements.bumpGeneration.run();
        this.#sync();
        for (const id of matrix.idsMatching({ tenant, share: { conversations: [conversation] } })) {
          const json = payloadOf.get(id) as string | undefined;
          if (json === undefined) continue;
          const payload = JSON.parse(json) as ImagePayload;
          const result = withConversationPublic(payload.shares, conversation, isPublic);
          if (result.changed === 0) continue;
          changed += result.changed;
          updatePayload.run(JSON.stringify({ ...payload, shares: result.shares }), id);
          updated.set(id, result.shares);
        }
      }).immediate();
    } catch (error) {
      throw sqliteFailure(this.path, 'changing whether shares are public', error);
    }
    // The matrix's share arena is what filters read: updated here, the next query sees the flag.
    for (const [id, shares] of updated) matrix.setShares(id, shares);
    this.#changed(updated.size);
    return changed;
  }

  async count(filter?: PointFilter): Promise<number> {
    if (filter !== undefined) checkFilter(filter);
    const { matrix } = this.#open();
    this.#sync();
    return filter === undefined ? matrix.size : matrix.countMatching(filter);
  }

  async stats(): Promise<StoreStats> {
    this.#open();
    const { countAll, countBySource, countByModel } = this.#statements;
    return this.#read('counting points', () => {
      const total = countAll.get() as number;
      const bySource: Record<string, number> = {};
      for (const [source, n] of countBySource.all() as [string, number][]) bySource[source] = n;
      const byModel: Record<string, number> = {};
      for (const [model, n] of countByModel.all() as [string, number][]) byModel[model] = n;
      return { total, bySource, byModel };
    });
  }

  async scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage> {
    checkScrollLimit(options.limit);
    this.#open();
    const rows = this.#read(
      'reading points',
      () =>
        this.#statements.scroll.all(options.cursor ?? '', options.limit + 1) as {
          id: string;
          payload: string;
          vector: Buffer;
        }[],
    );
    const page = rows.slice(0, options.limit);
    const points = page.map((row) => ({
      id: row.id,
      payload: JSON.parse(row.payload) as ImagePayload,
      vector: vectorOf(row.vector),
    }));
    const last = page.at(-1);
    return rows.length > options.limit && last !== undefined
      ? { points, nextCursor: last.id }
      : { points };
  }

  async close(): Promise<void> {
    if (this.#db === null || this.#matrix === null) return;
    this.#indexFile.save(this.#matrix, this.#inStep());
    const db = this.#db;
    const matrix = this.#matrix;
    this.#db = null;
    this.#matrix = null;
    db.close();
    await matrix.close();
    this.#logger.debug({ path: this.path }, 'vector store closed');
  }

  /** The open database and matrix, or StoreError after close(). */
  #open(): { db: Database.Database; matrix: VectorMatrix } {
    if (this.#db === null || this.#matrix === null) {
      throw new StoreError('store_failed', `The vector store ${this.path} is closed.`);
    }
    return { db: this.#db, matrix: this.#matrix };
  }

  /** Runs a read, turning SQLite errors into StoreErrors. */
  #read<T>(doing: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw sqliteFailure(this.path, doing, error);
    }
  }

  /** Points with these ids, in the order given, once each; missing ids are skipped. */
  #fetch(ids: readonly string[], withVector: boolean): StoredPoint[] {
    if (ids.length === 0) return [];
    const statement = withVector ? this.#statements.getWithVector : this.#statements.get;
    const rows = statement.all(JSON.stringify(ids)) as {
      id: string;
      payload: string;
      vector?: Buffer;
    }[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    const points: StoredPoint[] = [];
    for (const id of new Set(ids)) {
      const row = byId.get(id);
      if (row === undefined) continue;
      const point: StoredPoint = { id, payload: JSON.parse(row.payload) as ImagePayload };
      if (row.vector !== undefined) point.vector = vectorOf(row.vector);
      points.push(point);
    }
    return points;
  }

  /**
   * Reloads the matrix if another connection (another findimage process on the same file) has
   * committed since the last look. PRAGMA data_version changes only for other connections'
   * commits, so this process's own writes never cause a reload.
   */
  #sync(): void {
    const { dataVersion } = this.#statements;
    const version = this.#read('checking for changes', () => dataVersion.get() as number);
    if (version === this.#dataVersion) return;
    this.#logger.debug({ path: this.path }, 'store changed by another process; reloading');
    this.#reload();
  }

  /**
   * Refills the matrix after another process wrote to the file: from the block it saved, when
   * that matches (a CLI run that closed), else from the database.
   */
  #reload(): void {
    const { matrix } = this.#open();
    // Read the version first: a commit landing during the load then shows up as a change.
    this.#dataVersion = this.#statements.dataVersion.get() as number;
    matrix.clear();
    this.#indexFile.open(matrix);
  }

  /** Whether no other connection has committed since the matrix was last in step. */
  #inStep(): boolean {
    return (this.#statements.dataVersion.get() as number) === this.#dataVersion;
  }

  /** Counts written or deleted points, saving the index block once there are enough. */
  #changed(points: number): void {
    const { matrix } = this.#open();
    this.#indexFile.changed(points, matrix, this.#inStep());
  }
}
