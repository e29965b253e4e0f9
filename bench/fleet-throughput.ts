// The fleet bench's first part: images/s of `findimage index <folder>` handed to 1 and to 2
// fleet worker processes (each as `findimage worker` composes it, writing into the embedded
// SQLite store), against the same folder indexed in one process with no queue, with the CPU
// each process used and what Redis ran and kept per image.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { FLEET_QUEUED_BYTES, runIndex } from '../src/cli/commands/index-command.js';
import type { Terminal } from '../src/cli/terminal.js';
import { FleetIndexing } from '../src/core/fleet/fleet-indexing.js';
import { createLogger } from '../src/logger.js';
import { RANDOM_VIT_B32_ID } from './bench-model.js';
import type { BenchModel } from './bench-options.js';
import { startChild, watchCpu, type CpuShare } from './fleet-processes.js';
import { withComment } from './jpeg-corpus.js';
import { commandStats, countsSince, perJob, total, usedMemory } from './redis-command-counts.js';

/** Jobs a worker process takes at once: `findimage worker`'s default. */
export const WORKER_CONCURRENCY = 8;

const SILENT_TERMINAL: Terminal = {
  out: () => {},
  err: () => {},
  progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
};

/** One way of indexing the folder, timed. */
export interface ThroughputRound {
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

export interface Setting {
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
export const SETTINGS: Setting[] = [
  { name: 'no queue: findimage index in one process', mode: 'direct', cpus: [undefined] },
  { name: 'fleet, 1 worker process', mode: 'fleet', cpus: [undefined] },
  { name: 'fleet, 2 worker processes, 1 core each', mode: 'fleet', cpus: ['0', '1'] },
  { name: 'fleet, 2 worker processes, unpinned', mode: 'fleet', cpus: [undefined, undefined] },
];

export async function measureThroughput(
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
            topCommands: perJob(commands, images),
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

