// Copies every point of one VectorStore into another, batch by batch in id order: as they are
// (`findimage migrate`, no re-embedding) or through a transform (`findimage reindex` re-embeds).
// After each batch the cursor goes to a checkpoint file, so an interrupted run resumes there.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../logger.js';
import { FindimageError, StoreError } from '../errors.js';
import { MAX_SCROLL_PAGE } from './point-validation.js';
import type { PointInput, StoredPoint, VectorStore } from './vector-store.js';

/**
 * Points per batch: one scroll page and one upsert. 256 points of 512 floats are 0.5 MB of
 * vectors in memory, and a batch lost to a crash costs only a second or so to redo.
 */
export const DEFAULT_MIGRATION_BATCH_SIZE = 256;

/** Job name of a plain copy; re-indexing names its own. */
export const COPY_JOB = 'copy';

/** Checkpoint file format version. */
const CHECKPOINT_VERSION = 1;

/** Where a migration stands; written to the checkpoint file after every batch. */
export interface MigrationCheckpoint {
  version: typeof CHECKPOINT_VERSION;
  /** What this checkpoint is for ("copy", "reindex into findimage_x"); another job refuses it. */
  job: string;
  /** The source's cursor for the next batch; null before the first batch and when done. */
  cursor: string | null;
  /** Points read from the source so far, over every run. */
  read: number;
  /** Points written to the target so far, over every run. */
  written: number;
  /** Whether every batch is written. */
  done: boolean;
  /** When this was written, ISO 8601. */
  updatedAt: string;
}

/** Progress after each batch. */
export interface MigrationProgress {
  /** Points read from the source so far (earlier runs included). */
  read: number;
  /** Points written to the target so far (a transform may skip some). */
  written: number;
  /** Points in the source when this run started. */
  total: number;
  /** Whether this run continued from a checkpoint. */
  resumed: boolean;
  /** Whether the last batch is written. */
  done: boolean;
}

/** Turns read points into points to write: re-embedding, or dropping what cannot be redone. */
export type PointTransform = (points: StoredPoint[]) => Promise<PointInput[]>;

export interface MigrateStoreOptions {
  /** The store to walk (it is only read). */
  from: VectorStore;
  /** The store to write into; points with the same ids are replaced. */
  to: VectorStore;
  /** The checkpoint file; its folder is created if missing. */
  checkpointPath: string;
  /** Points per batch (default DEFAULT_MIGRATION_BATCH_SIZE, at most MAX_SCROLL_PAGE). */
  batchSize?: number;
  /** Called after every batch (and once for an empty source). */
  onProgress?: (progress: MigrationProgress) => void;
  /** Aborting stops before the next batch; the checkpoint then says where to resume. */
  signal?: AbortSignal;
  /** Default: copy each point's vector and payload unchanged (the dimensions must match). */
  transform?: PointTransform;
  /** Name recorded in the checkpoint (default COPY_JOB). */
  job?: string;
  /**
   * Leave the checkpoint, marked done, when finished (re-indexing removes it only once the alias
   * has moved). By default it is removed.
   */
  keepCheckpoint?: boolean;
  /** Start, resume and completion are logged here. */
  logger: Logger;
}

export interface MigrationResult {
  /** Points read from the source, over every run. */
  read: number;
  /** Points written to the target, over every run. */
  written: number;
  /** Whether this run continued from a checkpoint. */
  resumed: boolean;
  /** Batches written by this run. */
  batches: number;
}

/** Reads a checkpoint; undefined when there is none. A damaged one is an error, not a restart. */
export async function readMigrationCheckpoint(path: string): Promise<MigrationCheckpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError('store_unwritable', `Cannot read the migration checkpoint ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw damaged(path, 'it is not JSON', error);
  }
  const c = parsed as Partial<MigrationCheckpoint>;
  if (
    c === null ||
    typeof c !== 'object' ||
    c.version !== CHECKPOINT_VERSION ||
    typeof c.job !== 'string' ||
    !(c.cursor === null || typeof c.cursor === 'string') ||
    !Number.isInteger(c.read) ||
    !Number.isInteger(c.written) ||
    typeof c.done !== 'boolean'
  ) {
    throw damaged(path, 'it is not a findimage migration checkpoint');
  }
  return c as MigrationCheckpoint;
}

function damaged(path: string, why: string, cause?: unknown): StoreError {
  return new StoreError(
    'store_failed',
    `The migration checkpoint ${path} is damaged (${why}). Delete it to start the migration over; points already copied are simply written again.`,
    { cause, details: { path } },
  );
}

/** Writes a checkpoint so that a crash leaves the old one or the new one, never half of one. */
export async function writeMigrationCheckpoint(path: string, checkpoint: MigrationCheckpoint): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    const file = await open(temp, 'w');
    try {
      await file.writeFile(`${JSON.stringify(checkpoint, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    throw new StoreError('store_unwritable', `Cannot write the migration checkpoint ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
}

/** Removes a checkpoint (nothing happens if it is already gone). */
export async function removeMigrationCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The default transform: each point as it is, vector and payload. */
function copyPoints(points: StoredPoint[]): Promise<PointInput[]> {
  return Promise.resolve(
    points.map((p) => {
      if (p.vector === undefined) {
        throw new StoreError('store_failed', `The source store returned point ${p.id} without its vector, so it cannot be copied.`);
      }
      return { id: p.id, vector: p.vector, payload: p.payload };
    }),
  );
}

/**
 * Copies every point of `from` into `to`, resuming from `checkpointPath` when it holds a
 * checkpoint of the same job. Points written twice (after a crash) are simply replaced.
 */
export async function migrateStore(options: MigrateStoreOptions): Promise<MigrationResult> {
  const { from, to, checkpointPath, signal, logger } = options;
  const job = options.job ?? COPY_JOB;
  const batchSize = options.batchSize ?? DEFAULT_MIGRATION_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_SCROLL_PAGE) {
    throw new StoreError('store_failed', `The migration batch size must be a whole number from 1 to ${MAX_SCROLL_PAGE}, not ${batchSize}.`);
  }
  if (options.transform === undefined && from.dimension !== to.dimension) {
    throw new StoreError(
      'store_schema_mismatch',
      `Cannot copy ${from.dimension}-number vectors into a store of ${to.dimension}-number vectors: they come from ` +
        'different models. Use `findimage reindex --model <id>` to re-embed instead.',
      { details: { from: from.dimension, to: to.dimension } },
    );
  }
  const transform = options.transform ?? copyPoints;

  const saved = await readMigrationCheckpoint(checkpointPath);
  if (saved !== undefined && saved.job !== job) {
    throw new StoreError(
      'store_failed',
      `The checkpoint ${checkpointPath} belongs to another migration ("${saved.job}", not "${job}"). ` +
        'Finish that one, or delete the file to start this one.',
      { details: { path: checkpointPath, found: saved.job, job } },
    );
  }
  const resumed = saved !== undefined && (saved.read > 0 || saved.done);
  const state: MigrationCheckpoint = saved ?? {
    version: CHECKPOINT_VERSION,
    job,
    cursor: null,
    read: 0,
    written: 0,
    done: false,
    updatedAt: new Date().toISOString(),
  };
  const total = await from.count();
  const report = (): void =>
    options.onProgress?.({ read: state.read, written: state.written, total, resumed, done: state.done });
  if (resumed) logger.info({ job, read: state.read, total }, 'resuming migration from its checkpoint');

  let batches = 0;
  while (!state.done) {
    if (signal?.aborted === true) {
      throw new FindimageError(
        'aborted',
        `Migration stopped after ${state.read} of ${total} points; run it again to continue from there.`,
        { details: { path: checkpointPath, read: state.read } },
      );
    }
    const page = await from.scroll({ cursor: state.cursor ?? undefined, limit: batchSize });
    const points = await transform(page.points);
    if (points.length > 0) await to.upsert(points);
    state.read += page.points.length;
    state.written += points.length;
    state.cursor = page.nextCursor ?? null;
    state.done = page.nextCursor === undefined;
    state.updatedAt = new Date().toISOString();
    await writeMigrationCheckpoint(checkpointPath, state);
    batches += 1;
    logger.debug({ job, read: state.read, written: state.written, total }, 'migration batch written');
    report();
  }
  if (batches === 0) report();
  if (options.keepCheckpoint !== true) await removeMigrationCheckpoint(checkpointPath);
  logger.info({ job, read: state.read, written: state.written, batches }, 'migration done');
  return { read: state.read, written: state.written, resumed, batches };
}
