// Search latency while a bulk index runs, against idle, in alternating rounds (idle, loaded,
// idle, loaded...): on a shared machine other people's work then weighs on both series alike,
// and the pooled samples give a steadier p99 than one series of each. Runs on the product's own
// code (openFindimage from a Config), with the FINDIMAGE_* settings of the environment.
//   node --import tsx bench/latency-under-load.ts [--vectors 10000] [--queries 60] [--rounds 4]
//     [--model vit-b32-random|tiny-test] [--model-dir DIR] [--photos 12] [--photo-dir DIR]
//     [--gap-ms 0] [--in-flight 6] [--sharp-concurrency N] [--json]
// --sharp-concurrency sets libvips' threads per image operation for the whole run (default: cores),
// to measure whether fewer decoding threads leave more room for searches.
// --photo-dir reads the JPEGs there instead of generating 12 MP photos (bench/gpu.sh passes
// 1-2 MP ones); --gap-ms spaces the queries (exponential, that mean) as people's searches are.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { openFindimage } from '../src/findimage.js';
import { createLogger } from '../src/logger.js';
import { chooseBenchModel } from './bench-model.js';
import { benchModelIn } from './gpu-bench-model.js';
import { BulkIndexLoad } from './bulk-load.js';
import { cpuSnapshot, otherProcessesCores } from './cpu-contention.js';
import { readPhotoFolder } from './gpu-photos.js';
import { loadPhotoCorpus } from './jpeg-corpus.js';
import { describeMachine } from './machine-info.js';
import { summarizeLatencies, type LatencySummary } from './latency-summary.js';
import { measureQueryLatency } from './query-latency.js';
import { fillStore } from './vector-fill.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TENANT = 'bench';
const INDEX_TENANT = 'local';
const RESULTS_PER_QUERY = 10;
const FILL_SEED = 2026;
/** Settings the bench sets itself; every other FINDIMAGE_* variable passes through. */
const OWN_SETTINGS = new Set(['FINDIMAGE_MODEL', 'FINDIMAGE_MODEL_DIR', 'FINDIMAGE_DATA', 'FINDIMAGE_CACHE']);

const { values } = parseArgs({
  options: {
    vectors: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '4' },
    model: { type: 'string', default: 'vit-b32-random' },
    'model-dir': { type: 'string' },
    photos: { type: 'string', default: '12' },
    'photo-dir': { type: 'string' },
    'gap-ms': { type: 'string', default: '0' },
    'in-flight': { type: 'string' },
    'sharp-concurrency': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const vectors = Number(values.vectors.replace(/_/g, ''));
const queries = Number(values.queries);
const rounds = Number(values.rounds);
const gapMs = Number(values['gap-ms']);
const model = values.model;
if (model !== 'vit-b32-random' && model !== 'tiny-test') throw new Error('--model must be vit-b32-random or tiny-test');

/** One series of the run: which kind, its summary, and the load around it. */
interface Series {
  round: number;
  kind: 'idle' | 'loaded';
  summary: LatencySummary;
  /** Cores' worth of CPU other processes used meanwhile. */
  otherProcessesCores: number;
  /** Images the bulk index embedded per second meanwhile (loaded series). */
  imagesPerSecond?: number;
}

const env: Record<string, string> = {};
for (const [name, value] of Object.entries(process.env)) {
  if (name.startsWith('FINDIMAGE_') && !OWN_SETTINGS.has(name) && value !== undefined) env[name] = value;
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const choice = values['model-dir'] === undefined ? chooseBenchModel(model, ROOT, log) : benchModelIn(ROOT, values['model-dir']);
const dataDir = join(ROOT, '.bench', 'data', `load-${stamp}`);
const config = loadConfig({
  ...env,
  ...choice.env,
  FINDIMAGE_DATA: dataDir,
  FINDIMAGE_CACHE: join(ROOT, '.bench', 'cache'),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
});
if (values['sharp-concurrency'] !== undefined) {
  const { default: sharp } = await import('sharp');
  sharp.concurrency(Number(values['sharp-concurrency']));
}
const machine = describeMachine();
log(`${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverageAtStart}; settings ${JSON.stringify(env)}`);
const findimage = await openFindimage({
  config,
  logger: createLogger({ level: config.logLevel ?? 'warn', pretty: false }),
  model: choice.spec,
});
const allSamples: Record<Series['kind'], number[]> = { idle: [], loaded: [] };
const series: Series[] = [];
try {
  const photos =
    values['photo-dir'] === undefined
      ? await loadPhotoCorpus(join(ROOT, '.bench', 'jpeg-12mp'), Number(values.photos))
      : await readPhotoFolder(values['photo-dir'], Number(values.photos));
  log(`Filling the store to ${vectors.toLocaleString('en-US')} vectors...`);
  const fillMs = await fillStore({ store: findimage.store, tenant: TENANT, modelId: findimage.model.id, count: vectors, startIndex: 0, seed: FILL_SEED });
  log(`  ${(fillMs / 1000).toFixed(1)} s`);
  const latencyOptions = { search: findimage.search, tenant: TENANT, queries, warmup: 5, limit: RESULTS_PER_QUERY, gapMs };
  for (let round = 1; round <= rounds; round++) {
    // Alternate which kind goes first, so that a drift in other load does not favour one.
    const order: Series['kind'][] = round % 2 === 1 ? ['idle', 'loaded'] : ['loaded', 'idle'];
    for (const kind of order) {
      const since = cpuSnapshot();
      let imagesPerSecond: number | undefined;
      let samples: number[];
      if (kind === 'idle') {
        samples = (await measureQueryLatency(latencyOptions)).samples;
      } else {
        const load = new BulkIndexLoad({
          indexer: findimage.indexer,
          photos,
          tenant: INDEX_TENANT,
          label: `${stamp} ${round}`,
          ...(values['in-flight'] === undefined ? {} : { inFlight: Number(values['in-flight']) }),
        });
        load.start();
        await load.firstIndexed();
        samples = (await measureQueryLatency(latencyOptions)).samples;
        imagesPerSecond = (await load.stop()).imagesPerSecond;
      }
      const entry: Series = {
        round,
        kind,
        summary: summarizeLatencies(samples),
        otherProcessesCores: otherProcessesCores(since),
        ...(imagesPerSecond === undefined ? {} : { imagesPerSecond }),
      };
      series.push(entry);
      allSamples[kind].push(...samples);
      log(
        `  round ${round} ${kind.padEnd(6)} p50 ${entry.summary.p50.toFixed(1)} p99 ${entry.summary.p99.toFixed(1)} ms` +
          `${imagesPerSecond === undefined ? '' : `, ${imagesPerSecond.toFixed(2)} images/s`}, others ${entry.otherProcessesCores} cores`,
      );
    }
  }
} finally {
  await findimage.close();
  await rm(dataDir, { recursive: true, force: true });
}
const idle = summarizeLatencies(allSamples.idle);
const loaded = summarizeLatencies(allSamples.loaded);
const loadedSeries = series.filter((s) => s.kind === 'loaded');
const result = {
  machine,
  settings: env,
  vectors,
  queriesPerSeries: queries,
  rounds,
  gapMs,
  idle,
  loaded,
  p50Ratio: loaded.p50 / idle.p50,
  p99Ratio: loaded.p99 / idle.p99,
  bulkImagesPerSecond: loadedSeries.reduce((sum, s) => sum + (s.imagesPerSecond ?? 0), 0) / loadedSeries.length,
  otherProcessesCores: Math.max(...series.map((s) => s.otherProcessesCores)),
  series,
};
log(
  `pooled: idle p50 ${idle.p50.toFixed(1)} p99 ${idle.p99.toFixed(1)}; loaded p50 ${loaded.p50.toFixed(1)} p99 ${loaded.p99.toFixed(1)}; ` +
    `p99 ratio ${result.p99Ratio.toFixed(2)}x, p50 ratio ${result.p50Ratio.toFixed(2)}x, bulk ${result.bulkImagesPerSecond.toFixed(2)} images/s`,
);
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
