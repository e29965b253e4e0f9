// Indexing JPEG files end to end on the product's path (ImageIndexer: hash, claim, decode and
// preprocess with sharp, embed in the pool, store), with many images in flight so decoding uses
// every core; beside it, in the same process, decoding alone and the model alone on the same
// photos. The GPU bench runs it with FINDIMAGE_DEVICE=cuda and UV_THREADPOOL_SIZE = cores.
//   node --import tsx bench/gpu-end-to-end.ts --photo-dir DIR [--model-dir DIR | --model tiny-test]
//     [--images 3000] [--in-flight 64] [--json]
import { availableParallelism } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import type { PreparedImage } from '../src/core/embedding/embedder.js';
import { openFindimage } from '../src/findimage.js';
import { createLogger } from '../src/logger.js';
import { chooseBenchModel } from './bench-model.js';
import { BulkIndexLoad } from './bulk-load.js';
import { benchModelIn } from './gpu-bench-model.js';
import { readPhotoFolder } from './gpu-photos.js';
import { describeMachine } from './machine-info.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OWN_SETTINGS = new Set(['FINDIMAGE_MODEL', 'FINDIMAGE_MODEL_DIR', 'FINDIMAGE_DATA', 'FINDIMAGE_CACHE']);
/** How often the end-to-end run checks whether it has indexed enough, ms. */
const POLL_MS = 50;

const { values } = parseArgs({
  options: {
    'photo-dir': { type: 'string' },
    'model-dir': { type: 'string' },
    model: { type: 'string', default: 'vit-b32-random' },
    images: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: String(4 * availableParallelism()) },
    json: { type: 'boolean', default: false },
  },
});
if (values['photo-dir'] === undefined) throw new Error('--photo-dir is required (bench/gpu-photos.ts writes one)');
const log = (line: string) => process.stderr.write(`${line}\n`);
const images = Number(values.images);
const inFlight = Number(values['in-flight']);
const model = values.model === 'tiny-test' ? 'tiny-test' : 'vit-b32-random';
const choice = values['model-dir'] === undefined ? chooseBenchModel(model, ROOT, log) : benchModelIn(ROOT, values['model-dir']);

const env: Record<string, string> = {};
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith('FINDIMAGE_') && !OWN_SETTINGS.has(name) && value !== undefined) env[name] = value;
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dataDir = join(ROOT, '.bench', 'data', `e2e-${stamp}`);
const config = loadConfig({ ...env, ...choice.env, FINDIMAGE_DATA: dataDir, FINDIMAGE_CACHE: join(ROOT, '.bench', 'cache'), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const findimage = await openFindimage({ config, logger: createLogger({ level: config.logLevel ?? 'warn', pretty: false }), model: choice.spec });

/** Runs `work` on every item with `limit` in flight; resolves with the elapsed ms. */
async function timed<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
  return performance.now() - started;
}

const rate = (count: number, ms: number) => ({ images: count, seconds: ms / 1000, imagesPerSecond: (count * 1000) / ms });
try {
  const photos = await readPhotoFolder(values['photo-dir'], Number.MAX_SAFE_INTEGER);
  log(`${photos.length} photos from ${values['photo-dir']}; ${inFlight} in flight; pool on ${findimage.embeddingStats().provider}`);
  const prepared: PreparedImage[] = new Array(photos.length);
  await timed(photos, inFlight, async (photo, i) => {
    prepared[i] = await findimage.prepareImage(photo);
  }); // warm-up: sharp's first calls load codecs
  const decodeMs = await timed(photos, inFlight, async (photo, i) => {
    prepared[i] = await findimage.prepareImage(photo);
  });
  const tensors = Array.from({ length: images }, (_, i) => prepared[i % prepared.length] as PreparedImage);
  await Promise.all(tensors.slice(0, Math.min(512, images)).map((image) => findimage.embedder.embedImage(image)));
  const modelStarted = performance.now();
  await Promise.all(tensors.map((image) => findimage.embedder.embedImage(image)));
  const modelMs = performance.now() - modelStarted;
  const load = new BulkIndexLoad({ indexer: findimage.indexer, photos, tenant: 'local', label: stamp, inFlight });
  load.start();
  while (load.indexed < images) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  const endToEnd = await load.stop();
  const result = {
    machine: describeMachine(),
    settings: env,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    photos: photos.length,
    inFlight,
    provider: findimage.embeddingStats().provider,
    decodeOnly: rate(photos.length, decodeMs),
    modelOnly: rate(images, modelMs),
    endToEnd: rate(endToEnd.indexed, endToEnd.durationMs),
  };
  log(
    `decode only ${result.decodeOnly.imagesPerSecond.toFixed(0)}/s, model only ${result.modelOnly.imagesPerSecond.toFixed(0)}/s, ` +
      `end to end ${result.endToEnd.imagesPerSecond.toFixed(0)}/s (${endToEnd.indexed} images)`,
  );
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await findimage.close();
  await rm(dataDir, { recursive: true, force: true });
}
