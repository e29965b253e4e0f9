// The fleet bench's second part: the queue's own cost per job, with a worker whose indexer
// returns at once: jobs/s, add-to-done latency, Redis commands (INFO commandstats) and round
// trips (MONITOR, each BullMQ script named), for small jobs and photo-sized ones, and what an
// fsync per write or the append-only file costs.
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { FleetIndexing } from '../src/core/fleet/fleet-indexing.js';
import { createLogger } from '../src/logger.js';
import { startChild, watchCpu, type CpuShare } from './fleet-processes.js';
import { WORKER_CONCURRENCY } from './fleet-throughput.js';
import { seededRandom, withComment } from './jpeg-corpus.js';
import { percentile, summarizeLatencies, type LatencySummary } from './latency-summary.js';
import { bullmqScriptNames, commandStats, countsSince, perJob, top, total, usedMemory, watchCommands } from './redis-command-counts.js';

/** The queue part's small job: about 1 KiB, so that what is timed is the queue's fixed cost per job. */
const SMALL_JOB = { width: 40, height: 30 };
/** The queue part's photo job: a 1-megapixel JPEG of noise, about 750 KiB, a typical chat upload. */
const PHOTO_JOB = { width: 1200, height: 900 };
const QUEUE_JPEG_QUALITY = 85;
/** Jobs in flight in the queue part's throughput series (FLEET_HANDOVER: 64 a batch, 4 batches). */
export const QUEUE_IN_FLIGHT = 256;
/** Jobs watched with MONITOR (which slows Redis: counted apart from the timed series). */
const MONITORED_JOBS = 100;
/** Seconds of an idle fleet whose background commands (heartbeats, stalled checks) are counted. */
const IDLE_SECONDS = 5;
/** What docs/fleet.md asks of production Redis (the tests' server runs `always`). */
export const PRODUCTION_FSYNC = 'everysec';

export interface QueueSeries {
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
export interface MonitoredSeries {
  name: string;
  jobs: number;
  inFlight: number;
  roundTripsPerJob: number;
  inScriptsPerJob: number;
  roundTrips: Array<[string, number]>;
  inScripts: Array<[string, number]>;
}

export interface QueueResults {
  /** Commands a second while no job is queued (heartbeats, stalled checks, blocking waits). */
  idleCommandsPerSecond: number;
  idleTop: Array<[string, number]>;
  series: QueueSeries[];
  monitored: MonitoredSeries[];
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

export async function measureQueue(
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
        topCommands: perJob(commands, jobs),
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
        roundTrips: perJob(seen.roundTrips, jobs),
        inScripts: perJob(seen.inScripts, jobs),
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

