// The fleet's index queue on a real redis-server with real BullMQ: an image handed to
// FleetIndexing is indexed by a FleetWorker (here with an ImageIndexer on a SQLite store) and
// the caller gets the same result ImageIndexer would give; a bad image fails for good after its
// attempts with its reason; a store outage spends no attempt; an upload re-sent under the same
// job id runs once; and the upload queue forwards to the fleet, keeping uploads while Redis is away.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { StoreError } from '../errors.js';
import { ImageIndexer, type ImageIndexing, type ImageToIndex } from '../indexing/image-indexer.js';
import { UploadQueue, type UploadOutcome } from '../indexing/upload-queue.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { PointInput, VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { captureLog, waitUntil } from '../testing/wait-until.js';
import { FleetIndexing } from './fleet-indexing.js';
import type { IndexJobData } from './index-job.js';
import { QUEUE_PREFIX, indexQueueName } from './index-queue-names.js';
import { queueConnection } from './redis-connection.js';
import { FleetWorker, type JobEnd } from './fleet-worker.js';

const logger = createSilentLogger();
const LEASE_MS = 2_000;

const image = (vector: number[], filename = 'a.png'): ImageToIndex => ({
  bytes: jsonImage(vector),
  filename,
  tenant: 'T1',
  source: 'slack',
  share: { conversation: 'C1', isPublic: true, sharedAt: '2026-01-02T03:04:05.000Z', messageId: 'M1' },
});

describe('the fleet index queue', () => {
  let redis: TestRedisServer;
  let dir: string;
  let store: VectorStore;
  let model: number;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });
  afterAll(async () => {
    await redis.remove();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-fleet-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    // Each test its own queue (a model id of its own), so that no job of one reaches another.
    model = Math.floor(Math.random() * 1e9);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const modelId = () => `test-${model}`;
  const sender = () => {
    const fleet = new FleetIndexing({ redisUrl: redis.url, modelId: modelId(), logger });
    closers.push(() => fleet.close());
    return fleet;
  };
  const worker = (indexer: ImageIndexing, ends: JobEnd[] = []) => {
    const w = new FleetWorker({ redisUrl: redis.url, modelId: modelId(), indexer, concurrency: 4, leaseMs: LEASE_MS, logger, onJobEnd: (end) => ends.push(end), transientDelayMs: 10 });
    closers.push(() => w.close());
    w.start();
    return w;
  };
  const localIndexer = (target: VectorStore = store) => new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store: target, prepare: prepareJsonImage, logger });

  it('indexes an image on a worker and answers as the indexer would', async () => {
    const ends: JobEnd[] = [];
    worker(localIndexer(), ends);
    const result = await sender().index(image([1, 0, 0, 0]));
    expect(result).toMatchObject({ status: 'indexed', payload: { tenant: 'T1', filename: 'a.png', shares: [{ conversation: 'C1' }] } });
    expect(await store.count()).toBe(1);
    expect(await sender().index(image([1, 0, 0, 0], 'again.png'))).toMatchObject({ status: 'duplicate', id: result.id });
    expect(ends.map((e) => e.outcome)).toEqual(['indexed', 'duplicate']);
  });

  it('keeps a finished job without its bytes, and a failed one too, so Redis holds no image it is done with', async () => {
    worker(localIndexer());
    const fleet = sender();
    await fleet.index(image([1, 0, 1, 0]), { jobId: 'kept-ok' });
    await expect(fleet.index({ ...image([1, 0, 0, 0]), bytes: Buffer.from('not an image') }, { jobId: 'kept-bad' })).rejects.toThrow();
    const queue = new Queue<IndexJobData>(indexQueueName(modelId()), { connection: queueConnection(redis.url), prefix: QUEUE_PREFIX });
    closers.push(() => queue.close());
    const [ok, bad] = await Promise.all([Job.fromId<IndexJobData>(queue, 'kept-ok'), Job.fromId<IndexJobData>(queue, 'kept-bad')]);
    expect(ok?.data).toMatchObject({ bytes: '', result: { status: 'indexed' } });
    expect(bad?.data).toMatchObject({ bytes: '', failure: { code: 'image_invalid' } });
  });

  it('fails a bad image for good after its attempts, with its reason', async () => {
    worker(localIndexer());
    const failure = sender().index({ ...image([1, 0, 0, 0]), bytes: Buffer.from('not an image') });
    await expect(failure).rejects.toMatchObject({ code: 'image_invalid', message: 'This file is not an image.' });
    expect(await store.count()).toBe(0);
  });

  it('retries a store outage without spending the attempts', async () => {
    let failures = 5; // more than the job's attempts: only a free retry gets through
    const down: VectorStore = Object.assign(Object.create(store) as VectorStore, {
      upsert: async (points: readonly PointInput[]) => {
        if (failures-- > 0) throw new StoreError('store_unavailable', 'The vector store is unreachable.');
        return store.upsert(points);
      },
      get: store.get.bind(store),
    });
    const ends: JobEnd[] = [];
    worker(localIndexer(down), ends);
    expect(await sender().index(image([0, 1, 0, 0]))).toMatchObject({ status: 'indexed' });
    expect(ends.filter((e) => e.outcome === 'retried')).toHaveLength(5);
  });

  it('runs a job added twice under one id once, and answers both', async () => {
    const ends: JobEnd[] = [];
    const fleet = sender();
    const first = fleet.index(image([0, 0, 1, 0]), { jobId: 'upload-1' });
    const again = sender().index(image([0, 0, 1, 0]), { jobId: 'upload-1' });
    worker(localIndexer(), ends);
    const [a, b] = await Promise.all([first, again]);
    expect(a).toEqual(b);
    expect(ends).toHaveLength(1);
    // Sent again after it finished (a replica restarted before it heard): the kept result answers.
    expect(await sender().index(image([0, 0, 1, 0]), { jobId: 'upload-1' })).toEqual(a);
    expect(ends).toHaveLength(1);
  });

  it('forwards the upload queue to the fleet, keeping each upload until its job finished', async () => {
    const fleet = sender();
    const queue = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer: fleet, logger, retryDelayMs: 5, maxRetryDelayMs: 20 });
    closers.push(() => queue.stop());
    const outcomes: UploadOutcome[] = [];
    queue.onOutcome((o) => outcomes.push(o));
    const jobId = queue.enqueue(image([0, 0, 0, 1]));
    queue.start();
    // No worker yet: the upload waits, on disk, while its job waits in Redis.
    await waitUntil(() => fleet.waiting === 1, 'the job added');
    expect(queue.pending()).toBe(1);
    worker(localIndexer());
    await waitUntil(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ status: 'indexed', jobId });
    expect(queue.pending()).toBe(0);
  });

  it('stops while Redis is down: the caller hears "aborted", nothing hangs or crashes, and Redis comes back', async () => {
    const fleet = sender();
    const log = captureLog('debug');
    const w = new FleetWorker({ redisUrl: redis.url, modelId: modelId(), indexer: localIndexer(), concurrency: 4, leaseMs: LEASE_MS, logger: log.logger });
    closers.push(() => w.close());
    w.start();
    // Let the worker take one job, so that it holds a connection and a lease when Redis dies.
    await fleet.index(image([0, 1, 1, 0]));
    await redis.kill();
    try {
      // The worker has noticed: its connection failed and is being retried (commands queue up then).
      await log.waitFor((line) => line.msg === 'index worker connection error', 'the worker to lose Redis');
      const heard = fleet.index(image([1, 0, 1, 1])).catch((error: unknown) => error);
      // Both close although Redis cannot be told: the worker after one lease, the queue at once.
      await Promise.all([w.close(), fleet.close()]);
      expect(await heard).toMatchObject({ code: 'aborted' });
    } finally {
      // The other tests, in whatever order they run, find Redis up again.
      await redis.restart();
    }
  });

  it('sends an upload again after a replica restart under the same job, which runs once', async () => {
    const path = join(dir, 'uploads.sqlite');
    const first = new FleetIndexing({ redisUrl: redis.url, modelId: modelId(), logger });
    const before = new UploadQueue({ path, indexer: first, logger, retryDelayMs: 5, maxRetryDelayMs: 20 });
    before.enqueue(image([1, 1, 0, 0]));
    before.start();
    await waitUntil(() => first.waiting === 1, 'the job added');
    // The replica stops before any worker took the job (as findimage.close() does it: the queue
    // stops, then the fleet's connection closes): the upload stays on its disk.
    const stopping = before.stop();
    await first.close();
    await stopping;

    const after = new UploadQueue({ path, indexer: sender(), logger, retryDelayMs: 5, maxRetryDelayMs: 20 });
    closers.push(() => after.stop());
    const outcomes: UploadOutcome[] = [];
    after.onOutcome((o) => outcomes.push(o));
    after.start();
    const ends: JobEnd[] = [];
    worker(localIndexer(), ends);
    await waitUntil(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ status: 'indexed' });
    expect(after.pending()).toBe(0);
    expect(ends).toHaveLength(1);
  });
});
