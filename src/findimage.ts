// The composition root: builds the model, the worker pool, the store and the services from a
// Config. The CLI and every bot get their core objects from openFindimage() and nowhere else.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ClipEmbedder } from './core/embedding/clip-embedder.js';
import type { Embedder, PreparedImage } from './core/embedding/embedder.js';
import { prepareImage } from './core/image/clip-preprocessor.js';
import { ImageIndexer } from './core/indexing/image-indexer.js';
import { UploadQueue } from './core/indexing/upload-queue.js';
import type { DownloadProgressListener } from './core/models/download-progress.js';
import { locateModelFiles } from './core/models/model-locator.js';
import { getModelSpec } from './core/models/model-registry.js';
import type { ModelSpec } from './core/models/model-spec.js';
import { SearchService } from './core/search/search-service.js';
import { openSqliteVectorStore } from './core/store/sqlite-vector-store.js';
import type { VectorStore } from './core/store/vector-store.js';
import { ClipTokenizer } from './core/text/clip-tokenizer.js';
import { PromptTemplates } from './core/text/prompt-templates.js';
import { createEmbeddingPool } from './gpu-worker/embedding-pool.js';

/** Everything a front end (CLI or bot) may call. */
export interface Findimage {
  readonly model: ModelSpec;
  readonly embedder: Embedder;
  readonly store: VectorStore;
  readonly indexer: ImageIndexer;
  readonly uploads: UploadQueue;
  readonly search: SearchService;
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
}

/** Store file of a model under FINDIMAGE_DATA: one file per model, so models never mix. */
export function embeddedStorePath(dataDir: string, modelId: string): string {
  return join(dataDir, 'store', `${modelId}.sqlite`);
}

/**
 * Opens everything in dependency order: model files (downloading the model on first use),
 * tokenizer, worker pool, store, then the services. What was opened is closed again if a
 * later step fails, so a failed start leaves no worker threads behind.
 */
export async function openFindimage({ config, logger, onDownloadProgress, model: modelOverride }: OpenFindimageOptions): Promise<Findimage> {
  const model = modelOverride ?? getModelSpec(config.model);
  if (model.developmentOnly) {
    logger.info({ model: model.id }, 'this model has random weights: results rank at random (development only)');
  }
  const files = await locateModelFiles(model, {
    modelDir: config.modelDir,
    cacheDir: config.cacheDir,
    baseUrl: config.modelBaseUrl,
    logger: logger.child({ component: 'models' }),
    onProgress: onDownloadProgress,
  });
  const tokenizer = await ClipTokenizer.fromFile(files.tokenizer, model.text);
  const templates = new PromptTemplates(config.promptTemplates);

  const opened: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of opened.reverse()) await close().catch(() => {});
  };
  try {
    const runtime = await createEmbeddingPool({
      textModelPath: files.textModel,
      visionModelPath: files.visionModel,
      text: model.text,
      vision: model.vision,
      dimension: model.dimension,
      device: config.device,
      workers: config.workers,
      maxBatch: config.maxBatch,
      batchWaitMs: config.batchWaitMs,
      logger: logger.child({ component: 'embedding-pool' }),
    });
    const embedder = new ClipEmbedder({
      modelId: model.id,
      dimension: model.dimension,
      runtime,
      tokenizer,
      expandQuery: (query) => templates.expand(query),
    });
    opened.push(() => embedder.close());

    const store = await openStore(config, model, logger);
    opened.push(() => store.close());

    const prepare = (bytes: Uint8Array) => prepareImage(bytes, model.vision);
    const indexer = new ImageIndexer({ embedder, store, prepare, logger: logger.child({ component: 'indexer' }) });
    const uploads = new UploadQueue({
      path: join(config.dataDir, 'queue', `${model.id}-uploads.sqlite`),
      indexer,
      logger: logger.child({ component: 'upload-queue' }),
    });
    opened.push(() => uploads.stop());
    const search = new SearchService({
      embedder,
      store,
      minRelativeScore: config.minRelativeScore,
      logger: logger.child({ component: 'search' }),
    });
    return { model, embedder, store, indexer, uploads, search, prepareImage: prepare, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function openStore(config: Config, model: ModelSpec, logger: Logger): Promise<VectorStore> {
  return openSqliteVectorStore({
    path: embeddedStorePath(config.dataDir, model.id),
    dimension: model.dimension,
    logger: logger.child({ component: 'store' }),
  });
}
