// Fleet status on a real redis-server with real BullMQ: jobs waiting, delayed for a retry, held by
// a worker and failed for good are counted as BullMQ counts them, and the newest failures come
// with their file, tenant and reason, newest first.
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { readFleetStatus } from './fleet-status.js';
import { indexQueueName, QUEUE_PREFIX } from './index-queue-names.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { WorkerRegistry } from './worker-registry.js';

const MODEL = 'tiny-test';
/** A backoff no test outlives: a job that failed once stays delayed. */
const ONE_HOUR_MS = 3_600_000;

let server: TestRedisServer;
let quick: Redis;
let producer: Queue;
const closers: Array<() => Promise<unknown>> = [];

function imageJob(filename: string, tenant: string) {
  return { image: { tenant, source: 'local', filename, createdAt: '2026-12-07T10:00:00.000Z' } };
}

function bullWorker(process: (job: Job) => Promise<void>): Worker {
  const worker = new Worker(indexQueueName(MODEL), process, {
    connection: openRedis({ url: server.url, role: 'queue', logger: createSilentLogger() }),
    prefix: QUEUE_PREFIX,
  });
  worker.on('error', () => {});
  closers.push(() => worker.close(true));
  return worker;
}

beforeAll(async () => {
  server = await TestRedisServer.start();
  quick = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
  await waitUntil(() => quick.status === 'ready', 'the connection');
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await quick.flushall();
});

afterAll(async () => {
  await closeRedis(quick);
  await server.remove();
});

describe('fleet status', () => {
  it('counts waiting, delayed, active and failed jobs and lists the newest failures with their reasons', async () => {
    producer = new Queue(indexQueueName(MODEL), { connection: openRedis({ url: server.url, role: 'queue', logger: createSilentLogger() }), prefix: QUEUE_PREFIX });
    closers.push(() => producer.close());
    await producer.add('index', imageJob('cat.png', 'T1'), { attempts: 3 });
    await producer.add('index', imageJob('report.pdf', 'T2'), { attempts: 3 });
    await producer.add('index', imageJob('flaky.jpg', 'T1'), { attempts: 3, backoff: { type: 'fixed', delay: ONE_HOUR_MS } });
    await producer.add('index', { bytes: 'AAAA' }, { attempts: 1 });
    const failing = bullWorker(async (job) => {
      const filename = (job.data as { image?: { filename?: string } }).image?.filename;
      // A poison image fails for good at once; a transient error is retried after its backoff.
      if (filename === 'flaky.jpg') throw new Error('Qdrant did not answer');
      if (filename === undefined) throw new Error('the job carries no image');
      throw new UnrecoverableError(filename === 'cat.png' ? 'not an image' : 'image format not supported (PDF)');
    });
    await waitUntil(async () => {
      const counts = await producer.getJobCounts('failed', 'delayed');
      return counts.failed === 3 && counts.delayed === 1;
    }, 'three jobs to fail and one to wait for its retry');
    await failing.close();

    // One job held by a worker (concurrency 1: it takes nothing else meanwhile), two waiting behind it.
    let release = () => {};
    bullWorker(() => new Promise<void>((resolve) => (release = resolve)));
    await producer.add('index', imageJob('held.png', 'T3'));
    await waitUntil(async () => (await producer.getJobCounts('active')).active === 1, 'a worker to hold a job');
    await producer.add('index', imageJob('later-1.png', 'T1'));
    await producer.add('index', imageJob('later-2.png', 'T1'));

    const registry = new WorkerRegistry({ redis: quick, leaseMs: 60_000, logger: createSilentLogger() });
    registry.join({ host: 'gpu-1', pid: 7, device: 'cuda:0', role: 'worker' });
    closers.push(() => registry.stop());
    await waitUntil(async () => (await registry.alive()).length === 1, 'the worker to be listed');

    const status = await readFleetStatus({ connection: quick, modelId: MODEL, registry, failures: 10 });
    release();

    expect(status).toMatchObject({ queue: 'index-tiny-test', workers: 1, active: 1, failed: 3, delayed: 1 });
    expect(status.workerList.map((w) => w.host)).toEqual(['gpu-1']);
    // later-1 and later-2 wait, flaky.jpg waits out its backoff; held.png is active.
    expect(status.waiting).toBe(3);
    expect(status.lastFailures.map(({ filename, tenant, reason }) => ({ filename, tenant, reason }))).toEqual([
      { filename: null, tenant: null, reason: 'the job carries no image' },
      { filename: 'report.pdf', tenant: 'T2', reason: 'image format not supported (PDF)' },
      { filename: 'cat.png', tenant: 'T1', reason: 'not an image' },
    ]);
    for (const failure of status.lastFailures) {
      expect(failure.jobId).toMatch(/^\d+$/);
      expect(Date.parse(failure.at as string)).not.toBeNaN();
    }
  });

  it('lists only as many failures as asked, the newest', async () => {
    producer = new Queue(indexQueueName(MODEL), { connection: openRedis({ url: server.url, role: 'queue', logger: createSilentLogger() }), prefix: QUEUE_PREFIX });
    closers.push(() => producer.close());
    for (const name of ['a.png', 'b.png', 'c.png']) await producer.add('index', imageJob(name, 'T1'));
    const worker = bullWorker(async (job) => {
      throw new UnrecoverableError(`not an image: ${(job.data as { image: { filename: string } }).image.filename}`);
    });
    await waitUntil(async () => (await producer.getJobCounts('failed')).failed === 3, 'three failures');
    await worker.close();
    const registry = new WorkerRegistry({ redis: quick, leaseMs: 60_000, logger: createSilentLogger() });

    const status = await readFleetStatus({ connection: quick, modelId: MODEL, registry, failures: 1 });

    expect(status).toMatchObject({ workers: 0, waiting: 0, active: 0, failed: 3 });
    expect(status.lastFailures.map((f) => f.filename)).toEqual(['c.png']);
  });

  it('reads an empty fleet: a model whose queue was never used', async () => {
    const registry = new WorkerRegistry({ redis: quick, leaseMs: 60_000, logger: createSilentLogger() });

    const status = await readFleetStatus({ connection: quick, modelId: 'clip-vit-b32', registry, failures: 10 });

    expect(status).toEqual({ queue: 'index-clip-vit-b32', workers: 0, workerList: [], waiting: 0, delayed: 0, active: 0, failed: 0, lastFailures: [] });
    // Reading left the caller's connection open.
    expect(await quick.ping()).toBe('PONG');
  });
});
