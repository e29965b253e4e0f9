// `npm run bench`: measures issue 2's figures on the product as users run it (openFindimage from
// a Config): text query latency idle and under a bulk index, indexing throughput against the
// model alone, and resident memory. Prints a table and writes .bench/results.json.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { PreparedImage } from '../src/core/embedding/embedder.js';
import { openFindimage } from '../src/findimage.js';
import { createLogger } from '../src/logger.js';
import { chooseBenchModel } from './bench-model.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { formatResults, writeResults, type BenchResults, type LatencyAtSize } from './bench-results.js';
import { BulkIndexLoad } from './bulk-load.js';
import { runCompanionBenches } from './companion-benches.js';
import { measureThroughput } from './index-throughput.js';
import { loadPhotoCorpus } from './jpeg-corpus.js';
import { cpuSnapshot, otherProcessesCores, quietestOf } from './cpu-contention.js';
import { describeMachine } from './machine-info.js';
import { measureLatencyBreakdown, measureQueryLatency } from './query-latency.js';
import { readResidentMemory, resetPeak } from './resident-memory.js';
import { fillStore } from './vector-fill.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The tenant of the filled vectors, which the timed queries search. */
const TENANT = 'bench';
/** The tenant `findimage index` writes to; the bulk load and the throughput rounds use it. */
const INDEX_TENANT = 'local';
/** Results per query: a Slack carousel or Discord gallery holds 10. */
const RESULTS_PER_QUERY = 10;
const FILL_SEED = 2026;
/**
 * Settings a user may set to bench another configuration (FINDIMAGE_WORKERS=2 npm run bench);
 * the model, data and cache folders are the bench's own.
 */
const PASSED_THROUGH = [
  'FINDIMAGE_DEVICE',
  'FINDIMAGE_WORKERS',
  'FINDIMAGE_MAX_BATCH',
  'FINDIMAGE_BATCH_WAIT_MS',
  'FINDIMAGE_BULK_NICE',
  'FINDIMAGE_QUIET_BULK_BATCH',
  'FINDIMAGE_PROMPT_TEMPLATES',
  'FINDIMAGE_MIN_RELATIVE_SCORE',
] as const;

const log = (line: string) => process.stderr.write(`${line}\n`);

function passedThroughEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function commandLine(argv: readonly string[], env: Record<string, string>): string {
  const prefix = Object.entries(env).map(([name, value]) => `${name}=${JSON.stringify(value)} `).join('');
  const args = argv.length === 0 ? '' : ` -- ${argv.join(' ')}`;
  return process.env.npm_lifecycle_event === 'bench'
    ? `${prefix}npm run bench${args}`
    : `${prefix}node --import tsx bench/run.ts${argv.length === 0 ? '' : ` ${argv.join(' ')}`}`;
}

/** A prepared all-zero image: warms the vision tower before any photo is read. */
function blankImage(size: number): PreparedImage {
  return { pixels: new Float32Array(3 * size * size), width: size, height: size, format: 'raw' };
}

const fmt = (n: number) => n.toFixed(1);

async function run(options: BenchOptions, argv: readonly string[]): Promise<BenchResults> {
  const startedAt = new Date();
  const started = performance.now();
  const runCpu = cpuSnapshot();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const userEnv = passedThroughEnv();
  const machine = describeMachine();
  const command = commandLine(argv, userEnv);
  log(`${command}\n${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart}`);

  const modelChoice = chooseBenchModel(options.model, ROOT, log);
  const dataDir = join(ROOT, '.bench', 'data', `run-${stamp}`);
  const config = loadConfig({
    ...userEnv,
    ...modelChoice.env,
    FINDIMAGE_DATA: dataDir,
    FINDIMAGE_CACHE: join(ROOT, '.bench', 'cache'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const logger = createLogger({ level: config.logLevel ?? 'warn', pretty: false });

  const beforeOpen = readResidentMemory();
  const peakResetBeforeOpen = resetPeak();
  log(`Opening findimage (${config.model}${config.modelDir === undefined ? '' : ` from ${config.modelDir}`})...`);
  const findimage = await openFindimage({ config, logger, model: modelChoice.spec });
  try {
    // One run of each tower, so that both sessions hold their weights and first-run buffers;
    // measured before any photo is in memory, so the figure is the product's own.
    await findimage.search.searchText({ text: 'warm up', scope: { tenant: TENANT }, limit: RESULTS_PER_QUERY });
    await findimage.embedder.embedImage(blankImage(findimage.model.vision.imageSize));
    const towersLoaded = readResidentMemory();
    log(`Both towers loaded: ${fmt(towersLoaded.rssMiB)} MiB resident (${fmt(towersLoaded.rssMiB - beforeOpen.rssMiB)} MiB more than before open).`);

    log(`Reading ${options.photos} photos of 12 MP from .bench/jpeg-12mp (generated once)...`);
    const photos = await loadPhotoCorpus(join(ROOT, '.bench', 'jpeg-12mp'), options.photos);

    const latency: LatencyAtSize[] = [];
    let filled = 0;
    let afterLargestFill = towersLoaded;
    for (const size of options.storeSizes) {
      log(`Filling the store to ${size.toLocaleString('en-US')} vectors...`);
      const fillMs = await fillStore({
        store: findimage.store,
        tenant: TENANT,
        modelId: findimage.model.id,
        count: size - filled,
        startIndex: filled,
        seed: FILL_SEED,
      });
      filled = size;
      afterLargestFill = readResidentMemory();
      const storedVectors = await findimage.store.count();
      const latencyOptions = {
        search: findimage.search,
        tenant: TENANT,
        queries: options.queries,
        warmup: options.warmupQueries,
        limit: RESULTS_PER_QUERY,
      };
      log(`  filled in ${fmt(fillMs / 1000)} s; ${options.queries} queries, idle...`);
      const idle = await quietestOf(options.attempts, options.maxOtherCores, async () => {
        const series = await measureQueryLatency(latencyOptions);
        log(`    p50 ${fmt(series.summary.p50)} ms, p99 ${fmt(series.summary.p99)} ms`);
        return series;
      });
      log(`    kept: other processes used ${idle.otherProcessesCores} cores (${idle.attempts} attempt(s))`);
      const breakdown = await measureLatencyBreakdown({
        embedder: findimage.embedder,
        store: findimage.store,
        tenant: TENANT,
        samples: Math.max(10, Math.round(options.queries / 4)),
        limit: RESULTS_PER_QUERY,
      });
      log(`    embed only p50 ${fmt(breakdown.embed.p50)} ms, store query only p50 ${fmt(breakdown.storeQuery.p50)} ms`);
      log(`  ${options.queries} queries during a bulk index...`);
      let loadRun = 0;
      const loaded = await quietestOf(options.attempts, options.maxOtherCores, async () => {
        loadRun++;
        const load = new BulkIndexLoad({
          indexer: findimage.indexer,
          photos,
          tenant: INDEX_TENANT,
          label: `${stamp} ${size} ${loadRun}`,
        });
        load.start();
        await load.firstIndexed();
        const series = await measureQueryLatency(latencyOptions);
        const report = await load.stop();
        log(`    p50 ${fmt(series.summary.p50)} ms, p99 ${fmt(series.summary.p99)} ms, ${report.indexed} images indexed meanwhile`);
        return { series, report };
      });
      log(`    kept: other processes used ${loaded.otherProcessesCores} cores (${loaded.attempts} attempt(s))`);
      latency.push({
        storedVectors,
        fillMs,
        idle: idle.result.summary,
        loaded: loaded.result.series.summary,
        load: loaded.result.report,
        p99Ratio: loaded.result.series.summary.p99 / idle.result.summary.p99,
        p50Ratio: loaded.result.series.summary.p50 / idle.result.summary.p50,
        breakdown,
        otherProcessesCores: { idle: idle.otherProcessesCores, loaded: loaded.otherProcessesCores },
        attempts: { idle: idle.attempts, loaded: loaded.attempts },
      });
    }

    log(`Indexing throughput: ${options.rounds} round(s) of ${options.photos} photos...`);
    let throughputRun = 0;
    const throughput = await quietestOf(options.attempts, options.maxOtherCores, async () => {
      throughputRun++;
      const measured = await measureThroughput({
        findimage,
        photos,
        workDir: join(ROOT, '.bench', 'index-rounds'),
        rounds: options.rounds,
        modelCopies: options.modelCopies,
        label: `${stamp} ${throughputRun}`,
      });
      log(`    end to end ${fmt(measured.endToEnd.imagesPerSecond)}/s, model only ${fmt(measured.modelOnly.imagesPerSecond)}/s`);
      return measured;
    });

    return {
      startedAt: startedAt.toISOString(),
      command,
      machine,
      setup: {
        model: findimage.model.id,
        modelDir: config.modelDir ?? '(registry)',
        developmentOnly: findimage.model.developmentOnly,
        workers: config.workers,
        searchWorkers: config.searchWorkers,
        maxBatch: config.maxBatch === undefined ? 'by device (2 on CPU)' : String(config.maxBatch),
        batchWaitMs: config.batchWaitMs,
        device: config.device.kind === 'cuda' ? `cuda:${config.device.deviceId}` : config.device.kind,
        promptTemplates: config.promptTemplates,
      },
      latency,
      throughput: { ...throughput.result, otherProcessesCores: throughput.otherProcessesCores, attempts: throughput.attempts },
      memory: { beforeOpen, towersLoaded, afterLargestFill, end: readResidentMemory(), peakResetBeforeOpen },
      otherProcessesCores: otherProcessesCores(runCpu),
      durationSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await findimage.close();
    if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // `npm run bench -- cold`: a one-shot search from a cold start, through the real CLI (issue 11).
  if (argv[0] === 'cold') return (await import('./cold-search.js')).runColdBench(argv.slice(1), ROOT, log);
  // `npm run bench -- store ...`: the embedded store alone (bench/store-bench.ts).
  if (argv[0] === 'store') return (await import('./store-bench.js')).runStoreBench(argv.slice(1));
  // `npm run bench -- sqlite-drivers ...`: better-sqlite3 against node:sqlite (issue 20, bench/sqlite-drivers.ts).
  if (argv[0] === 'sqlite-drivers') return (await import('./sqlite-drivers.js')).runSqliteDriversBench(argv.slice(1));
  // `npm run bench -- store-peers ...`: the store against faiss IVF-Flat, same vectors (issue 18).
  if (argv[0] === 'store-peers') return (await import('./store-peers.js')).runStorePeersBench(argv.slice(1));
  // `npm run bench -- fleet ...`: workers and the queue on Redis (issue 17, bench/fleet-bench.ts).
  if (argv[0] === 'fleet') return (await import('./fleet-bench.js')).runFleetBench(argv.slice(1), ROOT, log);
  // `npm run bench -- fp16 ...`: an fp16 model against its fp32 model (issue 20, bench/fp16-bench.ts).
  if (argv[0] === 'fp16') return (await import('./fp16-bench.js')).runFp16Bench(argv.slice(1), ROOT, log);
  // `npm run bench -- index ...`: 12 MP JPEGs end to end, model only and decode only (issue 18).
  if (argv[0] === 'index') return (await import('./index-bench.js')).runIndexBench(argv.slice(1), ROOT, log);
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(argv, join(ROOT, '.bench', 'results.json'));
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    log(USAGE);
    return 0;
  }
  const results = await run(options, argv);
  process.stdout.write(`\n${formatResults(results)}\n`);
  await writeResults(options.resultsPath, results);
  log(`Figures written to ${options.resultsPath}`);
  if (options.all) {
    const failed = await runCompanionBenches(ROOT, log);
    if (failed.length > 0) {
      log(`These benches failed: ${failed.join(', ')}`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = await main();
