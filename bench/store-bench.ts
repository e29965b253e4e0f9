// `npm run bench -- store --vectors N[,N...] [--data clustered|uniform] [--json]`: the embedded
// store alone, through the product's own code (openSqliteVectorStore, VectorStore.query). For
// each size it fills a store in a temporary folder (a child process), then reopens it in a fresh
// child process and measures reopen time, top-10 latency (whole tenant and one channel of 40),
// recall@10 of the default (approximate-allowed) answers against `exact: true` ones, the exact
// search's own latency in the same run, and resident memory. With --json each size prints one
// JSON object on its own line of stdout; progress goes to stderr.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createSilentLogger } from '../src/logger.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import type { SearchTuning } from '../src/core/store/search-planner.js';
import type { PointFilter, VectorStore } from '../src/core/store/vector-store.js';
import { seededRandom } from './jpeg-corpus.js';
import { describeMachine } from './machine-info.js';
import { readResidentMemory } from './resident-memory.js';
import { conversationId, fillStore, vectorSourceFor, type VectorData } from './vector-fill.js';

const DIMENSION = 512;
const TENANT = 'bench';
const MODEL_ID = 'clip-vit-b32';
/** Results per query: a Slack carousel or Discord gallery holds 10. */
const LIMIT = 10;
const FILL_SEED = 2026;
/** Queries come from their own stream: fresh draws from the data's distribution, not stored points. */
export const QUERY_SEED = 0x9e3779b9;
/** The filtered series searches one channel of vector-fill's 40 (about 1.7% of the points). */
export const FILTER_CHANNEL = 3;
/** Progress lines while filling, every this many points. */
const PROGRESS_EVERY = 100_000;
const DEFAULT_QUERIES = 200;
const WARMUP_QUERIES = 10;

export const STORE_USAGE = `Usage: npm run bench -- store [options]
  --vectors N[,N]     store sizes (1000000 or 1_000_000; default 100000)
  --data KIND         clustered (default) or uniform vectors
  --queries N         timed queries per series (default ${DEFAULT_QUERIES})
  --json              one JSON object per size on stdout, progress on stderr
  --keep DIR          fill into DIR/store-<kind>-<N>.sqlite and keep it; an existing file is reused
  --search JSON       search knobs for the measuring open, e.g. '{"scanThreads":1}' (SearchTuning
                      in src/core/store/search-planner.ts; the fill always uses the defaults)`;

/** What one size's run reports; the first seven keys are issue 11's. */
export interface StoreBenchResult {
  vectors: number;
  /** Top-10 over the whole tenant, default (approximate allowed). */
  p50Ms: number;
  p99Ms: number;
  /** Top-10 in one channel of 40 (scope with that conversation, no public ones). */
  filteredP50Ms: number;
  /** Mean share of the exact top-10 that the default top-10 holds, whole tenant. */
  recallAt10: number;
  /** openSqliteVectorStore until the first query has been answered, in a fresh process. */
  reopenMs: number;
  /** Resident memory after reopening and all queries. */
  rssMiB: number;
  /** The same, with `exact: true`: the "before" of the same run. */
  exactP50Ms: number;
  exactP99Ms: number;
  filteredP99Ms: number;
  exactFilteredP50Ms: number;
  filteredRecallAt10: number;
  /** openSqliteVectorStore alone. */
  openMs: number;
  /** Resident memory of the measuring process before it opened the store. */
  rssBeforeOpenMiB: number;
  /** Highest resident memory of the measuring process. */
  peakRssMiB: number;
  /** Threads that shared the long scans by the end (1: the caller's alone). */
  scanThreads: number;
  /** The --search knobs the measuring open used ({} for the defaults). */
  search: Partial<SearchTuning>;
  data: VectorData;
  queries: number;
  /** Time to fill (null when a kept store was reused) and to close the filled store. */
  fillMs: number | null;
  fillCloseMs: number | null;
  machine: { cores: number; loadAverage: number; node: string };
}

type Measured = Omit<StoreBenchResult, 'vectors' | 'data' | 'fillMs' | 'fillCloseMs' | 'machine' | 'search'>;

const log = (line: string) => process.stderr.write(`${line}\n`);

function count(name: string, value: string): number {
  const n = Number(value.trim().replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
  return n;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function round(n: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(n * scale) / scale;
}

function collectGarbage(): void {
  // Present because the children run with --expose-gc; RSS then excludes garbage not yet freed.
  (globalThis as { gc?: () => void }).gc?.();
}

/** --search's JSON: an object of SearchTuning knobs. */
export function parseSearch(json: string): Partial<SearchTuning> {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`--search must be a JSON object, not ${json}`);
  return parsed as Partial<SearchTuning>;
}

/** One timed series: latencies (sorted) and each query's result ids. */
interface Series {
  sorted: number[];
  ids: string[][];
}

/** What a series asks: which filter, and whether exact. */
interface SeriesKind {
  filter: PointFilter;
  exact: boolean;
}

/**
 * Times every kind on every query, interleaved (query 1 in each kind, then query 2, ...), so
 * that load from other processes on a shared machine falls on all kinds alike and their ratios
 * hold within one run.
 */
async function timeSeries(store: VectorStore, queries: readonly Float32Array[], kinds: readonly SeriesKind[]): Promise<Series[]> {
  const series = kinds.map((): Series => ({ sorted: [], ids: [] }));
  for (let i = 0; i < WARMUP_QUERIES; i++) {
    for (const { filter, exact } of kinds) {
      await store.query(queries[i % queries.length] as Float32Array, { filter, limit: LIMIT, exact });
    }
  }
  for (const vector of queries) {
    for (const [k, { filter, exact }] of kinds.entries()) {
      const started = performance.now();
      const hits = await store.query(vector, { filter, limit: LIMIT, exact });
      const own = series[k] as Series;
      own.sorted.push(performance.now() - started);
      own.ids.push(hits.map((hit) => hit.id));
    }
  }
  for (const own of series) own.sorted.sort((a, b) => a - b);
  return series;
}

/** Mean share of each exact answer found in the matching default answer. */
function recall(found: readonly string[][], exact: readonly string[][]): number {
  let sum = 0;
  for (let q = 0; q < exact.length; q++) {
    const truth = exact[q] as string[];
    if (truth.length === 0) {
      sum += 1;
      continue;
    }
    const got = new Set(found[q]);
    sum += truth.filter((id) => got.has(id)).length / truth.length;
  }
  return sum / exact.length;
}

/** Child phase: fill a new store at `path` and close it; prints {fillMs, closeMs}. */
async function fillPhase(path: string, vectors: number, data: VectorData): Promise<void> {
  const store = await openSqliteVectorStore({ path, dimension: DIMENSION, logger: createSilentLogger() });
  const fillMs = await fillStore({
    store,
    tenant: TENANT,
    modelId: MODEL_ID,
    count: vectors,
    startIndex: 0,
    seed: FILL_SEED,
    vectors: vectorSourceFor(data, DIMENSION),
    onProgress: (written) => {
      if (written % PROGRESS_EVERY === 0) log(`  filled ${written.toLocaleString('en-US')} (${round(readResidentMemory().rssMiB, 0)} MiB resident)`);
    },
  });
  const closing = performance.now();
  await store.close();
  process.stdout.write(`${JSON.stringify({ fillMs, closeMs: performance.now() - closing })}\n`);
}

/** Child phase: reopen the store at `path`, time the query series, print a Measured object. */
async function measurePhase(path: string, vectors: number, data: VectorData, queryCount: number, search: Partial<SearchTuning>): Promise<void> {
  const random = seededRandom(QUERY_SEED);
  const source = vectorSourceFor(data, DIMENSION);
  const queries = Array.from({ length: queryCount }, () => source.next(random));
  const all: PointFilter = { tenant: TENANT };
  const oneChannel: PointFilter = {
    tenant: TENANT,
    scope: { conversations: [conversationId(FILTER_CHANNEL)], includePublic: false },
  };
  collectGarbage();
  const before = readResidentMemory();

  const opening = performance.now();
  const store = await openSqliteVectorStore({ path, dimension: DIMENSION, logger: createSilentLogger(), search });
  const openMs = performance.now() - opening;
  await store.query(queries[0] as Float32Array, { filter: all, limit: LIMIT });
  const reopenMs = performance.now() - opening;
  log(`  reopened in ${round(reopenMs, 0)} ms (open ${round(openMs, 0)} ms); timing ${queryCount} queries per series...`);
  const stored = await store.count();
  // A kept file left by an interrupted fill must not pass for a full one.
  if (stored !== vectors) throw new Error(`${path} holds ${stored} vectors, not ${vectors}; delete it and fill again.`);

  const [approx, filtered, exact, exactFiltered] = (await timeSeries(store, queries, [
    { filter: all, exact: false },
    { filter: oneChannel, exact: false },
    { filter: all, exact: true },
    { filter: oneChannel, exact: true },
  ])) as [Series, Series, Series, Series];
  collectGarbage();
  const after = readResidentMemory();
  const scanThreads = store.scanThreads;
  await store.close();

  const measured: Measured = {
    p50Ms: round(percentile(approx.sorted, 50), 3),
    p99Ms: round(percentile(approx.sorted, 99), 3),
    filteredP50Ms: round(percentile(filtered.sorted, 50), 3),
    recallAt10: round(recall(approx.ids, exact.ids), 4),
    reopenMs: round(reopenMs, 1),
    rssMiB: round(after.rssMiB, 0),
    exactP50Ms: round(percentile(exact.sorted, 50), 3),
    exactP99Ms: round(percentile(exact.sorted, 99), 3),
    filteredP99Ms: round(percentile(filtered.sorted, 99), 3),
    exactFilteredP50Ms: round(percentile(exactFiltered.sorted, 50), 3),
    filteredRecallAt10: round(recall(filtered.ids, exactFiltered.ids), 4),
    openMs: round(openMs, 1),
    rssBeforeOpenMiB: round(before.rssMiB, 0),
    peakRssMiB: round(after.peakMiB, 0),
    scanThreads,
    queries: queryCount,
  };
  process.stdout.write(`${JSON.stringify(measured)}\n`);
}

/** Runs this file as a child phase; resolves to the JSON object it printed last. */
async function runPhase<T>(args: readonly string[]): Promise<T> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(signal === null ? exitCode : 128));
  });
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || last === '') throw new Error(`The store bench's ${args[1]} phase failed (exit ${code}).`);
  return JSON.parse(last) as T;
}

export async function benchOneSize(vectors: number, data: VectorData, queries: number, keep: string | undefined, search: Partial<SearchTuning> = {}): Promise<StoreBenchResult> {
  const dir = keep ?? (await mkdtemp(join(tmpdir(), 'findimage-store-bench-')));
  const path = join(dir, `store-${data}-${vectors}.sqlite`);
  try {
    let fillMs: number | null = null;
    let fillCloseMs: number | null = null;
    if (keep !== undefined && existsSync(path)) {
      log(`Reusing ${path}`);
    } else {
      log(`Filling ${vectors.toLocaleString('en-US')} ${data} vectors into ${path}...`);
      const filled = await runPhase<{ fillMs: number; closeMs: number }>(['--phase', 'fill', '--path', path, '--vectors', String(vectors), '--data', data]);
      fillMs = round(filled.fillMs, 0);
      fillCloseMs = round(filled.closeMs, 0);
      log(`  filled in ${round(filled.fillMs / 1000, 1)} s, closed in ${fillCloseMs} ms`);
    }
    const loadAverage = round(loadavg()[0] ?? 0);
    const measured = await runPhase<Measured>(['--phase', 'measure', '--path', path, '--vectors', String(vectors), '--data', data, '--queries', String(queries), '--search', JSON.stringify(search)]);
    const machine = describeMachine();
    return { vectors, ...measured, search, data, fillMs, fillCloseMs, machine: { cores: machine.cores, loadAverage, node: machine.node } };
  } finally {
    if (keep === undefined) await rm(dir, { recursive: true, force: true });
  }
}

function table(result: StoreBenchResult): string {
  const ratio = (a: number, b: number) => `${round(a / b, 1)}x`;
  return [
    `${result.vectors.toLocaleString('en-US')} ${result.data} vectors x ${DIMENSION}-d, ${result.queries} top-${LIMIT} queries per series (${result.machine.cores} cores, load ${result.machine.loadAverage}):`,
    `  default, whole tenant:  p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, recall@10 ${result.recallAt10}`,
    `  default, one channel:   p50 ${result.filteredP50Ms} ms, p99 ${result.filteredP99Ms} ms, recall@10 ${result.filteredRecallAt10}`,
    `  exact, whole tenant:    p50 ${result.exactP50Ms} ms, p99 ${result.exactP99Ms} ms (default is ${ratio(result.exactP50Ms, result.p50Ms)} faster)`,
    `  exact, one channel:     p50 ${result.exactFilteredP50Ms} ms (default is ${ratio(result.exactFilteredP50Ms, result.filteredP50Ms)} faster)`,
    `  reopen until answerable ${result.reopenMs} ms (open alone ${result.openMs} ms)`,
    `  long scans on ${result.scanThreads} thread(s); search knobs ${JSON.stringify(result.search)}`,
    `  resident ${result.rssMiB} MiB after queries (${result.rssBeforeOpenMiB} MiB before open, peak ${result.peakRssMiB} MiB)`,
    result.fillMs === null ? '  (reused a kept store)' : `  fill ${round(result.fillMs / 1000, 1)} s, close after fill ${result.fillCloseMs} ms`,
  ].join('\n');
}

/** `npm run bench -- store ...` (argv after "store"); resolves to the exit code. */
export async function runStoreBench(argv: readonly string[]): Promise<number> {
  let sizes: number[];
  let data: VectorData;
  let queries: number;
  let json: boolean;
  let keep: string | undefined;
  let search: Partial<SearchTuning>;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        vectors: { type: 'string', default: '100000' },
        data: { type: 'string', default: 'clustered' },
        queries: { type: 'string', default: String(DEFAULT_QUERIES) },
        json: { type: 'boolean', default: false },
        keep: { type: 'string' },
        search: { type: 'string', default: '{}' },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      log(STORE_USAGE);
      return 0;
    }
    sizes = values.vectors.split(',').map((value) => count('vectors', value));
    if (values.data !== 'clustered' && values.data !== 'uniform') throw new Error(`--data must be clustered or uniform, not "${values.data}"`);
    data = values.data;
    queries = count('queries', values.queries);
    json = values.json;
    keep = values.keep;
    search = parseSearch(values.search);
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}\n\n${STORE_USAGE}`);
    return 2;
  }
  for (const size of sizes) {
    const result = await benchOneSize(size, data, queries, keep, search);
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${table(result)}\n`);
  }
  return 0;
}

// Run directly: a child phase (see runPhase) when the first argument is --phase, else the bench.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--phase') {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        phase: { type: 'string' },
        path: { type: 'string' },
        vectors: { type: 'string' },
        data: { type: 'string' },
        queries: { type: 'string' },
        search: { type: 'string', default: '{}' },
      },
    });
    const path = values.path ?? '';
    const data = values.data as VectorData;
    if (values.phase === 'fill') await fillPhase(path, Number(values.vectors), data);
    else await measurePhase(path, Number(values.vectors), data, Number(values.queries), parseSearch(values.search));
  } else {
    process.exitCode = await runStoreBench(process.argv.slice(2));
  }
}
