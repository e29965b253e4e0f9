// A web server on the real engine for tests: openFindimage with the tiny test model (random
// weights: only plumbing is asserted, never ranking) on a temporary FINDIMAGE_DATA, listening
// on a free loopback port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.js';
import { defaultTemplateSets } from '../../src/core/evaluation/dataset-evaluation.js';
import { EvaluationRuns } from '../../src/core/evaluation/evaluation-runs.js';
import { evaluationModelChoices, evaluationModelOpener } from '../../src/evaluation-models.js';
import { openFindimage, type Findimage } from '../../src/findimage.js';
import { createSilentLogger } from '../../src/logger.js';
import { isFleet, startIndexWork, type IndexWork } from '../../src/serve/index-work.js';
import { startWebServer, type WebServer, type WebServerOptions } from '../../src/web/web-server.js';

export interface WebHarness {
  /** The listening server. */
  server: WebServer;
  /** Its core (also for checking what the API stored). */
  findimage: Findimage;
  /** The temporary folder holding FINDIMAGE_DATA and the cache. */
  dir: string;
  /** Stops both and deletes the folder. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Leave the core loading (to test 503s); call server.core.ready(findimage) to finish. */
  holdCore?: boolean;
  /** A built page (the browser tests build their own). */
  pageDir?: string;
  /** Address to listen on; loopback by default. */
  host?: string;
  /** FINDIMAGE_WEB_TOKEN. */
  token?: string;
  /** FINDIMAGE_WEB_TRUST_PROXY, as config.ts reads it. */
  trustProxy?: WebServerOptions['trustProxy'];
  /** Limits on wrong tokens (a small max keeps the tests short). */
  authFailureLimit?: WebServerOptions['authFailureLimit'];
  /**
   * More environment for loadConfig: QDRANT_URL and REDIS_URL make this a fleet replica, whose
   * uploads go through the Redis queue (and FINDIMAGE_REPLICA_JOBS > 0 has it take index jobs too).
   */
  env?: Record<string, string>;
  /** Waited for before an evaluation opens each model: a test holds a run at a known step with it. */
  beforeEvaluationModel?: (modelId: string) => Promise<void>;
}

export async function startWebHarness(options: HarnessOptions = {}): Promise<WebHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'findimage-web-'));
  const config = loadConfig({
    FINDIMAGE_MODEL: 'tiny-test',
    FINDIMAGE_DATA: join(dir, 'data'),
    FINDIMAGE_CACHE: join(dir, 'cache'),
    FINDIMAGE_DEVICE: 'cpu',
    FINDIMAGE_MIN_RELATIVE_SCORE: '0',
    ...options.env,
  });
  const logger = createSilentLogger();
  // As serve composes them (src/serve/serve.ts): datasets from FINDIMAGE_DATASETS_DIR, runs kept in the data folder.
  const opener = evaluationModelOpener(config, logger);
  const evaluations = new EvaluationRuns({
    dir: join(config.dataDir, 'evaluations'),
    datasetsRoot: config.web.datasetsDir,
    openModel: async (modelId, scratchDir) => {
      await options.beforeEvaluationModel?.(modelId);
      return opener(modelId, scratchDir);
    },
    models: () => evaluationModelChoices(config, logger),
    defaultTemplates: defaultTemplateSets(config.promptTemplates),
    logger,
  });
  const server = await startWebServer({
    host: options.host ?? '127.0.0.1',
    port: 0,
    dataDir: config.dataDir,
    logger,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.authFailureLimit === undefined ? {} : { authFailureLimit: options.authFailureLimit }),
    ...(options.pageDir === undefined ? {} : { pageDir: options.pageDir }),
    evaluations,
  });
  const findimage = await openFindimage({ config, logger, onEmbedded: (tower, seconds) => server.metrics.embedded(tower, seconds) });
  findimage.uploads.start();
  // As `findimage serve` does: a fleet replica takes index jobs unless FINDIMAGE_REPLICA_JOBS=0.
  let work: IndexWork | undefined;
  if (isFleet(config) && config.fleet.replicaJobs > 0) {
    work = await startIndexWork({ config, findimage, concurrency: config.fleet.replicaJobs, logger, role: 'replica' });
  }
  if (options.holdCore !== true) server.core.ready(findimage);
  return {
    server,
    findimage,
    dir,
    close: async () => {
      await server.close();
      await work?.close();
      await findimage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A JPEG of `width` x `height` in one colour, with a little noise so each is distinct. */
export async function jpegOf(rgb: [number, number, number], width = 64, height = 48, seed = 0): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i += 3) {
    const noise = ((i * 2654435761 + seed * 97) >>> 24) & 15;
    pixels[i] = Math.min(255, rgb[0] + noise);
    pixels[i + 1] = Math.min(255, rgb[1] + noise);
    pixels[i + 2] = Math.min(255, rgb[2] + noise);
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg().toBuffer();
}

/** A multipart body with one `file` field per entry. */
export function multipartOf(files: Array<{ name: string; bytes: Uint8Array; type?: string }>): FormData {
  const form = new FormData();
  // Blob takes bytes backed by a plain ArrayBuffer; a Buffer may sit on a shared one, so copy.
  for (const file of files) {
    form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'image/jpeg' }), file.name);
  }
  return form;
}
