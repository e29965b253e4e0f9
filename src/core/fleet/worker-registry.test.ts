// The fleet's list of live processes, on a real redis-server: a process that joins is listed with
// its host, pid and device; one that stops beating (killed) drops out after its lease while the
// living stay; stop() leaves at once; job counts and jobs/s reach the list; Redis going away
// costs one warning and no crash, and the process is listed again when Redis is back.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { captureLog, waitUntil } from '../testing/wait-until.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { JOBS_RATE_WINDOW_SECONDS, WORKER_KEY_PREFIX, WorkerRegistry, type WorkerIdentity } from './worker-registry.js';

/** Long enough that nothing expires during a test unless the test wants it to. */
const LONG_LEASE_MS = 60_000;
/** Short, so a stopped heartbeat expires within the test (heartbeats every 500 ms). */
const SHORT_LEASE_MS = 1_500;

const GPU_WORKER: WorkerIdentity = { host: 'gpu-1', pid: 4242, device: 'cuda:0', role: 'worker' };
const REPLICA: WorkerIdentity = { host: 'web-1', pid: 77, device: 'cpu', role: 'replica' };

let server: TestRedisServer;
const opened: Redis[] = [];
const registries: WorkerRegistry[] = [];

function connection(): Redis {
  const redis = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
  opened.push(redis);
  return redis;
}

function registry(leaseMs: number, options: { redis?: Redis; now?: () => number; logger?: ReturnType<typeof createSilentLogger> } = {}): WorkerRegistry {
  const made = new WorkerRegistry({ redis: options.redis ?? connection(), leaseMs, logger: options.logger ?? createSilentLogger(), now: options.now });
  registries.push(made);
  return made;
}

/** Another process's view of the fleet: its own connection (ready), never joined. */
async function observer(): Promise<WorkerRegistry> {
  const redis = connection();
  await waitUntil(() => redis.status === 'ready', 'the connection');
  return registry(LONG_LEASE_MS, { redis });
}

beforeAll(async () => {
  server = await TestRedisServer.start();
});

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.stop()));
  await Promise.all(opened.splice(0).map((redis) => closeRedis(redis)));
  const admin = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
  await waitUntil(() => admin.status === 'ready', 'the admin connection');
  await admin.flushall();
  await closeRedis(admin);
});

afterAll(async () => {
  await server.remove();
});

describe('the fleet worker registry', () => {
  it('lists a process that joined, with its host, pid, device and role, to every other process', async () => {
    const worker = registry(LONG_LEASE_MS);
    worker.join(GPU_WORKER);
    const replica = registry(LONG_LEASE_MS);
    replica.join(REPLICA);

    const watcher = await observer();
    const alive = await waitUntil(async () => {
      const seen = await watcher.alive();
      return seen.length === 2 && seen;
    }, 'both processes to be listed');

    expect(alive.map(({ host, pid, device, role }) => ({ host, pid, device, role }))).toEqual([GPU_WORKER, REPLICA]);
    expect(alive[0]?.id).toBe(worker.id);
    expect(alive[0]?.id).toMatch(/^gpu-1-4242-[0-9a-f]{6}$/);
    expect(alive[0]).toMatchObject({ jobsDone: 0, jobsFailed: 0, jobsPerSecond: 0 });
  });

  it('drops a process whose heartbeats stopped (killed) after its lease, and keeps the living one listed past it', async () => {
    const killedConnection = connection();
    const killed = registry(SHORT_LEASE_MS, { redis: killedConnection });
    killed.join(GPU_WORKER);
    const joinedAt = Date.now();
    const living = registry(SHORT_LEASE_MS);
    living.join(REPLICA);
    const watcher = await observer();
    await waitUntil(async () => (await watcher.alive()).length === 2, 'both processes to be listed');

    // What kill -9 does to the fleet: the process's connection is gone and no heartbeat comes again.
    killedConnection.disconnect();

    const alive = await waitUntil(async () => {
      const seen = await watcher.alive();
      return seen.length === 1 && seen;
    }, 'the killed process to drop out');
    expect(alive.map((w) => w.id)).toEqual([living.id]);
    // The living process is still listed a whole lease after it joined: it renewed its key.
    const renewed = await waitUntil(
      async () => (await watcher.alive()).find((w) => w.id === living.id && w.lastSeenAt >= joinedAt + SHORT_LEASE_MS),
      'a heartbeat of the living process one lease after it joined',
    );
    expect(renewed.role).toBe('replica');
  });

  it('forgets a process that stopped at once, without waiting for its lease', async () => {
    const worker = registry(LONG_LEASE_MS);
    worker.join(GPU_WORKER);
    const watcher = await observer();
    await waitUntil(async () => (await watcher.alive()).length === 1, 'the worker to be listed');

    await worker.stop();

    expect(await watcher.alive()).toEqual([]);
  });

  it('reports the jobs a process ended, ok and failed, and its jobs per second over the last minute', async () => {
    let now = 1_000_000;
    const worker = registry(SHORT_LEASE_MS, { now: () => now });
    worker.join(GPU_WORKER);
    now += 2_000;
    worker.jobEnded('ok');
    worker.jobEnded('ok');
    worker.jobEnded('ok');
    worker.jobEnded('failed');
    const watcher = await observer();

    const busy = await waitUntil(async () => (await watcher.alive()).find((w) => w.jobsDone === 3), 'the jobs to reach the list');
    // Four jobs ended in the two seconds since it joined.
    expect(busy).toMatchObject({ jobsDone: 3, jobsFailed: 1, jobsPerSecond: 2, startedAt: 1_000_000, lastSeenAt: 1_002_000 });

    now += (JOBS_RATE_WINDOW_SECONDS + 1) * 1000;
    const idle = await waitUntil(async () => (await watcher.alive()).find((w) => w.lastSeenAt === now), 'a heartbeat a minute later');
    // The jobs left the window; the totals stay.
    expect(idle).toMatchObject({ jobsDone: 3, jobsFailed: 1, jobsPerSecond: 0 });
  });

  it('skips keys under its prefix that no heartbeat wrote', async () => {
    const redis = connection();
    await waitUntil(() => redis.status === 'ready', 'the connection');
    await redis.set(`${WORKER_KEY_PREFIX}not-a-hash`, 'x');
    await redis.hset(`${WORKER_KEY_PREFIX}half`, { host: 'h' });
    const worker = registry(LONG_LEASE_MS);
    worker.join(GPU_WORKER);

    const watcher = await observer();
    const alive = await waitUntil(async () => {
      const seen = await watcher.alive();
      return seen.length > 0 && seen;
    }, 'the worker to be listed');
    expect(alive.map((w) => w.id)).toEqual([worker.id]);
  });

  it('never keeps a finished process alive: its heartbeat timer is unref’d', async () => {
    const redis = connection();
    await waitUntil(() => redis.status === 'ready', 'the connection');
    const worker = registry(LONG_LEASE_MS, { redis });
    // join() starts the heartbeat synchronously: the only interval set during the call is it.
    // (Counting the process's active timers instead raced with the client's own timers.)
    const intervals = vi.spyOn(globalThis, 'setInterval');
    let heartbeats: NodeJS.Timeout[];
    try {
      worker.join(GPU_WORKER);
      heartbeats = intervals.mock.results.map((result) => result.value as NodeJS.Timeout);
    } finally {
      intervals.mockRestore();
    }
    expect(heartbeats).toHaveLength(1);
    expect(heartbeats[0]?.hasRef()).toBe(false);
    const watcher = await observer();
    await waitUntil(async () => (await watcher.alive()).length === 1, 'the worker to be listed');
  });
});

describe('the fleet worker registry while Redis is down', () => {
  let own: TestRedisServer;

  beforeAll(async () => {
    own = await TestRedisServer.start();
  });

  afterAll(async () => {
    await own.remove();
  });

  it('keeps the process running, warns once per outage, and lists it again when Redis is back', async () => {
    const log = captureLog('info');
    const redis = openRedis({ url: own.url, role: 'quick', logger: createSilentLogger() });
    opened.push(redis);
    const worker = registry(SHORT_LEASE_MS, { redis, logger: log.logger });
    worker.join(GPU_WORKER);
    await waitUntil(async () => redis.status === 'ready' && (await worker.alive()).length === 1, 'the worker to be listed');

    await own.stop();
    // Several heartbeats fail (one every 500 ms); none throws out of the timer.
    await waitUntil(() => worker.missedHeartbeats >= 3, 'three heartbeats to fail');
    const warnings = log.lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/cannot send a heartbeat to Redis/);

    await own.restart();
    await waitUntil(async () => redis.status === 'ready' && (await worker.alive()).some((w) => w.id === worker.id), 'the worker to be listed again');
    expect(worker.missedHeartbeats).toBe(0);
    await log.waitFor((line) => /heartbeats reach Redis again/.test(line.msg ?? ''), 'the recovery');

    // A second outage warns again, once.
    await own.stop();
    await waitUntil(() => worker.missedHeartbeats >= 2, 'heartbeats to fail again');
    expect(log.lines.filter((line) => line.level === 40)).toHaveLength(2);
    await worker.stop();
    // Up again for the next test, whatever the order.
    await own.restart();
  });

  it('keeps the process running when a full Redis refuses the heartbeat (noeviction), with one warning', async () => {
    const log = captureLog('info');
    const redis = openRedis({ url: own.url, role: 'quick', logger: createSilentLogger() });
    opened.push(redis);
    const worker = registry(SHORT_LEASE_MS, { redis, logger: log.logger });
    worker.join(GPU_WORKER);
    await waitUntil(async () => redis.status === 'ready' && (await worker.alive()).length === 1, 'the worker to be listed');

    // Full: with noeviction Redis refuses every write (OOM) while the connection stays up.
    await redis.config('SET', 'maxmemory', '1');
    await waitUntil(() => worker.missedHeartbeats >= 2, 'two heartbeats to be refused');
    const warnings = log.lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]?.err)).toMatch(/OOM/);

    await redis.config('SET', 'maxmemory', '0');
    await waitUntil(() => worker.missedHeartbeats === 0, 'a heartbeat to be accepted again');
    await worker.stop();
  });
});
