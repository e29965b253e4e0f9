// `npm run bench -- cold`: how long a one-shot `findimage search` takes from a cold start, and how
// much memory it needs. It spawns the real CLI (bin/findimage.js over the bundled dist/, rebuilt
// first when stale, as the e2e tests do) on a store it indexed with that same CLI, times from the
// spawn to the first result line, and reads the process's peak resident memory (VmHWM, worker
// threads included) as it exits. --before <checkout> runs an older build, built in that folder,
// the same way in the same run, alternating with this one, for a before/after ratio. Each run also
// times `findimage --help` (each build) and `node -e 0`, spawn to exit, as the floor a cold search
// is measured against: what Node and the command line cost before any model or store is opened.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import buildDistIfStale from '../test/e2e/fresh-build.js';
import { seededRandom } from '../src/core/evaluation/bootstrap.js';
import { chooseBenchModel } from './bench-model.js';
import type { BenchModel } from './bench-options.js';
import { describeMachine, type MachineInfo } from './machine-info.js';

export const COLD_USAGE = `Usage: npm run bench -- cold [options]
  --json              print one JSON object: {"firstResultMs", "rssMiB", "helpMs", "nodeMs", ...}
  --model <name>      vit-b32-random (default: ViT-B/32-shaped, random weights) or tiny-test
  --before <dir>      also run the build in <dir> (a checkout with node_modules and dist/ built),
                      alternating with this one, and report the ratios
  --runs <n>          timed searches per build (default ${5}); the median is reported
  --images <n>        images indexed into the store first (default ${24})`;

/** Timed searches per build by default: the median of 5 is steady on a shared 2-core machine. */
const DEFAULT_RUNS = 5;
/** Images in the searched store: enough to print a full page of results. */
const DEFAULT_IMAGES = 24;
/** Side of the generated images; small, since only the search is timed. */
const IMAGE_WIDTH = 640;
const IMAGE_HEIGHT = 480;
const QUERY = 'a photo of a dog on the beach';
/** A result row of the CLI's table: rank, score, image. */
const RESULT_ROW = /^\s+1\s+-?\d+\.\d+\s+\S/m;
/** A cold search that takes longer than this has hung. */
const SEARCH_TIMEOUT_MS = 120_000;
/** FINDIMAGE_* settings a user may set to bench another configuration; the rest are the bench's. */
const PASSED_THROUGH = ['FINDIMAGE_DEVICE', 'FINDIMAGE_WORKERS', 'FINDIMAGE_SEARCH_WORKERS'] as const;
const PRELOAD = pathToFileURL(join(import.meta.dirname, 'cold-child-preload.mjs')).href;

interface ColdOptions {
  json: boolean;
  model: BenchModel;
  before?: string;
  runs: number;
  images: number;
}

/** One build's figures: medians over the timed runs. */
export interface ColdFigures {
  /** Spawn to the first result line on stdout, median, ms. */
  firstResultMs: number;
  /** Peak resident memory of the CLI process (VmHWM), median, MiB. */
  rssMiB: number;
  /** CPU time of the whole process (every thread), median, ms: what load from others inflates least. */
  cpuMs: number;
  /** The untimed first search after indexing, ms (for this build: it writes the graph cache). */
  warmupMs: number;
  /** `findimage --help`, spawn to exit, median, ms. */
  helpMs: number;
  /** Every run's figures, in order. */
  samples: Sample[];
}

/** One timed search, and the build's --help timed beside it. */
interface Sample {
  firstResultMs: number;
  rssMiB: number;
  cpuMs: number;
  helpMs: number;
}

/** What `cold --json` prints: this build's figures at the top level, the older build's beside. */
export interface ColdResults extends ColdFigures {
  command: string;
  machine: MachineInfo;
  model: BenchModel;
  query: string;
  images: number;
  /** `node -e 0`, spawn to exit, median over the runs, ms: the floor of any command. */
  nodeMs: number;
  /** The --before build's figures and this build's as a share of them. */
  before?: ColdFigures & { dir: string; firstResultRatio: number; rssRatio: number; cpuRatio: number };
}

function parseColdOptions(argv: readonly string[]): ColdOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      json: { type: 'boolean', default: false },
      model: { type: 'string', default: 'vit-b32-random' },
      before: { type: 'string' },
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      images: { type: 'string', default: String(DEFAULT_IMAGES) },
    },
    strict: true,
  });
  if (values.model !== 'vit-b32-random' && values.model !== 'tiny-test') {
    throw new Error(`--model must be vit-b32-random or tiny-test; got ${values.model}.`);
  }
  const count = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1; got ${value}.`);
    return n;
  };
  return {
    json: values.json,
    model: values.model,
    ...(values.before === undefined ? {} : { before: resolve(values.before) }),
    runs: count('runs', values.runs),
    images: count('images', values.images),
  };
}

/** Noise over a gradient, so each image decodes like a photo and embeds differently. */
async function writeImages(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const path = join(dir, `photo-${String(i).padStart(3, '0')}.jpg`);
    if (existsSync(path)) continue;
    const random = seededRandom(0xc01d + i);
    const pixels = Buffer.allocUnsafe(IMAGE_WIDTH * IMAGE_HEIGHT * 3);
    const base = [random() * 255, random() * 255, random() * 255];
    for (let p = 0; p < pixels.length; p++) pixels[p] = Math.max(0, Math.min(255, (base[p % 3] as number) + (random() - 0.5) * 96));
    await sharp(pixels, { raw: { width: IMAGE_WIDTH, height: IMAGE_HEIGHT, channels: 3 } }).jpeg({ quality: 85 }).toFile(path);
  }
}

/** A build of findimage: its folder and the environment its CLI runs with. */
interface Build {
  label: 'after' | 'before';
  dir: string;
  env: NodeJS.ProcessEnv;
}

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() at the first result row, if one came. */
  firstResultAt?: number;
}

function runCli(build: Build, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Spawned> {
  const child = spawn(process.execPath, ['--import', PRELOAD, join(build.dir, 'bin', 'findimage.js'), ...args], {
    env: { ...build.env, ...extraEnv },
    cwd: build.env.HOME,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result: Spawned = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    result.stdout += chunk.toString();
    if (result.firstResultAt === undefined && RESULT_ROW.test(result.stdout)) result.firstResultAt = performance.now();
  });
  child.stderr.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), SEARCH_TIMEOUT_MS);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      result.code = code;
      resolvePromise(result);
    });
  });
}

function failed(build: Build, what: string, result: Spawned): Error {
  return new Error(`The ${build.label} build's ${what} exited with ${String(result.code)}:\n${result.stderr}${result.stdout}`.slice(0, 4000));
}

/** Spawn to exit of `node args`, ms. */
async function timedExit(args: string[], build: Build): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: build.env, cwd: build.env.HOME, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', resolvePromise);
  });
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${String(code)}`);
  return performance.now() - started;
}

async function timedSearch(build: Build, peakFile: string): Promise<Sample> {
  const helpMs = await timedExit([join(build.dir, 'bin', 'findimage.js'), '--help'], build);
  await rm(peakFile, { force: true });
  const started = performance.now();
  const result = await runCli(build, ['search', QUERY], { COLD_BENCH_PEAK_FILE: peakFile });
  if (result.code !== 0 || result.firstResultAt === undefined) throw failed(build, 'search', result);
  const exit = JSON.parse(await readFile(peakFile, 'utf8')) as { peakKiB: number; cpuMs: number };
  return { firstResultMs: result.firstResultAt - started, rssMiB: exit.peakKiB / 1024, cpuMs: exit.cpuMs, helpMs };
}

/**
 * The model registry module the bench's preload extends: the bundle's entry (dist/model-registry.js)
 * or, in a build from before the bundle, the compiled file; undefined when `dir` has no build.
 */
function registryOf(dir: string): string | undefined {
  return [join(dir, 'dist', 'model-registry.js'), join(dir, 'dist', 'core', 'models', 'model-registry.js')].find((path) => existsSync(path));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function figures(samples: Sample[], warmupMs: number): ColdFigures {
  return {
    firstResultMs: Math.round(median(samples.map((s) => s.firstResultMs))),
    rssMiB: Math.round(median(samples.map((s) => s.rssMiB))),
    cpuMs: Math.round(median(samples.map((s) => s.cpuMs))),
    warmupMs: Math.round(warmupMs),
    helpMs: Math.round(median(samples.map((s) => s.helpMs))),
    samples: samples.map((s) => ({ firstResultMs: Math.round(s.firstResultMs), rssMiB: Math.round(s.rssMiB), cpuMs: Math.round(s.cpuMs), helpMs: Math.round(s.helpMs) })),
  };
}

/** Runs the cold-search bench; resolves to the process exit code. */
export async function runColdBench(argv: readonly string[], root: string, log: (line: string) => void): Promise<number> {
  let options: ColdOptions;
  try {
    options = parseColdOptions(argv);
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}\n\n${COLD_USAGE}`);
    return 2;
  }
  const machine = describeMachine();
  const command = `npm run bench -- cold ${argv.join(' ')}`.trim();
  log(`${command}\n${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart}`);

  buildDistIfStale();
  if (options.before !== undefined && registryOf(options.before) === undefined) {
    log(`${options.before} has no built dist/: build it there first (npm run build).`);
    return 2;
  }
  const choice = chooseBenchModel(options.model, root, log);
  const work = join(root, '.bench', 'cold');
  const photos = join(work, 'photos');
  await writeImages(photos, options.images);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const passed = Object.fromEntries(PASSED_THROUGH.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));
  const makeBuild = (label: Build['label'], dir: string): Build => {
    const home = join(work, `${stamp}-${label}`);
    return {
      label,
      dir,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        FINDIMAGE_DATA: join(home, 'data'),
        // Shared, so the model's one-time sha256 check is not part of any timed run.
        FINDIMAGE_CACHE: join(root, '.bench', 'cache'),
        LOG_LEVEL: 'warn',
        FINDIMAGE_MIN_RELATIVE_SCORE: '0',
        ...passed,
        ...choice.env,
        ...(choice.spec === undefined
          ? {}
          : {
              COLD_BENCH_MODEL_SPEC: JSON.stringify(choice.spec),
              COLD_BENCH_REGISTRY: pathToFileURL(registryOf(dir) ?? join(dir, 'dist', 'model-registry.js')).href,
            }),
      },
    };
  };
  const builds = [makeBuild('after', root), ...(options.before === undefined ? [] : [makeBuild('before', options.before)])];
  const samples = new Map<Build['label'], Sample[]>(builds.map((b) => [b.label, []]));
  const nodeSamples: number[] = [];
  const warmups = new Map<Build['label'], number>();
  try {
    for (const build of builds) {
      await mkdir(build.env.HOME as string, { recursive: true });
      log(`Indexing ${options.images} images with the ${build.label} build (${build.dir})...`);
      const indexed = await runCli(build, ['index', photos]);
      if (indexed.code !== 0) throw failed(build, 'index', indexed);
      // Not in the medians: brings the model files into the page cache for both builds alike,
      // and lets this build write its graph cache, as any first run on a machine does.
      const warmStarted = performance.now();
      const warm = await runCli(build, ['search', QUERY]);
      if (warm.code !== 0) throw failed(build, 'warm-up search', warm);
      warmups.set(build.label, performance.now() - warmStarted);
    }
    for (let run = 0; run < options.runs; run++) {
      nodeSamples.push(await timedExit(['-e', '0'], builds[0] as Build));
      // Alternating, so that load from other processes weighs on both builds alike.
      for (const build of run % 2 === 0 ? builds : [...builds].reverse()) {
        const sample = await timedSearch(build, join(build.env.HOME as string, 'peak'));
        samples.get(build.label)?.push(sample);
        log(
          `  ${build.label} run ${run + 1}: first result ${sample.firstResultMs.toFixed(0)} ms, peak ${sample.rssMiB.toFixed(0)} MiB, CPU ${sample.cpuMs.toFixed(0)} ms; --help ${sample.helpMs.toFixed(0)} ms, node -e 0 ${(nodeSamples.at(-1) ?? 0).toFixed(0)} ms`,
        );
      }
    }
  } finally {
    for (const build of builds) await rm(build.env.HOME as string, { recursive: true, force: true });
  }

  const after = figures(samples.get('after') ?? [], warmups.get('after') ?? Number.NaN);
  const beforeSamples = samples.get('before');
  const results: ColdResults = {
    ...after,
    command,
    machine,
    model: options.model,
    query: QUERY,
    images: options.images,
    nodeMs: Math.round(median(nodeSamples)),
    ...(beforeSamples === undefined || options.before === undefined
      ? {}
      : (() => {
          const before = figures(beforeSamples, warmups.get('before') ?? Number.NaN);
          return {
            before: {
              ...before,
              dir: options.before,
              firstResultRatio: Math.round((after.firstResultMs / before.firstResultMs) * 100) / 100,
              rssRatio: Math.round((after.rssMiB / before.rssMiB) * 100) / 100,
              cpuRatio: Math.round((after.cpuMs / before.cpuMs) * 100) / 100,
            },
          };
        })()),
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } else {
    const lines = [`Cold \`findimage search\` (${options.model}, ${options.images} images, median of ${options.runs}):`];
    if (results.before !== undefined) {
      const b = results.before;
      lines.push(`  before (${b.dir}): first result ${b.firstResultMs} ms, peak ${b.rssMiB} MiB, CPU ${b.cpuMs} ms (first run ${b.warmupMs} ms); --help ${b.helpMs} ms`);
    }
    lines.push(`  this build: first result ${results.firstResultMs} ms, peak ${results.rssMiB} MiB, CPU ${results.cpuMs} ms (first run ${results.warmupMs} ms); --help ${results.helpMs} ms`);
    lines.push(`  node -e 0: ${results.nodeMs} ms`);
    if (results.before !== undefined) {
      const b = results.before;
      lines.push(`  after/before: first result ${b.firstResultRatio}x, peak memory ${b.rssRatio}x, CPU ${b.cpuRatio}x`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}
