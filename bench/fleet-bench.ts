// `npm run bench -- fleet`: issue 17's figures. (1) Images/s of `findimage index <folder>` handed
// to 1 and to 2 fleet worker processes (BullMQ on a real redis-server, Redis content claims,
// heartbeats), each worker embedding with the ViT-B/32-shaped bench model and writing into the
// embedded SQLite store, against the same folder indexed in one process with no queue. (2) The
// queue's own cost per image, with workers whose indexer returns at once: ms and Redis commands
// and round trips. Prints the figures and writes .bench/fleet-results.json.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { FLEET_QUEUED_BYTES, runIndex } from '../src/cli/commands/index-command.js';
import type { Terminal } from '../src/cli/terminal.js';
import { FleetIndexing } from '../src/core/fleet/fleet-indexing.js';
import { TestRedisServer } from '../src/core/testing/redis-server.js';
import { createLogger } from '../src/logger.js';
import { RANDOM_VIT_B32_ID } from './bench-model.js';
import type { BenchModel } from './bench-options.js';
import { startChild, watchCpu, type CpuShare } from './fleet-processes.js';
import { loadPhotoCorpus, seededRandom, withComment } from './jpeg-corpus.js';
import { percentile, summarizeLatencies, type LatencySummary } from './latency-summary.js';
import { describeMachine, type MachineInfo } from './machine-info.js';
import {
  bullmqScriptNames,
  commandStats,
  countsSince,
  serverPid,
  top,
  total,
  usedMemory,
  watchCommands,
  type CommandCounts,
} from './redis-command-counts.js';

const USAGE = `Usage: npm run bench -- fleet [options]
  --photos N        distinct 12 MP JPEGs (default 24)
  --copies N        copies of each photo in the folder, each made new by a JPEG comment (default 3):
                    every setting indexes photos x copies images a round
  --rounds N        rounds; each times every setting once, in alternating order (default 2)
  --queue-jobs N    small jobs through the no-op worker, many in flight (default 1000; photo jobs: a quarter)
  --serial-jobs N   small jobs one at a time, for the latency of a lone image (default 200; photo jobs: half)
  --only PART       throughput or queue (default both)
  --out PATH        results JSON (default .bench/fleet-results.json)`;

/** Jobs a worker process takes at once: `findimage worker`'s default. */
const WORKER_CONCURRENCY = 8;
/** The queue part's small job: about 1 KiB, so that what is timed is the queue's fixed cost per job. */
const SMALL_JOB = { width: 40, height: 30 };
/** The queue part's photo job: a 1-megapixel JPEG of noise, about 750 KiB, a typical chat upload. */
const PHOTO_JOB = { width: 1200, height: 900 };
const QUEUE_JPEG_QUALITY = 85;
/** Jobs in flight in the queue part's throughput series (FLEET_HANDOVER: 64 a batch, 4 batches). */
const QUEUE_IN_FLIGHT = 256;
/** Jobs watched with MONITOR (which slows Redis: counted apart from the timed series). */
const MONITORED_JOBS = 100;
/** Seconds of an idle fleet whose background commands (heartbeats, stalled checks) are counted. */
const IDLE_SECONDS = 5;
/** What docs/fleet.md asks of production Redis (the tests' server runs `always`). */
const PRODUCTION_FSYNC = 'everysec';

const SILENT_TERMINAL: Terminal = {
  out: () => {},
  err: () => {},
  progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
};

/** One way of indexing the folder, timed. */
interface ThroughputRound {
  name: string;
  /** Which round (each round times every setting once). */
  round: number;
  /** Worker processes (0: no queue, `findimage index` in one process). */
  processes: number;
  /** ONNX Runtime intra-op threads per process, as each reported. */
  intraOpThreads: number[];
  /** taskset core lists, or "any". */
  cores: string[];
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Jobs each worker ended. */
  jobsPerWorker: number[];
  cpu: CpuShare;
  /** Redis commands run per image (inner commands of scripts included), and the top ones. */
  redisCommandsPerImage?: number;
  topCommands?: Array<[string, number]>;
  /** Redis used_memory after the round, less before it, per image (finished jobs are kept). */
  redisBytesKeptPerImage?: number;
}

interface QueueSeries {
  name: string;
  /** Bytes of each job's image (base64 in Redis: a third more). */
  jobBytes: number;
  jobs: number;
  inFlight: number;
  seconds: number;
  jobsPerSecond: number;
  /** index() call to its resolution, ms (p95 beside the summary's p50 and p99). */
  latency: LatencySummary & { p95: number };
  /** Commands Redis ran per job (scripts' inner commands included), and the top ones. */
  commandsPerJob: number;
  topCommands: Array<[string, number]>;
  /** Redis used_memory after the series, less before, per job (finished jobs are kept). */
  redisBytesKeptPerJob: number;
  cpu: CpuShare;
}

/** Commands seen with MONITOR over a series: round trips (client commands) and scripts' inner commands. */
interface MonitoredSeries {
  name: string;
  jobs: number;
  inFlight: number;
  roundTripsPerJob: number;
  inScriptsPerJob: number;
  roundTrips: Array<[string, number]>;
  inScripts: Array<[string, number]>;
}

interface QueueResults {
  /** Commands a second while no job is queued (heartbeats, stalled checks, blocking waits). */
  idleCommandsPerSecond: number;
  idleTop: Array<[string, number]>;
  series: QueueSeries[];
  monitored: MonitoredSeries[];
}

interface FleetBenchResults {
  startedAt: string;
  command: string;
  machine: MachineInfo;
  redis: string;
  throughput?: { photoBytes: number; rounds: ThroughputRound[] };
  queue?: QueueResults;
  durationSeconds: number;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
  return n;
}

const perImage = (counts: CommandCounts, images: number): Array<[string, number]> =>
  top(counts, 12).map(([name, calls]) => [name, Math.round((calls / images) * 1000) / 1000]);

/** Writes the rounds' folder: each photo `copies` times, each copy made new by a JPEG comment. */
async function writeFolder(dir: string, photos: readonly Uint8Array[], copies: number): Promise<number> {
  await mkdir(dir, { recursive: true });
  let n = 0;
  for (const [i, photo] of photos.entries()) {
    for (let copy = 0; copy < copies; copy++) {
      await writeFile(join(dir, `photo-${String(i).padStart(2, '0')}-${copy}.jpg`), copy === 0 ? photo : withComment(photo, `fleet bench copy ${i} ${copy}`));
      n++;
    }
  }
  return n;
}

interface Setting {
  name: string;
  mode: 'direct' | 'fleet';
  /** One entry per process: the taskset core list, or undefined for any core. */
  cpus: Array<string | undefined>;
}

/**
 * The settings compared. On 2 cores, ONNX Runtime gives each process's one embedding worker as
 * many intra-op threads as the cores it may use: unpinned, 2 (so 2 processes run 4 threads on 2
 * cores); pinned to one core, 1. "2 workers, 1 core each" is the fair split of the same 2 cores.
 */
const SETTINGS: Setting[] = [
  { name: 'no queue: findimage index in one process', mode: 'direct', cpus: [undefined] },
  { name: 'fleet, 1 worker process', mode: 'fleet', cpus: [undefined] },
  { name: 'fleet, 2 worker processes, 1 core each', mode: 'fleet', cpus: ['0', '1'] },
  { name: 'fleet, 2 worker processes, unpinned', mode: 'fleet', cpus: [undefined, undefined] },
];

async function measureThroughput(
  root: string,
  work: string,
  redisUrl: string,
  redis: Redis,
  redisPid: number,
  photos: readonly Uint8Array[],
  repeat: { rounds: number; copies: number },
  log: (line: string) => void,
): Promise<ThroughputRound[]> {
  const folder = join(work, 'photos');
  const images = await writeFolder(folder, photos, repeat.copies);
  const model: BenchModel = 'vit-b32-random';
  const cacheDir = join(root, '.bench', 'cache');
  const logger = createLogger({ level: 'warn', pretty: false });
  const rounds: ThroughputRound[] = [];
  // Every setting once a round, in turn; the order reversed every other round, so that a change
  // in what other processes take falls on all settings alike.
  const order = Array.from({ length: repeat.rounds }, (_, r) => (r % 2 === 0 ? SETTINGS : [...SETTINGS].reverse()).map((setting) => ({ round: r + 1, setting })));
  for (const [n, { round: roundNumber, setting }] of order.flat().entries()) {
    // A fresh store each round, shared by the round's workers (the SQLite store takes several
    // writers: WAL, a busy timeout, and each batch in one BEGIN IMMEDIATE transaction).
    const dataDir = join(work, `data-${n}`);
    log(`  round ${roundNumber}, ${setting.name}: starting ${setting.cpus.length} process(es)...`);
    const orders = { root, model, dataDir, cacheDir, redisUrl, concurrency: WORKER_CONCURRENCY };
    const children = setting.cpus.map((cpus) =>
      startChild(root, setting.mode === 'direct' ? { ...orders, mode: 'direct', folder } : { ...orders, mode: 'model' }, cpus),
    );
    const readies = await Promise.all(children.map((c) => c.ready));
    const fleet = setting.mode === 'fleet' ? new FleetIndexing({ redisUrl, modelId: RANDOM_VIT_B32_ID, logger }) : undefined;
    await fleet?.ready();
    const commandsBefore = await commandStats(redis);
    const memoryBefore = await usedMemory(redis);
    const cpu = watchCpu([...children.map((c) => c.pid), redisPid]);
    let ms: number;
    let indexed: number;
    if (fleet === undefined) {
      ({ ms, images: indexed } = await (children[0] as (typeof children)[0]).indexed);
    } else {
      const started = performance.now();
      const summary = await runIndex({ indexer: fleet }, folder, SILENT_TERMINAL, { readAheadBytes: FLEET_QUEUED_BYTES });
      ms = performance.now() - started;
      indexed = summary.indexed;
    }
    const share = cpu.end();
    const commands = countsSince(commandsBefore, await commandStats(redis));
    const memoryAfter = await usedMemory(redis);
    await fleet?.close();
    const jobsPerWorker = await Promise.all(children.map((c) => c.stop()));
    await rm(dataDir, { recursive: true, force: true });
    // The finished jobs keep their images' bytes in Redis (see redisBytesKeptPerImage): dropped
    // between rounds, so that a long run does not fill the machine's memory and disk.
    await redis.flushall();
    if (indexed !== images) throw new Error(`${setting.name}: indexed ${indexed} of ${images} images`);
    const round: ThroughputRound = {
      name: setting.name,
      round: roundNumber,
      processes: setting.mode === 'direct' ? 0 : children.length,
      intraOpThreads: readies.map((r) => r.intraOpThreads),
      cores: setting.cpus.map((c) => c ?? 'any'),
      images,
      seconds: ms / 1000,
      imagesPerSecond: (images * 1000) / ms,
      jobsPerWorker: setting.mode === 'direct' ? [] : jobsPerWorker,
      cpu: share,
      ...(fleet === undefined
        ? {}
        : {
            redisCommandsPerImage: total(commands) / images,
            topCommands: perImage(commands, images),
            redisBytesKeptPerImage: (memoryAfter - memoryBefore) / images,
          }),
    };
    log(
      `    ${round.imagesPerSecond.toFixed(2)} images/s (${images} in ${round.seconds.toFixed(1)} s), threads ${round.intraOpThreads.join('+')}, ` +
        `bench used ${share.bench} cores (this process, workers, Redis: ${share.perProcess.join(', ')}), others ${share.others}${round.jobsPerWorker.length > 0 ? `, jobs per worker ${round.jobsPerWorker.join('/')}` : ''}`,
    );
    rounds.push(round);
  }
  return rounds;
}

/** A JPEG of noise, `width` x `height` (decodes like a photo; the no-op workers never decode it). */
async function noiseJpeg(width: number, height: number): Promise<Uint8Array> {
  const random = seededRandom(17);
  const pixels = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: QUEUE_JPEG_QUALITY }).toBuffer();
}

async function runJobs(fleet: FleetIndexing, image: Uint8Array, label: string, jobs: number, inFlight: number): Promise<{ ms: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < jobs) {
      const i = next++;
      const bytes = withComment(image, `${label} ${i}`);
      const t = performance.now();
      await fleet.index({ bytes, tenant: 'bench', source: 'local', filename: `q${i}.jpg` });
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, jobs) }, lane));
  return { ms: performance.now() - started, latencies };
}

async function measureQueue(
  root: string,
  work: string,
  redisUrl: string,
  redis: Redis,
  redisPid: number,
  options: { serialJobs: number; queueJobs: number },
  log: (line: string) => void,
): Promise<QueueResults> {
  const modelId = 'noop-bench';
  const images = { small: await noiseJpeg(SMALL_JOB.width, SMALL_JOB.height), photo: await noiseJpeg(PHOTO_JOB.width, PHOTO_JOB.height) };
  const logger = createLogger({ level: 'warn', pretty: false });
  const worker = startChild(root, { mode: 'noop', root, model: 'tiny-test', dataDir: join(work, 'noop'), cacheDir: join(work, 'noop'), redisUrl, modelId, concurrency: WORKER_CONCURRENCY });
  await worker.ready;
  const fleet = new FleetIndexing({ redisUrl, modelId, logger });
  await fleet.ready();
  try {
    await runJobs(fleet, images.small, 'warm-up', 20, 1);

    log(`  idle fleet for ${IDLE_SECONDS} s (heartbeats, stalled-job checks, blocking waits)...`);
    const idleBefore = await commandStats(redis);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idle = countsSince(idleBefore, await commandStats(redis));

    const series = async (name: string, payload: 'small' | 'photo', jobs: number, inFlight: number): Promise<QueueSeries> => {
      const image = images[payload];
      const before = await commandStats(redis);
      const memoryBefore = await usedMemory(redis);
      const cpu = watchCpu([worker.pid, redisPid]);
      const { ms, latencies } = await runJobs(fleet, image, name, jobs, inFlight);
      const share = cpu.end();
      const commands = countsSince(before, await commandStats(redis));
      const s: QueueSeries = {
        name,
        jobBytes: image.byteLength,
        jobs,
        inFlight,
        seconds: ms / 1000,
        jobsPerSecond: (jobs * 1000) / ms,
        latency: { ...summarizeLatencies(latencies), p95: percentile([...latencies].sort((a, b) => a - b), 95) },
        commandsPerJob: total(commands) / jobs,
        topCommands: perImage(commands, jobs),
        redisBytesKeptPerJob: ((await usedMemory(redis)) - memoryBefore) / jobs,
        cpu: share,
      };
      log(
        `    ${name}: ${jobs} jobs of ${(image.byteLength / 1024).toFixed(0)} KiB, ${inFlight} in flight: ${s.jobsPerSecond.toFixed(0)} jobs/s, ` +
          `add to done p50 ${s.latency.p50.toFixed(1)} ms, p95 ${s.latency.p95.toFixed(1)} ms, ${s.commandsPerJob.toFixed(1)} commands a job, ` +
          `bench used ${share.bench} cores (this process, worker, Redis: ${share.perProcess.join(', ')}), others ${share.others}`,
      );
      return s;
    };
    const all: QueueSeries[] = [];
    all.push(await series('small, one at a time', 'small', options.serialJobs, 1));
    all.push(await series('small, many in flight', 'small', options.queueJobs, QUEUE_IN_FLIGHT));
    all.push(await series('photo, one at a time', 'photo', Math.ceil(options.serialJobs / 2), 1));
    all.push(await series('photo, many in flight', 'photo', Math.ceil(options.queueJobs / 4), QUEUE_IN_FLIGHT));
    // What an fsync before every reply costs (the tests' server runs so): the same series again.
    await redis.config('SET', 'appendfsync', 'always');
    all.push(await series('small, many in flight, appendfsync always', 'small', options.queueJobs, QUEUE_IN_FLIGHT));
    await redis.config('SET', 'appendfsync', PRODUCTION_FSYNC);
    // Whether the photo jobs' cost per byte is the append-only file's disk writes: the same without it.
    await redis.config('SET', 'appendonly', 'no');
    all.push(await series('photo, many in flight, appendonly no', 'photo', Math.ceil(options.queueJobs / 4), QUEUE_IN_FLIGHT));
    await redis.config('SET', 'appendonly', 'yes');

    const scriptNames = bullmqScriptNames(root);
    const monitored = async (name: string, jobs: number, inFlight: number): Promise<MonitoredSeries> => {
      const connection = redis.duplicate();
      const watcher = await watchCommands(connection, scriptNames);
      await runJobs(fleet, images.small, name, jobs, inFlight);
      const seen = await watcher.stop();
      connection.disconnect();
      const m: MonitoredSeries = {
        name,
        jobs,
        inFlight,
        roundTripsPerJob: total(seen.roundTrips) / jobs,
        inScriptsPerJob: total(seen.inScripts) / jobs,
        roundTrips: perImage(seen.roundTrips, jobs),
        inScripts: perImage(seen.inScripts, jobs),
      };
      log(`    ${name}: ${m.roundTripsPerJob.toFixed(1)} round trips a job; ${m.inScriptsPerJob.toFixed(1)} commands inside scripts`);
      return m;
    };
    log('  under MONITOR (round trips; small jobs):');
    const watched = [
      await monitored('small, one at a time', MONITORED_JOBS, 1),
      await monitored('small, many in flight', MONITORED_JOBS * 3, QUEUE_IN_FLIGHT),
    ];
    return {
      idleCommandsPerSecond: total(idle) / IDLE_SECONDS,
      idleTop: top(idle, 8).map(([name, calls]) => [name, calls / IDLE_SECONDS]),
      series: all,
      monitored: watched,
    };
  } finally {
    await fleet.close();
    await worker.stop();
  }
}

function formatResults(r: FleetBenchResults): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`findimage fleet bench, ${r.startedAt}`);
  lines.push(`Command: ${r.command}`);
  lines.push(`Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, load ${m.loadAverageAtStart} at start; ${r.redis}`);
  const t = r.throughput;
  if (t !== undefined) {
    // Each setting over all rounds: images over seconds summed.
    const rate = (name: string | undefined) => {
      const of = t.rounds.filter((x) => x.name === name);
      return of.reduce((sum, x) => sum + x.images, 0) / of.reduce((sum, x) => sum + x.seconds, 0);
    };
    const base = rate(SETTINGS[0]?.name);
    const one = rate(SETTINGS[1]?.name);
    lines.push('');
    lines.push('| setting, all rounds | images/s | vs no queue | vs 1 worker |');
    lines.push('| --- | ---: | ---: | ---: |');
    for (const setting of SETTINGS) {
      const r = rate(setting.name);
      lines.push(`| ${setting.name} | ${r.toFixed(2)} | ${(r / base).toFixed(2)} | ${setting.mode === 'direct' ? '' : (r / one).toFixed(2)} |`);
    }
    lines.push('');
    lines.push(`Images/s, 12 MP JPEGs (${(t.photoBytes / 2 ** 20).toFixed(1)} MiB each on average), vit-b32-random, embedded SQLite store`);
    lines.push('| round | setting | intra-op threads | images | s | images/s | jobs per worker | Redis commands per image | Redis bytes kept per image | CPU cores: this, workers, Redis; others |');
    lines.push('| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |');
    for (const x of t.rounds) {
      lines.push(
        `| ${x.round} | ${x.name} | ${x.intraOpThreads.join(' + ')} | ${x.images} | ${x.seconds.toFixed(1)} | ${x.imagesPerSecond.toFixed(2)} | ` +
          `${x.jobsPerWorker.join(' / ')} | ${x.redisCommandsPerImage?.toFixed(1) ?? ''} | ` +
          `${x.redisBytesKeptPerImage === undefined ? '' : `${(x.redisBytesKeptPerImage / 2 ** 20).toFixed(2)} MiB`} | ${x.cpu.perProcess.join(', ')}; ${x.cpu.others} |`,
      );
    }
    for (const x of t.rounds) if (x.topCommands !== undefined) lines.push(`  round ${x.round}, ${x.name}, commands per image: ${x.topCommands.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  }
  const q = r.queue;
  if (q !== undefined) {
    lines.push('');
    lines.push(`Queue overhead: FleetIndexing here, a no-op worker in 1 process (concurrency ${WORKER_CONCURRENCY})`);
    lines.push('| series | job KiB | jobs | in flight | jobs/s | add to done p50 ms | p95 ms | p99 ms | Redis commands per job | Redis KiB kept per job | CPU cores: this, worker, Redis; others |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const s of q.series) {
      lines.push(
        `| ${s.name} | ${(s.jobBytes / 1024).toFixed(0)} | ${s.jobs} | ${s.inFlight} | ${s.jobsPerSecond.toFixed(0)} | ${s.latency.p50.toFixed(1)} | ${s.latency.p95.toFixed(1)} | ` +
          `${s.latency.p99.toFixed(1)} | ${s.commandsPerJob.toFixed(1)} | ${(s.redisBytesKeptPerJob / 1024).toFixed(0)} | ${s.cpu.perProcess.join(', ')}; ${s.cpu.others} |`,
      );
    }
    for (const s of q.series) lines.push(`  ${s.name}, commands per job: ${s.topCommands.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    lines.push(`  idle fleet: ${q.idleCommandsPerSecond.toFixed(1)} commands/s (${q.idleTop.map(([c, n]) => `${c} ${n.toFixed(1)}`).join(', ')})`);
    for (const w of q.monitored) {
      lines.push(`  MONITOR, ${w.name} (${w.jobs} jobs): ${w.roundTripsPerJob.toFixed(2)} round trips a job: ${w.roundTrips.map(([c, n]) => `${c} ${n}`).join(', ')}`);
      lines.push(`    inside scripts, ${w.inScriptsPerJob.toFixed(1)} commands a job: ${w.inScripts.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    }
  }
  lines.push('');
  lines.push(`Done in ${r.durationSeconds.toFixed(0)} s.`);
  return lines.join('\n');
}

/** Runs the fleet bench; `argv` follows `fleet`. Returns the exit code. */
export async function runFleetBench(argv: readonly string[], root: string, log: (line: string) => void): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        photos: { type: 'string' },
        copies: { type: 'string' },
        rounds: { type: 'string' },
        'queue-jobs': { type: 'string' },
        'serial-jobs': { type: 'string' },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
    if (values.only !== undefined && values.only !== 'throughput' && values.only !== 'queue') throw new Error(`--only must be throughput or queue, not "${values.only}"`);
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const photoCount = positive('photos', values.photos, 24);
  const copies = positive('copies', values.copies, 3);
  const rounds = positive('rounds', values.rounds, 2);
  const queueJobs = positive('queue-jobs', values['queue-jobs'], 1000);
  const serialJobs = positive('serial-jobs', values['serial-jobs'], 200);
  const startedAt = new Date();
  const started = performance.now();
  const machine = describeMachine();
  const command = `npm run bench -- fleet${argv.length === 0 ? '' : ` ${argv.join(' ')}`}`;
  log(`${command}\n${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart}`);
  const work = join(root, '.bench', 'fleet', startedAt.toISOString().replace(/[:.]/g, '-'));
  const server = await TestRedisServer.start();
  const redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const redisPid = await serverPid(redis);
  // Should this process fail, its Redis must not outlive it (the workers exit on their own).
  const killRedis = () => process.kill(redisPid, 'SIGKILL');
  process.once('exit', killRedis);
  try {
    await redis.config('SET', 'appendfsync', PRODUCTION_FSYNC);
    const version = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?';
    const results: FleetBenchResults = {
      startedAt: startedAt.toISOString(),
      command,
      machine,
      redis: `redis-server ${version} on 127.0.0.1, appendonly yes, appendfsync ${PRODUCTION_FSYNC}, noeviction`,
      durationSeconds: 0,
    };
    if (values.only !== 'queue') {
      log(`Reading ${photoCount} photos of 12 MP from .bench/jpeg-12mp (generated once)...`);
      const photos = await loadPhotoCorpus(join(root, '.bench', 'jpeg-12mp'), photoCount);
      log('Images/s with and without the queue:');
      const timed = await measureThroughput(root, work, server.url, redis, redisPid, photos, { rounds, copies }, log);
      results.throughput = { photoBytes: photos.reduce((sum, p) => sum + p.byteLength, 0) / photos.length, rounds: timed };
    }
    if (values.only !== 'throughput') {
      log('The queue alone (no-op worker):');
      await redis.flushall();
      results.queue = await measureQueue(root, work, server.url, redis, redisPid, { serialJobs, queueJobs }, log);
    }
    results.durationSeconds = (performance.now() - started) / 1000;
    process.stdout.write(`\n${formatResults(results)}\n`);
    const out = values.out ?? join(root, '.bench', 'fleet-results.json');
    await mkdir(join(out, '..'), { recursive: true });
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    log(`Figures written to ${out}`);
    return 0;
  } finally {
    redis.disconnect();
    await server.remove();
    process.off('exit', killRedis);
    await rm(work, { recursive: true, force: true });
  }
}
