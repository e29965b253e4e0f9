// `npm run bench:web`: the web API through real HTTP, as the page uses it. Search latency
// (GET /api/search, one query at a time, as a person waits) with 10k images stored, and uploads
// per second (POST /api/images, one 1-2 MP JPEG per request, three at a time, as the index page
// sends them) through the durable queue to "indexed". The server is the product's own
// (startWebServer + openFindimage) on loopback; the model is the bench's random ViT-B/32-shaped
// one (bench/bench-model.ts), so costs are real and rankings meaningless.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { openFindimage } from '../src/findimage.js';
import { createLogger } from '../src/logger.js';
import { startWebServer } from '../src/web/web-server.js';
import { chooseBenchModel } from './bench-model.js';
import { seededRandom } from './jpeg-corpus.js';
import { summarizeLatencies } from './latency-summary.js';
import { describeMachine } from './machine-info.js';
import { fillStore } from './vector-fill.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Images stored before searches are timed. */
const STORE_SIZE = Number(process.env.BENCH_WEB_STORE_SIZE ?? 10_000);
const TIMED_QUERIES = Number(process.env.BENCH_WEB_QUERIES ?? 200);
const WARMUP_QUERIES = 10;
const UPLOADS = Number(process.env.BENCH_WEB_UPLOADS ?? 40);
/** The index page's own parallelism (web/src/index-view.ts). */
const PARALLEL_UPLOADS = 3;
/** 1 to 2 megapixels, as the issue asks: 1280x960 (1.2 MP) and 1600x1200 (1.9 MP), alternating. */
const UPLOAD_SIZES: Array<[number, number]> = [
  [1280, 960],
  [1600, 1200],
];
const WORDS = ['a red car', 'a dog on a beach', 'whiteboard sketch', 'login page mockup', 'team photo', 'a cat asleep', 'bar chart', 'sunset over water'];

const log = (line: string) => process.stderr.write(`${line}\n`);

/** A noisy gradient JPEG: decodes as slowly as a real photo of its size. */
async function photo(index: number, [width, height]: [number, number]): Promise<Buffer> {
  const random = seededRandom(0xbe7 + index);
  const pixels = Buffer.allocUnsafe(width * height * 3);
  const from = [random() * 255, random() * 255, random() * 255];
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, (from[i % 3] as number) + (random() * 2 - 1) * 24));
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function main(): Promise<void> {
  const model = process.argv.includes('--quick') ? 'tiny-test' : 'vit-b32-random';
  const machine = describeMachine();
  const command = `npm run bench:web${model === 'tiny-test' ? ' -- --quick' : ''}`;
  log(`${command}\n${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart}`);
  const choice = chooseBenchModel(model, ROOT, log);
  const dataDir = join(ROOT, '.bench', 'data', `web-${Date.now()}`);
  const config = loadConfig({ ...choice.env, FINDIMAGE_DATA: dataDir, FINDIMAGE_CACHE: join(ROOT, '.bench', 'cache'), FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
  const logger = createLogger({ level: 'warn', pretty: false });
  const server = await startWebServer({ host: '127.0.0.1', port: 0, dataDir, logger });
  const findimage = await openFindimage({ config, logger, model: choice.spec, onEmbedded: (tower, seconds) => server.metrics.embedded(tower, seconds) });
  server.core.ready(findimage);
  findimage.uploads.start();
  const base = server.url.replace(/\/$/, '');
  try {
    log(`Filling the store with ${STORE_SIZE} images of the local tenant...`);
    await fillStore({ store: findimage.store, tenant: 'local', modelId: findimage.model.id, count: STORE_SIZE, startIndex: 0, seed: 7 });

    const query = async (i: number) => {
      const q = `${WORDS[i % WORDS.length]} ${i}`;
      const started = performance.now();
      const response = await fetch(`${base}/api/search?q=${encodeURIComponent(q)}&k=20`);
      const body = (await response.json()) as { results?: unknown[] };
      const ms = performance.now() - started;
      if (response.status !== 200 || body.results?.length !== 20) throw new Error(`search ${i} answered ${response.status}`);
      return ms;
    };
    for (let i = 0; i < WARMUP_QUERIES; i++) await query(i);
    const samples: number[] = [];
    for (let i = 0; i < TIMED_QUERIES; i++) samples.push(await query(WARMUP_QUERIES + i));
    const search = summarizeLatencies(samples);
    log(`GET /api/search at ${STORE_SIZE} images: p50 ${search.p50.toFixed(1)} ms, p99 ${search.p99.toFixed(1)} ms, mean ${search.mean.toFixed(1)} ms (${search.count} queries)`);
    // The same queries straight through SearchService, in the same run: what HTTP, the query
    // log and JSON add is the difference.
    const direct: number[] = [];
    for (let i = 0; i < TIMED_QUERIES; i++) {
      const started = performance.now();
      await findimage.search.searchText({ text: `${WORDS[i % WORDS.length]} ${WARMUP_QUERIES + i}`, scope: { tenant: 'local' }, limit: 20 });
      direct.push(performance.now() - started);
    }
    const engine = summarizeLatencies(direct);
    log(`SearchService.searchText alone: p50 ${engine.p50.toFixed(1)} ms, p99 ${engine.p99.toFixed(1)} ms`);

    log(`Generating ${UPLOADS} JPEGs of 1.2 and 1.9 MP...`);
    const files = await Promise.all(Array.from({ length: UPLOADS }, (_, i) => photo(i, UPLOAD_SIZES[i % UPLOAD_SIZES.length] as [number, number])));
    const meanBytes = files.reduce((sum, f) => sum + f.length, 0) / files.length;
    // One untimed upload first: the vision tower's first run allocates its buffers.
    await uploadOne(base, 'warm-up.jpg', await photo(10_000, [1280, 960]));
    let next = 0;
    const statuses: string[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL_UPLOADS }, async () => {
        while (next < files.length) {
          const i = next++;
          statuses.push(await uploadOne(base, `photo-${i}.jpg`, files[i] as Buffer));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const indexed = statuses.filter((s) => s === 'indexed').length;
    if (indexed !== UPLOADS) throw new Error(`only ${indexed} of ${UPLOADS} uploads were indexed: ${statuses.join(', ')}`);
    const perSecond = UPLOADS / seconds;
    log(`POST /api/images: ${UPLOADS} JPEGs (mean ${(meanBytes / 1024).toFixed(0)} KiB) indexed in ${seconds.toFixed(1)} s: ${perSecond.toFixed(2)} uploads/s`);

    const results = { command, machine, model: findimage.model.id, storeSize: STORE_SIZE, search, engine, uploads: { count: UPLOADS, meanBytes, seconds, perSecond, parallel: PARALLEL_UPLOADS } };
    await mkdir(join(ROOT, '.bench'), { recursive: true });
    await writeFile(join(ROOT, '.bench', 'web-api.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } finally {
    await server.close();
    await findimage.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function uploadOne(base: string, name: string, bytes: Buffer): Promise<string> {
  const form = new FormData();
  // Blob takes bytes backed by a plain ArrayBuffer; a Buffer may sit on a shared one, so copy.
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), name);
  const response = await fetch(`${base}/api/images`, { method: 'POST', body: form });
  const body = (await response.json()) as { files?: Array<{ status: string }> };
  return body.files?.[0]?.status ?? `http ${response.status}`;
}

await main();
