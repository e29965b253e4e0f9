// Deletions and privacy changes across replicas, on a real redis-server with real BullMQ: replica
// B receives an upload and hands it to the fleet, replica A receives the deletion or privacy
// change and applies it (marking it in Redis first), and a FleetWorker indexes B's job on a
// store both replicas share. Whatever the order, a deleted image never comes back (B is told
// "withdrawn") and an image of a conversation made private is never written public.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { ShareUpdate } from '../conversations/share-updates.js';
import { ImageIndexer, type ImageToIndex } from '../indexing/image-indexer.js';
import { UploadQueue, type UploadOutcome } from '../indexing/upload-queue.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, PointInput, VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { FleetIndexing } from './fleet-indexing.js';
import { FleetWorker, type JobEnd } from './fleet-worker.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { ShareMarks } from './share-marks.js';

const logger = createSilentLogger();
const LEASE_MS = 2_000;
const T = 'T1';

/** An upload of message M1 in conversation C1. */
const upload = (isPublic = true): ImageToIndex => ({
  bytes: jsonImage([1, 0, 0, 0]),
  filename: 'cat.png',
  tenant: T,
  source: 'slack',
  share: { conversation: 'C1', isPublic, sharedAt: '2026-01-02T03:04:05.000Z', messageId: 'M1', fileId: 'F1' },
});
const messageDeleted: ShareUpdate = { kind: 'message_deleted', tenant: T, conversation: 'C1', messageId: 'M1' };
const madePrivate: ShareUpdate = { kind: 'conversation_visibility_changed', tenant: T, conversation: 'C1', isPublic: false };
const madePublic: ShareUpdate = { kind: 'conversation_visibility_changed', tenant: T, conversation: 'C1', isPublic: true };

/** One serving replica: its own queue file and fleet connection, marking updates before applying them. */
interface Replica {
  queue: UploadQueue;
  fleet: FleetIndexing;
  outcomes: UploadOutcome[];
}

describe('share updates across the fleet', () => {
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
    dir = await mkdtemp(join(tmpdir(), 'findimage-fleet-marks-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    model = Math.floor(Math.random() * 1e9);
  });
  afterEach(async () => {
    // Marks are not per model: each test starts from an empty Redis.
    const inspector = await quick();
    await inspector.flushall();
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const modelId = () => `test-${model}`;
  const quick = async (): Promise<Redis> => {
    const connection = openRedis({ url: redis.url, role: 'quick', logger });
    closers.push(() => closeRedis(connection));
    await waitUntil(() => connection.status === 'ready', 'a Redis connection');
    return connection;
  };
  const replica = async (name: string): Promise<Replica> => {
    const marks = new ShareMarks({ redis: await quick() });
    const fleet = new FleetIndexing({ redisUrl: redis.url, modelId: modelId(), logger });
    const queue = new UploadQueue({
      path: join(dir, `${name}-uploads.sqlite`),
      indexer: fleet,
      store,
      logger,
      retryDelayMs: 5,
      maxRetryDelayMs: 20,
      beforeShareUpdate: (update) => marks.record(update),
    });
    closers.push(async () => {
      const stopping = queue.stop();
      await fleet.close();
      await stopping;
    });
    const outcomes: UploadOutcome[] = [];
    queue.onOutcome((outcome) => outcomes.push(outcome));
    queue.start();
    return { queue, fleet, outcomes };
  };
  /** A worker whose indexer writes through `workerStore` (the shared store, maybe wrapped). */
  const worker = async (workerStore: VectorStore = store, ends: JobEnd[] = []) => {
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store: workerStore, prepare: prepareJsonImage, logger });
    const w = new FleetWorker({
      redisUrl: redis.url,
      modelId: modelId(),
      indexer,
      marks: new ShareMarks({ redis: await quick() }),
      store: workerStore,
      concurrency: 2,
      leaseMs: LEASE_MS,
      logger,
      onJobEnd: (end) => ends.push(end),
      transientDelayMs: 10,
    });
    closers.push(() => w.close());
    w.start();
    return w;
  };
  /**
   * The shared store as a worker writes to it: every share written is kept in `written`, and
   * holdNextWrite() keeps the next write in flight (sent, not landed) until released.
   */
  const watchedStore = () => {
    const written: ImageShare[] = [];
    let held: { arrived: () => void; landing: Promise<void> } | undefined;
    const overrides: Partial<VectorStore> = {
      upsert: async (points: readonly PointInput[]) => {
        for (const point of points) written.push(...(point.payload.shares ?? []));
        const hold = held;
        held = undefined;
        if (hold !== undefined) {
          hold.arrived();
          await hold.landing;
        }
        return store.upsert(points);
      },
      addShares: async (...args: Parameters<VectorStore['addShares']>) => {
        written.push(...args[2]);
        return store.addShares(...args);
      },
    };
    // Every other call goes to the store itself (its methods use private fields).
    const watched = new Proxy(store, {
      get: (target, name, receiver) => {
        const own = (overrides as Record<string | symbol, unknown>)[name];
        if (own !== undefined) return own;
        const value: unknown = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return {
      store: watched,
      written,
      /** `arrived` resolves when the next write is sent; it lands once `release()` is called. */
      holdNextWrite(): { arrived: Promise<void>; release: () => void } {
        let release!: () => void;
        const landing = new Promise<void>((resolve) => (release = resolve));
        const arrived = new Promise<void>((resolve) => (held = { arrived: resolve, landing }));
        return { arrived, release };
      },
    };
  };
  /** Points of tenant T seen from conversation C2, where only public shares show. */
  const seenFromC2 = () => store.count({ tenant: T, scope: { conversations: ['C2'], includePublic: true } });

  it('withdraws an upload received by replica B when replica A deleted its message while the job waited for a worker', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    const jobId = b.queue.enqueue(upload());
    await waitUntil(() => b.fleet.waiting === 1, 'B\'s job in Redis');
    a.queue.recordShareUpdate(messageDeleted);
    await waitUntil(() => a.queue.pendingShareUpdates() === 0, 'A to apply the deletion');

    const watch = watchedStore();
    const ends: JobEnd[] = [];
    await worker(watch.store, ends);
    await waitUntil(() => b.outcomes.length === 1, 'B\'s outcome');
    expect(b.outcomes[0]).toMatchObject({ status: 'withdrawn', jobId });
    expect(b.queue.pending()).toBe(0);
    expect(await store.count()).toBe(0);
    // Withdrawn before anything was written: a deleted image is never in the index, not even for a moment.
    expect(watch.written).toEqual([]);
    expect(ends.map((end) => end.outcome)).toEqual(['withdrawn']);
  });

  it('takes the image off when a job runs again after its earlier run wrote it past the deletion and died before its second look', async () => {
    const b = await replica('b');
    // What the earlier run left: the image written (after A had applied the deletion) and the
    // deletion's mark, which that run never looked at again.
    const earlier = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, logger });
    await earlier.index(upload());
    await new ShareMarks({ redis: await quick() }).record(messageDeleted);
    expect(await store.count()).toBe(1);

    b.queue.enqueue(upload());
    await worker();
    await waitUntil(() => b.outcomes.length === 1, 'B\'s outcome');
    expect(b.outcomes[0]).toMatchObject({ status: 'withdrawn' });
    expect(await store.count()).toBe(0);
  });

  it('takes the image off again when A deleted its message while the worker\'s write was in flight', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    const watch = watchedStore();
    // The worker looks at the marks (none yet), embeds, and sends its write, which lands only
    // after A has marked and applied the deletion (finding nothing to remove).
    const hold = watch.holdNextWrite();
    await worker(watch.store);
    b.queue.enqueue(upload());
    await hold.arrived;
    a.queue.recordShareUpdate(messageDeleted);
    await waitUntil(() => a.queue.pendingShareUpdates() === 0, 'A to apply the deletion');
    hold.release();

    await waitUntil(() => b.outcomes.length === 1, 'B\'s outcome');
    expect(b.outcomes[0]).toMatchObject({ status: 'withdrawn' });
    expect(watch.written).toHaveLength(1);
    expect(await store.count()).toBe(0);
  });

  it('writes private an upload B received as public, when A made its conversation private while the job waited', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    b.queue.enqueue(upload(true));
    await waitUntil(() => b.fleet.waiting === 1, 'B\'s job in Redis');
    a.queue.recordShareUpdate(madePrivate);
    await waitUntil(() => a.queue.pendingShareUpdates() === 0, 'A to apply the privacy change');

    const watch = watchedStore();
    await worker(watch.store);
    await waitUntil(() => b.outcomes.length === 1, 'B\'s outcome');
    expect(b.outcomes[0]).toMatchObject({ status: 'indexed' });
    expect(await store.count({ tenant: T, scope: { conversations: ['C1'], includePublic: false } })).toBe(1);
    expect(await seenFromC2()).toBe(0);
    // Never written public, not even until a later correction.
    expect(watch.written.map((share) => share.isPublic)).toEqual([false]);
  });

  it('makes the image private again when A made its conversation private while the worker\'s public write was in flight', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    const watch = watchedStore();
    const hold = watch.holdNextWrite();
    await worker(watch.store);
    b.queue.enqueue(upload(true));
    await hold.arrived;
    a.queue.recordShareUpdate(madePrivate);
    await waitUntil(() => a.queue.pendingShareUpdates() === 0, 'A to apply the privacy change');
    hold.release();

    await waitUntil(() => b.outcomes.length === 1, 'B\'s outcome');
    expect(b.outcomes[0]).toMatchObject({ status: 'indexed' });
    expect(await store.count({ tenant: T })).toBe(1);
    expect(await seenFromC2()).toBe(0);
  });

  it('shows tenant-wide an upload looked up as private when its conversation was made public after the job was sent, but not for an older "public"', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    b.queue.enqueue(upload(false));
    await waitUntil(() => b.fleet.waiting === 1, 'B\'s job in Redis');
    a.queue.recordShareUpdate(madePublic);
    await waitUntil(() => a.queue.pendingShareUpdates() === 0, 'A to apply the privacy change');
    await worker();
    await waitUntil(() => b.outcomes.length === 1, 'B\'s outcome');
    expect(await seenFromC2()).toBe(1);

    // A later upload of C1 looked up as private (a "made private" event missed, say): the old
    // "public" mark is no news to it, so it stays private (fails closed).
    b.queue.enqueue({ ...upload(false), bytes: jsonImage([0, 1, 0, 0]), share: { ...upload(false).share!, messageId: 'M2', fileId: 'F2' } });
    await waitUntil(() => b.outcomes.length === 2, 'B\'s second outcome');
    expect(await store.count({ tenant: T })).toBe(2);
    expect(await seenFromC2()).toBe(1);
  });
});
