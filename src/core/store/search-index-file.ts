// The life of the embedded store's in-memory index beside its database: loaded from the saved
// block when that matches the database, rebuilt from SQLite (with progress) when not, and saved
// again on close and after enough writes. store-snapshot.ts holds the block's format. Each save
// first groups the rows by tenant and conversation (row-order.ts), so the block holds them so.
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { SearchTuning } from './search-planner.js';
import { loadPoints, type PointStatements } from './sqlite-points-table.js';
import {
  loadSnapshot,
  snapshotPathFor,
  writeSnapshot,
  type SnapshotMark,
} from './store-snapshot.js';
import type { VectorMatrix } from './vector-matrix.js';

/** How far a rebuild of the in-memory index from the database has come. */
export interface RebuildProgress {
  /** Points read so far. */
  done: number;
  /** Points in the database. */
  total: number;
}

/** Rebuild progress is reported every this many points. */
const PROGRESS_EVERY = 10_000;

/** What a SearchIndexFile works with. */
export interface SearchIndexFileOptions {
  /** Path of the database; the block sits beside it. */
  databasePath: string;
  /** The open database. */
  db: Database.Database;
  /** Its prepared statements. */
  statements: PointStatements;
  /** Vector length. */
  dimension: number;
  /** Save thresholds (saveMinRows, saveAfterChanges). */
  tuning: SearchTuning;
  /** Where rebuilds and save failures are logged. */
  logger: Logger;
  /** Shows rebuild progress (a bar); without it, progress is logged in tenths. */
  onProgress: ((progress: RebuildProgress) => void) | undefined;
}

export class SearchIndexFile {
  readonly #options: SearchIndexFileOptions;
  readonly #path: string;
  /** Generation of the database that the saved index block matches (-1: none saved). */
  #savedGeneration = -1;
  /** Points written or deleted since the block was saved. */
  #changes = 0;

  constructor(options: SearchIndexFileOptions) {
    this.#options = options;
    this.#path = snapshotPathFor(options.databasePath);
  }

  /**
   * Fills an empty matrix: from the saved block if it matches `mark` (this.mark(), read after
   * the caller noted the database's data version), else from the database.
   */
  open(matrix: VectorMatrix, mark: SnapshotMark = this.mark()): void {
    const why = loadSnapshot(this.#path, mark, matrix);
    if (why === undefined) {
      this.#savedGeneration = mark.generation;
      return;
    }
    const { logger, databasePath, tuning } = this.#options;
    if (mark.rows >= tuning.saveMinRows) {
      logger.info(
        { path: databasePath, reason: why },
        'rebuilding the search index from the database',
      );
    }
    this.rebuild(matrix);
    this.save(matrix, true);
  }

  /** What a saved index block must match: this database, at this generation and row count. */
  mark(): SnapshotMark {
    const { storeId, generation, countAll } = this.#options.statements;
    // One read transaction, so the three agree with each other.
    return this.#options.db.transaction(() => ({
      storeId: storeId.get() as string,
      generation: generation.get() as number,
      rows: countAll.get() as number,
      dimension: this.#options.dimension,
    }))();
  }

  /**
   * Counts written or deleted points, saving the block once there are enough; `inStep`: no other
   * process has written since the matrix was last in step with the file.
   */
  changed(points: number, matrix: VectorMatrix, inStep: boolean): void {
    this.#changes += points;
    if (this.#changes >= this.#options.tuning.saveAfterChanges) this.save(matrix, inStep);
  }

  /**
   * Saves the in-memory index as a block beside the database, if it is in step with the file
   * and the file changed since the last save. A failure is logged, never thrown: the database
   * stays the store of record.
   */
  save(matrix: VectorMatrix, inStep: boolean): void {
    const { logger, databasePath, tuning } = this.#options;
    try {
      if (!inStep) return;
      const mark = this.mark();
      if (mark.generation === this.#savedGeneration || mark.rows < tuning.saveMinRows) return;
      const started = performance.now();
      // Saved (and kept) grouped by conversation: a reopen from the block reads that order.
      const regrouped = matrix.regroup();
      const { arrays, extras } = matrix.snapshot();
      writeSnapshot(this.#path, mark, arrays, extras);
      this.#savedGeneration = mark.generation;
      this.#changes = 0;
      logger.debug(
        { path: databasePath, ms: Math.round(performance.now() - started), regrouped },
        'search index saved',
      );
    } catch (error) {
      logger.warn(
        { path: databasePath, err: error },
        'could not save the search index; the next open rebuilds it from the database',
      );
    }
  }

  /** Refills the matrix from the database, skipping (and logging) rows that cannot be used. */
  rebuild(matrix: VectorMatrix): void {
    const { statements, logger, databasePath: path, tuning, onProgress } = this.#options;
    matrix.clear();
    const bytes = this.#options.dimension * 4;
    const total = statements.countAll.get() as number;
    let done = 0;
    // Logged in tenths when no one shows a bar, and only for stores big enough to take a while.
    const logEvery = Math.ceil(total / 10 / PROGRESS_EVERY) * PROGRESS_EVERY;
    const report = (): void => {
      if (onProgress !== undefined) onProgress({ done, total });
      else if (total >= tuning.saveMinRows && (done % logEvery === 0 || done === total)) {
        logger.info({ path, done, total }, 'rebuilding the search index');
      }
    };
    for (const { id, fields, vector, rowid } of loadPoints(statements)) {
      done += 1;
      if (done % PROGRESS_EVERY === 0) report();
      if (vector.length !== bytes) {
        logger.warn({ id, bytes: vector.length }, 'skipping a point with a wrongly sized vector');
        continue;
      }
      matrix.upsertBytes(id, vector, fields, rowid);
    }
    if (done % PROGRESS_EVERY !== 0 && total > 0) report();
    matrix.maintainIndex();
  }
}
