// Re-indexing on Qdrant (`findimage reindex --model X`): build a new collection for model X
// beside the live one, let the caller re-embed every point into it from the original images,
// then move the alias to it in one atomic request. A checkpoint names the new collection and
// the cursor, so an interrupted run resumes into the same collection.
import type { Logger } from '../../../logger.js';
import { StoreError } from '../../errors.js';
import {
  migrateStore,
  readMigrationCheckpoint,
  removeMigrationCheckpoint,
  writeMigrationCheckpoint,
  type MigrationProgress,
  type PointTransform,
} from '../store-migration.js';
import {
  checkCollection,
  collectionExists,
  collectionNameFor,
  createCollection,
  DEFAULT_COLLECTION_PREFIX,
  readCollectionFacts,
  resolveAlias,
  type CollectionSpec,
} from './collection-setup.js';
import { layoutOf, type ClusterLayout } from './cluster-layout.js';
import { QdrantConnection, type QdrantConnectionOptions } from './qdrant-connection.js';
import { QdrantStore } from './qdrant-store.js';
import { DEFAULT_RETRY_POLICY, STARTUP_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

/** Checkpoint job names of re-indexing start with this, followed by the target collection. */
export const REINDEX_JOB_PREFIX = 'reindex into ';

export interface QdrantReindexOptions extends QdrantConnectionOptions, ClusterLayout {
  /** The model to re-index into. */
  modelId: string;
  /** Its vector length. */
  dimension: number;
  /** QDRANT_ON_DISK for the new collection. */
  onDisk: boolean;
  /** QDRANT_QUANTIZATION=int8 for the new collection. */
  quantization: boolean;
  /** The alias and collection prefix (default "findimage"). */
  collectionPrefix?: string;
  /** Checkpoint file of this re-index (for example <data dir>/reindex.checkpoint.json). */
  checkpointPath: string;
  /** Retry policy while connecting (default STARTUP_RETRY_POLICY). */
  startupRetry?: RetryPolicy;
  /** Points per upsert request into the new collection. */
  upsertBatchSize?: number;
}

/** A re-index under way: read from `source`, write into `target`, then commit(). */
export interface QdrantReindexPlan {
  /** The live collection to walk; undefined when the alias does not exist yet. */
  source: QdrantStore | undefined;
  /** The new collection for the model. */
  target: QdrantStore;
  /** The checkpoint job name, to pass to migrateStore. */
  job: string;
  /** Whether this continues an earlier, interrupted run. */
  resumed: boolean;
  /** Moves the alias to the target in one request, then removes the checkpoint. */
  commit(): Promise<void>;
  /** Releases the connection (the stores stop working). */
  close(): Promise<void>;
}

/** A name for a new collection when `base` is taken: the base and the UTC time, to the second. */
function stampedName(base: string, now: Date): string {
  return `${base}_${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * Connects, finds the live collection, and makes (or, from the checkpoint, finds again) the
 * target collection for the model, with its indexes. Nothing moves until commit().
 */
export async function prepareQdrantReindex(options: QdrantReindexOptions): Promise<QdrantReindexPlan> {
  const logger: Logger = options.logger.child({ component: 'qdrant-reindex' });
  const connection = new QdrantConnection({ ...options, logger, retry: options.startupRetry ?? STARTUP_RETRY_POLICY });
  try {
    await connection.serverVersion();
    const alias = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
    const spec: CollectionSpec = {
      modelId: options.modelId,
      dimension: options.dimension,
      onDisk: options.onDisk,
      quantization: options.quantization,
      layout: layoutOf(options),
    };
    const live = await resolveAlias(connection, alias);
    let target: string | undefined;
    let resumed = false;

    const saved = await readMigrationCheckpoint(options.checkpointPath);
    if (saved !== undefined) {
      if (!saved.job.startsWith(REINDEX_JOB_PREFIX)) {
        throw new StoreError(
          'store_failed',
          `The checkpoint ${options.checkpointPath} belongs to another job ("${saved.job}"). Finish it, or delete the file.`,
        );
      }
      const named = saved.job.slice(REINDEX_JOB_PREFIX.length);
      if (named === live) {
        // The last run moved the alias and stopped before removing its checkpoint: it is done.
        const facts = await checkCollection(connection, named, spec, logger, alias);
        await removeMigrationCheckpoint(options.checkpointPath);
        logger.info({ alias, collection: named }, 're-index was already complete');
        return {
          source: undefined,
          target: new QdrantStore({ connection, logger, ownsConnection: false, collection: facts }),
          job: saved.job,
          resumed: true,
          async commit() {},
          async close() {
            connection.close();
          },
        };
      }
      if (await collectionExists(connection, named)) {
        target = named;
        resumed = true;
      } else {
        logger.warn({ checkpoint: options.checkpointPath, collection: named }, 'stale re-index checkpoint ignored');
        await removeMigrationCheckpoint(options.checkpointPath);
      }
    }

    let facts;
    if (target !== undefined) {
      facts = await checkCollection(connection, target, spec, logger);
    } else {
      const base = collectionNameFor(alias, spec.modelId);
      target = base !== live && !(await collectionExists(connection, base)) ? base : stampedName(base, new Date());
      facts = await createCollection(connection, target, spec, logger);
      await writeMigrationCheckpoint(options.checkpointPath, {
        version: 1,
        job: `${REINDEX_JOB_PREFIX}${target}`,
        cursor: null,
        read: 0,
        written: 0,
        done: false,
        updatedAt: new Date().toISOString(),
      });
    }
    connection.retryPolicy = options.retry ?? DEFAULT_RETRY_POLICY;
    const parts = { connection, logger, ownsConnection: false, upsertBatchSize: options.upsertBatchSize };
    const source = live === undefined ? undefined : new QdrantStore({ ...parts, collection: await readCollectionFacts(connection, live) });
    const targetStore = new QdrantStore({ ...parts, collection: facts });
    const targetName = target;
    logger.info({ alias, from: live, to: targetName, resumed }, 're-index prepared');

    return {
      source,
      target: targetStore,
      job: `${REINDEX_JOB_PREFIX}${targetName}`,
      resumed,
      async commit() {
        const actions =
          live === undefined
            ? [{ create_alias: { collection_name: targetName, alias_name: alias } }]
            : [{ delete_alias: { alias_name: alias } }, { create_alias: { collection_name: targetName, alias_name: alias } }];
        await connection.call(`move the alias ${alias} to ${targetName}`, (c) => c.updateCollectionAliases({ actions }));
        await removeMigrationCheckpoint(options.checkpointPath);
        logger.info(
          { alias, collection: targetName, previous: live },
          live === undefined ? 'alias created' : `alias moved; the previous collection ${live} is kept until you delete it`,
        );
      },
      async close() {
        connection.close();
      },
    };
  } catch (error) {
    connection.close();
    throw error;
  }
}

export interface ReindexQdrantOptions extends QdrantReindexOptions {
  /** Re-embeds a batch of points of the live collection from their original images. */
  reembed: PointTransform;
  /** Points per batch (default DEFAULT_MIGRATION_BATCH_SIZE). */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (progress: MigrationProgress) => void;
  /** Aborting stops after the current batch; run again to resume. */
  signal?: AbortSignal;
}

export interface ReindexResult {
  /** The collection the alias now names. */
  collection: string;
  /** The collection it named before, kept; undefined if there was none. */
  previous: string | undefined;
  /** Points read from the live collection, over every run. */
  read: number;
  /** Points written to the new collection, over every run. */
  written: number;
  /** Whether this run continued an interrupted one. */
  resumed: boolean;
}

/**
 * The whole re-index: prepare, re-embed every point of the live collection into the new one
 * (resumable), move the alias. What `findimage reindex --model X` calls on Qdrant.
 */
export async function reindexQdrant(options: ReindexQdrantOptions): Promise<ReindexResult> {
  const plan = await prepareQdrantReindex(options);
  try {
    let read = 0;
    let written = 0;
    if (plan.source !== undefined) {
      const result = await migrateStore({
        from: plan.source,
        to: plan.target,
        checkpointPath: options.checkpointPath,
        job: plan.job,
        transform: options.reembed,
        keepCheckpoint: true,
        batchSize: options.batchSize,
        onProgress: options.onProgress,
        signal: options.signal,
        logger: options.logger,
      });
      ({ read, written } = result);
    }
    await plan.commit();
    return { collection: plan.target.collection, previous: plan.source?.collection, read, written, resumed: plan.resumed };
  } finally {
    await plan.close();
  }
}
