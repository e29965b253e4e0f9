// `npm run bench -- fleet`: issue 17's figures. (1) Images/s of `findimage index <folder>` handed
// to 1 and to 2 fleet worker processes (BullMQ on a real redis-server, Redis content claims,
// heartbeats), each worker embedding with the ViT-B/32-shaped bench model and writing into the
// embedded SQLite store, against the same folder indexed in one process with no queue. (2) The
// queue's own cost per image, with workers whose indexer returns at once: ms and Redis commands
// and round trips. Prints the figures and writes .bench/fleet-results.json. The parts are
// fleet-throughput.ts and fleet-queue-cost.ts; their processes are fleet-worker-process.ts.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { TestRedisServer } from '../src/core/testing/redis-server.js';
import { PRODUCTION_FSYNC, measureQueue, type QueueResults } from './fleet-queue-cost.js';
import { SETTINGS, WORKER_CONCURRENCY, measureThroughput, type ThroughputRound } from './fleet-throughput.js';
import { loadPhotoCorpus } from './jpeg-corpus.js';
import { describeMachine, type MachineInfo } from './machine-info.js';
import { serverPid } from './redis-command-counts.js';

const USAGE = `Usage: npm run bench -- fleet [options]
  --photos N        distinct 12 MP JPEGs (default 24)
  --copies N        copies of each photo in the folder, each made new by a JPEG comment (default 3):
                    every setting indexes photos x copies images a round
  --rounds N        rounds; each times every setting once, in alternating order (default 2)
  --queue-jobs N    small jobs through the no-op worker, many in flight (default 1000; photo jobs: a quarter)
  --serial-jobs N   small jobs one at a time, for the latency of a lone image (default 200; photo jobs: half)
  --only PART       throughput or queue (default both)
  --out PATH        results JSON (default .bench/fleet-results.json)`;

/** One run's figures, as .bench/fleet-results.json holds them. */
export interface FleetBenchResults {
  /** ISO time the run started. */
  startedAt: string;
  /** The command as typed. */
  command: string;
  machine: MachineInfo;
  /** The Redis server and the settings it ran with. */
  redis: string;
  /** Part 1 (absent with --only queue): the photos' mean size in bytes, and every timed round. */
  throughput?: { photoBytes: number; rounds: ThroughputRound[] };
  /** Part 2 (absent with --only throughput). */
  queue?: QueueResults;
  /** Wall time of the whole run, s. */
  durationSeconds: number;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
  return n;
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
