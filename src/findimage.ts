// The composition root: builds the model, the worker pool, the store and the services from a
// Config. The CLI and every bot get their core objects from openFindimage() and nowhere else.
// The Qdrant client and sharp are imported only when configured or first needed, so a one-shot
// `findimage search` on the embedded store never loads them (issue 11's cold searches).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { SearchSessions } from './core/conversations/search-sessions.js';
import { ConversationPrivacy } from './core/conversations/conversation-privacy.js';
import { ShareDeletions } from './core/conversations/share-deletions.js';
import type { ShareUpdate } from './core/conversations/share-updates.js';
import { ClipEmbedder } from './core/embedding/clip-embedder.js';
import type { Embedder, EmbeddingRuntime, PreparedImage } from './core/embedding/embedder.js';
import { LabelFeedback } from './core/evaluation/label-feedback.js';
import { openCoordination, type Coordination } from './core/fleet/coordination.js';
import type { FleetIndexing } from './core/fleet/fleet-indexing.js';
import { ImageIndexer } from './core/indexing/image-indexer.js';
import { UploadQueue } from './core/indexing/upload-queue.js';
import type { DownloadProgressListener } from './core/models/download-progress.js';
import type { LabelStore } from './core/labels/label-store.js';
import { ReconnectingLabelStore } from './core/labels/reconnecting-label-store.js';
import { openSqliteLabelStore } from './core/labels/sqlite-label-store.js';
import { familyOf, textTowerSettings } from './core/models/model-family.js';
import { precisionAdvice } from './core/models/precision-advice.js';
import { locateModelFiles } from './core/models/model-locator.js';
import { findModelSpec } from './core/models/registered-models.js';
import type { ModelSpec } from './core/models/model-spec.js';
import { SearchService } from './core/search/search-service.js';
import { STARTUP_RETRY_POLICY, type RetryPolicy } from './core/store/qdrant/retry-policy.js';
import { ReconnectingStore } from './core/store/reconnecting-store.js';
import { openSqliteVectorStore } from './core/store/sqlite-vector-store.js';
import type { VectorStore } from './core/store/vector-store.js';
import { PromptTemplates } from './core/text/prompt-templates.js';
import { AdaptedEmbedder } from './core/tuning/adapted-embedder.js';
import { checkAdapterFits } from './core/tuning/adapter-file.js';
import { createEmbeddingPool, type EmbeddingPoolStats } from './gpu-worker/embedding-pool.js';
import type { Tower } from './gpu-worker/messages.js';

/** Everything a front end (CLI or bot) may call. */
export interface Findimage {
  readonly model: ModelSpec;
  /** The model's own embedder: no query adapter (what `findimage tune` learns from). */
  readonly embedder: Embedder;
  readonly store: VectorStore;
  readonly indexer: ImageIndexer;
  readonly uploads: UploadQueue;
  readonly search: SearchService;
  /** Queries, result messages and relevance labels (they also steer repeated questions). */
  readonly labels: LabelStore;
  /** Search conversations: searches, pages, votes and shares, for every chat platform and the web. */
  readonly sessions: SearchSessions;
  /** Records deleted messages, files and conversations, for the upload queue to take out of the index. */
  readonly deletions: ShareDeletions;
  /** Makes a conversation's images private or public when its platform says it changed. */
  readonly privacy: ConversationPrivacy;
  /**
   * Fleet mode (REDIS_URL): the index queue in Redis that uploads are handed to once they are on
   * disk here; undefined on one machine, where `indexer` indexes them in this process.
   */
  readonly fleet?: FleetIndexing;
  /** State shared with the other processes: in Redis for a fleet (REDIS_URL), else local. */
  readonly coordination: Coordination;
  /** The embedding worker pool's counters (queue lengths by lane, tasks in flight), for /metrics. */
  embeddingStats(): EmbeddingPoolStats;
  /** Content claims this process has taken (in a fleet; 0 where the claims do not count them), for /metrics. */
  claimsTaken(): number;
  /** Decodes and preprocesses image bytes for this model (throws InvalidImageError). */
  prepareImage(bytes: Uint8Array): Promise<PreparedImage>;
  /** Stops the queue, the workers and the store. */
  close(): Promise<void>;
}

export interface OpenFindimageOptions {
  config: Config;
  logger: Logger;
  /** Told as model bytes arrive on the first run (the CLI draws a progress bar). */
  onDownloadProgress?: DownloadProgressListener;
  /**
   * A model to run instead of the registry's entry for config.model: for `npm run bench`, whose
   * random ViT-B/32-shaped files cannot match the pinned sha256 of the real model.
   */
  model?: ModelSpec;
  /**
   * "wait": fail if the store cannot be opened (CLI commands). "background": start anyway and
   * keep connecting (serve), so uploads are queued while Qdrant is down. Default "wait".
   */
  storeConnection?: 'wait' | 'background';
  /** Told after every embedding, by tower (the web app's metrics count them). */
  onEmbedded?: EmbeddedListener;
  /**
   * The towers a one-shot command uses (search: text; similar and index: vision). Only these
   * load at start, any other on first use, and no worker is reserved for searches: nothing else
   * competes for the pool. Absent: both towers and the configured search workers, warm, as a
   * server wants them.
   */
  towers?: readonly Tower[];
  /**
   * Whether the model's sessions pack their weights at load: worth it for many batches (serve,
   * index), not for the one batch of a one-shot search. Default true.
   */
  prepackWeights?: boolean;
}

/**
 * Told after each embedding computed: "text" for a query, "vision" for an image, with the seconds
 * from asking the worker pool to its answer (queue wait and batching included).
 */
export type EmbeddedListener = (tower: 'text' | 'vision', seconds: number) => void;

/** `runtime`, telling `listener` after each embedding it returns and how long it took. */
function countingRuntime(runtime: EmbeddingRuntime, listener: EmbeddedListener): EmbeddingRuntime {
  return {
    embedTokens: async (ids, options) => {
      const started = performance.now();
      const vector = await runtime.embedTokens(ids, options);
      listener('text', (performance.now() - started) / 1000);
      return vector;
    },
    embedPixels: async (pixels, options) => {
      const started = performance.now();
      const vector = await runtime.embedPixels(pixels, options);
      listener('vision', (performance.now() - started) / 1000);
      return vector;
    },
    close: () => runtime.close(),
  };
}

/** Store file of a model under FINDIMAGE_DATA: one file per model, so models never mix. */
export function embeddedStorePath(dataDir: string, modelId: string): string {
  return join(dataDir, 'store', `${modelId}.sqlite`);
}

/** A model ready to embed: what indexing needs without a store (re-indexing, benches). */
export interface OpenedEmbedding {
  embedder: Embedder;
  /** The worker pool's counters. */
  stats(): EmbeddingPoolStats;
  prepareImage(bytes: Uint8Array): Promise<PreparedImage>;
}

/**
 * Locates (downloading on first use) and loads a model: tokenizer, prompt templates and the
 * worker pool. The caller closes `embedder`.
 */
export async function openEmbedding(options: {
  config: Config;
  logger: Logger;
  model: ModelSpec;
  onDownloadProgress?: DownloadProgressListener;
  onEmbedded?: EmbeddedListener;
  /** See OpenFindimageOptions.towers. */
  towers?: readonly Tower[];
  /** See OpenFindimageOptions.prepackWeights. */
  prepackWeights?: boolean;
  /** Told once the worker threads have started loading the model (EmbeddingPoolOptions.onWorkersStarted). */
  onWorkersStarted?: () => void;
}): Promise<OpenedEmbedding> {
  const { config, logger, model } = options;
  if (model.developmentOnly) {
    logger.info({ model: model.id }, 'this model has random weights: results rank at random (development only)');
  }
  const files = await locateModelFiles(model, {
    modelDir: config.modelDir,
    cacheDir: config.cacheDir,
    baseUrl: config.modelBaseUrl,
    retryDelayMs: config.modelRetryDelayMs,
    logger: logger.child({ component: 'models' }),
    onProgress: options.onDownloadProgress,
  });
  const family = familyOf(model);
  const templates = new PromptTemplates(config.promptTemplates, family.normalizeQuery);
  // The workers load the model in their threads while this one reads the tokenizer: on a cold
  // start the two overlap instead of adding up.
  const starting = createEmbeddingPool({
    textModelPath: files.textModel,
    visionModelPath: files.visionModel,
    text: textTowerSettings(family, model.text),
    vision: model.vision,
    dimension: model.dimension,
    device: config.device,
    workers: config.workers,
    // Fast-loading copies of the graphs, beside the downloads they are made from.
    graphCacheDir: join(config.cacheDir, 'graphs'),
    ...(options.prepackWeights === undefined ? {} : { prepackWeights: options.prepackWeights }),
    ...(options.towers === undefined ? { searchWorkers: config.searchWorkers } : { towers: options.towers, searchWorkers: 0 }),
    maxBatch: config.maxBatch,
    batchWaitMs: config.batchWaitMs,
    bulkNiceness: config.bulkNiceness,
    ...(config.quietBulkBatch === undefined ? {} : { quietBulkBatch: config.quietBulkBatch }),
    // The pool names its own component on its log lines.
    logger,
    ...(options.onWorkersStarted === undefined ? {} : { onWorkersStarted: options.onWorkersStarted }),
  });
  const [runtime, tokenizer] = await openBoth(
    { value: starting, close: (pool) => pool.close() },
    // The parsed tokenizer is cached beside the graphs, in a compact form that loads in milliseconds.
    { value: family.openTokenizer(files.tokenizer, model.text, { dir: join(config.cacheDir, 'tokenizers'), logger: logger.child({ component: 'tokenizer' }) }) },
  );
  const advice = precisionAdvice(model, runtime.stats().provider);
  if (advice !== undefined) logger.warn({ model: model.id, provider: runtime.stats().provider, suggestedModel: advice.suggestedModel }, advice.message);
  const embedder = new ClipEmbedder({
    modelId: model.id,
    dimension: model.dimension,
    runtime: options.onEmbedded === undefined ? runtime : countingRuntime(runtime, options.onEmbedded),
    tokenizer,
    expandQuery: (query) => templates.expand(query),
    normalizeQuery: family.normalizeQuery,
  });
  // The family imports its preprocessing (and sharp) on the first image rather than at start.
  return { embedder, stats: () => runtime.stats(), prepareImage: (bytes) => family.prepareImage(bytes, model.vision) };
}

/** Something being opened, and how to close it again. */
interface Opening<T> {
  /** Resolves once it is open. */
  value: Promise<T>;
  /** Closes it (absent: nothing to close). */
  close?: (opened: T) => Promise<void>;
}

/**
 * Both results, opened at the same time; if either fails, the other is closed once it is open
 * (a pool's workers and a store's reconnection never outlive a failed start) and the first
 * failure is thrown.
 */
async function openBoth<A, B>(a: Opening<A>, b: Opening<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a.value, b.value]);
  if (first.status === 'fulfilled' && second.status === 'fulfilled') return [first.value, second.value];
  if (first.status === 'fulfilled') await a.close?.(first.value).catch(() => {});
  if (second.status === 'fulfilled') await b.close?.(second.value).catch(() => {});
  throw first.status === 'rejected' ? first.reason : (second as PromiseRejectedResult).reason;
}

/**
 * Opens everything: model files (downloading the model on first use), tokenizer and worker pool,
 * and meanwhile the store, then the services. What was opened is closed again if a step fails,
 * so a failed start leaves no worker threads behind.
 */
export async function openFindimage({
  config,
  logger,
  onDownloadProgress,
  model: modelOverride,
  storeConnection = 'wait',
  onEmbedded,
  towers,
  prepackWeights,
}: OpenFindimageOptions): Promise<Findimage> {
  const model = modelOverride ?? findModelSpec(config.model, config.dataDir);
  // The store opens while the model loads (it reads its vectors from disk, the workers parse
  // graphs), once the worker threads have started: the embedded store reads its vectors on this
  // thread without a pause (about a second at 1M), which would otherwise hold back the threads'
  // start by as much instead of overlapping their load (issue 18, cold search).
  let workersStarted = () => {};
  const storeMayOpen = new Promise<void>((resolve) => (workersStarted = resolve));
  const embedding = openEmbedding({
    config,
    logger,
    model,
    onDownloadProgress,
    ...(onEmbedded === undefined ? {} : { onEmbedded }),
    ...(towers === undefined ? {} : { towers }),
    ...(prepackWeights === undefined ? {} : { prepackWeights }),
    onWorkersStarted: () => workersStarted(),
  });
  // A start that fails before the threads exist still lets the store open (and be closed again).
  embedding.then(workersStarted, workersStarted);
  const [{ embedder, stats: embeddingStats, prepareImage: prepare }, store] = await openBoth(
    { value: embedding, close: (opened) => opened.embedder.close() },
    { value: storeMayOpen.then(() => openStore(config, model, logger, storeConnection)), close: (opened) => opened.close() },
  );

  const opened: Array<() => Promise<void>> = [() => embedder.close(), () => store.close()];
  const closeAll = async () => {
    for (const close of [...opened].reverse()) await close().catch(() => {});
  };
  try {

    // Shared state (replay guard, pacing, backfill cursors, claims): in Redis for a fleet, else here.
    const coordination = await openCoordination({ dataDir: config.dataDir, fleet: config.fleet, logger });
    opened.push(() => coordination.close());
    // Claims keep two processes (on this host, or anywhere in a fleet) from embedding one image twice.
    const claims = coordination.claims(model.id);
    opened.push(async () => claims.close());
    const indexer = new ImageIndexer({
      embedder,
      store,
      prepare,
      claims,
      batching: config.indexBatching,
      logger: logger.child({ component: 'indexer' }),
    });
    const fleet = config.fleet === undefined ? undefined : await openFleetIndexing(config.fleet, model.id, logger);
    const marks = config.fleet === undefined ? undefined : await openShareMarks(config.fleet, logger);
    if (marks !== undefined) opened.push(marks.close);
    const uploads = new UploadQueue({
      path: join(config.dataDir, 'queue', `${model.id}-uploads.sqlite`),
      // In fleet mode an upload stays in this file until a worker somewhere has stored it.
      indexer: fleet ?? indexer,
      store,
      logger: logger.child({ component: 'upload-queue' }),
      // In fleet mode each deletion and privacy change is marked in Redis before it is applied,
      // so that workers anywhere withdraw or correct uploads another replica received.
      ...(marks === undefined ? {} : { beforeShareUpdate: marks.record }),
    });
    opened.push(async () => {
      // The queue stops first, so that uploads still waiting for their jobs when the fleet's
      // connection closes stay on disk, to be sent again on the next start (a job added under
      // the same id runs once).
      const stopping = uploads.stop();
      await fleet?.close();
      await stopping;
    });
    const labels = await openLabelStore(config, logger, storeConnection);
    opened.push(() => labels.close());
    const search = new SearchService({
      embedder: searchEmbedder(embedder, config, model, logger),
      store,
      minRelativeScore: config.minRelativeScore,
      feedback: new LabelFeedback(labels),
      logger: logger.child({ component: 'search' }),
    });
    const sessions = new SearchSessions({
      search,
      store,
      labels,
      prepareImage: prepare,
      modelId: model.id,
      logger: logger.child({ component: 'sessions' }),
    });
    const deletions = new ShareDeletions({ queue: uploads });
    const privacy = new ConversationPrivacy({ queue: uploads });
    return {
      model,
      embedder,
      store,
      indexer,
      uploads,
      search,
      labels,
      sessions,
      deletions,
      privacy,
      coordination,
      ...(fleet === undefined ? {} : { fleet }),
      embeddingStats,
      claimsTaken: () => claims.claimsTaken ?? 0,
      prepareImage: prepare,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The embedder searches use: the model's, with FINDIMAGE_ADAPTER's query adapter on text queries
 * when one is set (refused here if made for another model or vector length).
 */
export function searchEmbedder(embedder: Embedder, config: Config, model: ModelSpec, logger: Logger): Embedder {
  if (config.adapter === undefined) return embedder;
  const { path, file } = config.adapter;
  checkAdapterFits(file.adapter, model, path);
  logger.info({ adapter: path, sha256: file.sha256.slice(0, 12), model: model.id }, 'text queries go through the query adapter');
  return new AdaptedEmbedder(embedder, file.adapter);
}

/**
 * The fleet's index queue for a model (fleet mode only). BullMQ is imported here, on first use, so
 * that a machine without REDIS_URL never loads it.
 */
export async function openFleetIndexing(fleet: NonNullable<Config['fleet']>, modelId: string, logger: Logger): Promise<FleetIndexing> {
  const { FleetIndexing } = await import('./core/fleet/fleet-indexing.js');
  return new FleetIndexing({ redisUrl: fleet.redisUrl, modelId, logger: logger.child({ component: 'fleet' }) });
}

/**
 * The fleet's share marks (fleet mode only), on a quick Redis connection of their own: record()
 * for the upload queue's beforeShareUpdate, close() once the queue has stopped. Imported here,
 * like BullMQ, so that a machine without REDIS_URL never loads the Redis client.
 */
async function openShareMarks(fleet: NonNullable<Config['fleet']>, logger: Logger): Promise<{ record: (update: ShareUpdate) => Promise<void>; close: () => Promise<void> }> {
  const [{ ShareMarks }, { openRedis, closeRedis }] = await Promise.all([import('./core/fleet/share-marks.js'), import('./core/fleet/redis-connection.js')]);
  const redis = openRedis({ url: fleet.redisUrl, role: 'quick', logger: logger.child({ component: 'redis', role: 'quick' }), name: 'findimage-share-marks' });
  const marks = new ShareMarks({ redis });
  return { record: (update) => marks.record(update), close: () => closeRedis(redis) };
}

/**
 * The configured label store: in Qdrant when QDRANT_URL is set (so every host sharing the
 * server shares the labels), else a SQLite file under FINDIMAGE_DATA. Labels name images by
 * tenant and content, not by model, so one store serves every model.
 */
export async function openLabelStore(
  config: Config,
  logger: Logger,
  connection: 'wait' | 'background' = 'wait',
): Promise<LabelStore> {
  const qdrant = config.qdrant;
  const log = logger.child({ component: 'labels' });
  if (qdrant === undefined) return openSqliteLabelStore({ path: join(config.dataDir, 'labels.sqlite'), logger: log });
  const open = async () => {
    const { openQdrantLabelStore } = await import('./core/labels/qdrant-label-store.js');
    return openQdrantLabelStore({
      url: qdrant.url,
      logger: log,
      ...(qdrant.apiKey === undefined ? {} : { apiKey: qdrant.apiKey }),
      // The cluster layout of a new label collection (QDRANT_SHARDS, _REPLICAS, _WRITE_CONSISTENCY).
      ...(qdrant.shards === undefined ? {} : { shards: qdrant.shards }),
      replicas: qdrant.replicas,
      writeConsistency: qdrant.writeConsistency,
    });
  };
  if (connection === 'wait') return open();
  return new ReconnectingLabelStore({ open, description: `Qdrant at ${qdrant.url}`, logger: log });
}

/** The configured store for a model: Qdrant when QDRANT_URL is set, else the embedded one. */
export async function openStore(
  config: Config,
  model: ModelSpec,
  logger: Logger,
  connection: 'wait' | 'background' = 'wait',
): Promise<VectorStore> {
  const qdrant = config.qdrant;
  if (qdrant === undefined) {
    return openSqliteVectorStore({
      path: embeddedStorePath(config.dataDir, model.id),
      dimension: model.dimension,
      logger: logger.child({ component: 'store' }),
    });
  }
  const open = async (startupRetry?: RetryPolicy) =>
    (await import('./core/store/qdrant/qdrant-store.js')).openQdrantStore({
      ...qdrant,
      modelId: model.id,
      dimension: model.dimension,
      logger: logger.child({ component: 'store' }),
      ...(startupRetry === undefined ? {} : { startupRetry }),
    });
  if (connection === 'wait') return open();
  return new ReconnectingStore({
    // One try per attempt: the ReconnectingStore does the waiting, without bound.
    open: () => open({ ...STARTUP_RETRY_POLICY, attempts: 1 }),
    dimension: model.dimension,
    description: `Qdrant at ${qdrant.url}`,
    logger: logger.child({ component: 'store' }),
  });
}
