// Indexing in batches, counted where it matters: at the fake Qdrant server, N images cost
// ceil(N / 64) upserts and as many lookups; the same image twice in one batch is embedded once
// and keeps both shares; and no upload counts as stored before its batch is acknowledged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeQdrantServer } from '../../../test/fakes/qdrant/fake-qdrant-server.js';
import { createSilentLogger } from '../../logger.js';
import { StoreError } from '../errors.js';
import { openQdrantStore, type QdrantStore } from '../store/qdrant/qdrant-store.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, PointInput, VectorStore } from '../store/vector-store.js';
import { waitUntil } from '../testing/wait-until.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { SqliteContentClaims } from './content-claims.js';
import { ImageIndexer } from './image-indexer.js';
import { DEFAULT_INDEX_BATCH_SIZE } from './index-batching.js';
import { UploadQueue, type UploadOutcome } from './upload-queue.js';

const logger = createSilentLogger();
/** A linger no test waits for: only a full batch, or no image still coming, sends one. */
const NEVER_MS = 10 * 60_000;
const share = (conversation: string): ImageShare => ({ conversation, isPublic: false, sharedAt: '2026-03-04T05:06:07.000Z' });
/** Distinct bytes (and vectors) for image n. */
const image = (n: number) => jsonImage([n + 1, 1, 0.5, 0]);

describe('ImageIndexer batches against the fake Qdrant server', () => {
  let fake: FakeQdrantServer;
  let dir: string;
  let store: QdrantStore;
  let claims: SqliteContentClaims;
  let prefixes = 0;

  beforeAll(async () => {
    fake = await FakeQdrantServer.start();
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-batches-'));
    prefixes += 1;
    store = await openQdrantStore({
      url: fake.url,
      modelId: 'known-vectors',
      dimension: 4,
      onDisk: false,
      quantization: false,
      logger,
      collectionPrefix: `b${prefixes}`,
    });
    claims = new SqliteContentClaims({ path: join(dir, 'claims.sqlite') });
  });
  afterEach(async () => {
    claims.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The requests to the store's collection since `from`: upserts and point lookups (a get() is a filtered scroll). */
  const requestsSince = (from: number) => {
    const points = `/collections/${store.collection}/points`;
    const later = fake.requests.slice(from);
    return {
      upserts: later.filter((r) => r.method === 'PUT' && r.path === points),
      lookups: later.filter((r) => r.method === 'POST' && r.path === `${points}/scroll`),
    };
  };

  it('sends ceil(N / 64) upserts and ceil(N / 64) lookups for N images indexed together', async () => {
    // No linger: batches go only when full or when no other image is coming, as with a busy machine.
    const batching = { size: DEFAULT_INDEX_BATCH_SIZE, inFlight: 2, lingerMs: NEVER_MS };
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, claims, logger, batching });
    const n = 150;
    const from = fake.requests.length;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => indexer.index({ bytes: image(i), filename: `${i}.png`, tenant: 'T1', source: 'slack', share: share('C1') })),
    );
    expect(results.every((r) => r.status === 'indexed')).toBe(true);
    const batches = Math.ceil(n / DEFAULT_INDEX_BATCH_SIZE);
    const { upserts, lookups } = requestsSince(from);
    expect(upserts).toHaveLength(batches);
    expect(lookups).toHaveLength(batches);
    expect(upserts.every((r) => r.query.wait === 'true')).toBe(true);
    expect(upserts.map((r) => (r.body as { points: unknown[] }).points.length)).toEqual([64, 64, 22]);
    expect(indexer.requests).toEqual({ lookups: batches, writes: batches });
    expect(await store.count({ tenant: 'T1' })).toBe(n);
  });

  it('with a batch size of 1, sends one upsert and one lookup per image, as before batching', async () => {
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, claims, logger, batching: { size: 1, inFlight: 1 } });
    const from = fake.requests.length;
    await Promise.all(Array.from({ length: 5 }, (_, i) => indexer.index({ bytes: image(i), filename: `${i}.png`, tenant: 'T1', source: 'local' })));
    const { upserts, lookups } = requestsSince(from);
    expect([upserts.length, lookups.length]).toEqual([5, 5]);
  });

  it('embeds an image given twice in one batch once, and keeps both shares', async () => {
    const embedder = new KnownVectorEmbedder(4);
    const indexer = new ImageIndexer({ embedder, store, prepare: prepareJsonImage, claims, logger });
    const calls = [0, 1, 2, 3, 4].flatMap((i) => [
      indexer.index({ bytes: image(i), filename: `${i}.png`, tenant: 'T1', source: 'slack', share: share('C1') }),
      indexer.index({ bytes: image(i), filename: `${i}-again.png`, tenant: 'T1', source: 'slack', share: share('C2') }),
    ]);
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.status === 'indexed')).toHaveLength(5);
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(5);
    expect(embedder.calls.image).toBe(5);
    expect(await store.count({ tenant: 'T1' })).toBe(5);
    const stored = await store.get(results.map((r) => r.id), { tenant: 'T1' });
    expect(stored).toHaveLength(5);
    for (const point of stored) expect(point.payload.shares.map((s) => s.conversation).sort()).toEqual(['C1', 'C2']);
  });

  it('does not embed again an image a batch still in flight is writing, in a second indexer with the same claims file', async () => {
    const other = new SqliteContentClaims({ path: join(dir, 'claims.sqlite'), pollMs: 2 });
    try {
      const first = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, claims, logger });
      const secondEmbedder = new KnownVectorEmbedder(4);
      const second = new ImageIndexer({ embedder: secondEmbedder, store, prepare: prepareJsonImage, claims: other, logger });
      const [a, b] = await Promise.all([
        first.index({ bytes: image(7), filename: 'a.png', tenant: 'T1', source: 'slack', share: share('C1') }),
        second.index({ bytes: image(7), filename: 'b.png', tenant: 'T1', source: 'slack', share: share('C2') }),
      ]);
      expect([a.status, b.status].sort()).toEqual(['duplicate', 'indexed']);
      const [point] = await store.get([a.id], { tenant: 'T1' });
      expect(point?.payload.shares.map((s) => s.conversation).sort()).toEqual(['C1', 'C2']);
    } finally {
      other.close();
    }
  });
});

describe('UploadQueue with batched writes', () => {
  let dir: string;
  let store: VectorStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-batch-queue-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts no upload as stored before its batch is acknowledged, and keeps them all when the batch fails', async () => {
    // Upserts wait for the test to answer them: fail the first, let the second through.
    const answers: Array<{ points: number; answer: (error?: Error) => void }> = [];
    let passThrough = false;
    const held: VectorStore = Object.assign(Object.create(store) as VectorStore, {
      upsert: (points: readonly PointInput[]) =>
        passThrough ? store.upsert(points) : new Promise<void>((resolve, reject) => {
          let answered = false;
          const answer = (error?: Error) => {
            if (answered) return;
            answered = true;
            if (error === undefined) resolve(store.upsert(points));
            else reject(error);
          };
          answers.push({ points: points.length, answer });
        }),
      get: store.get.bind(store),
    });
    const batching = { size: DEFAULT_INDEX_BATCH_SIZE, inFlight: 2, lingerMs: NEVER_MS };
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store: held, prepare: prepareJsonImage, logger, batching });
    const queue = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer, logger, retryDelayMs: 5, maxRetryDelayMs: 20 });
    const outcomes: UploadOutcome[] = [];
    queue.onOutcome((o) => outcomes.push(o));
    try {
      for (let i = 0; i < 5; i++) queue.enqueue({ bytes: image(i), filename: `${i}.png`, tenant: 'T1', source: 'slack', share: share('C1') });
      await waitUntil(() => answers.length === 1, 'the first batch write');
      expect(answers[0]?.points).toBe(5);
      expect(outcomes).toEqual([]);
      expect(queue.pending()).toBe(5);

      answers[0]?.answer(new StoreError('store_unavailable', 'The vector store is unreachable.'));
      // Retried (each upload when its own retry is due, so maybe in more than one batch).
      await waitUntil(() => answers.length >= 2, 'the uploads written again');
      expect(outcomes).toEqual([]);
      expect(queue.pending()).toBe(5);

      passThrough = true;
      for (const { answer } of answers) answer();
      await waitUntil(() => outcomes.length === 5, 'five outcomes');
      expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('indexed'));
      expect(queue.pending()).toBe(0);
      expect(await store.count({ tenant: 'T1' })).toBe(5);
    } finally {
      passThrough = true; // so that stop() has no write to wait for
      for (const { answer } of answers) answer();
      await queue.stop();
    }
  });

  it('on stop, leaves queued the uploads it holds but has not decoded yet, without waiting for them', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const embedder = new KnownVectorEmbedder(4);
    let entered = 0;
    const slow = Object.assign(Object.create(embedder) as KnownVectorEmbedder, {
      embedImage: async (...args: Parameters<KnownVectorEmbedder['embedImage']>) => {
        entered++;
        await gate;
        return embedder.embedImage(...args);
      },
    });
    const indexer = new ImageIndexer({ embedder: slow, store, prepare: prepareJsonImage, logger });
    const path = join(dir, 'uploads.sqlite');
    const queue = new UploadQueue({ path, indexer, logger, concurrency: 1 });
    for (let i = 0; i < 5; i++) queue.enqueue({ bytes: image(i), filename: `${i}.png`, tenant: 'T1', source: 'local' });
    // One upload is being embedded; the other four, held too, wait for its slot.
    await waitUntil(() => entered === 1, 'the first upload to reach the model');
    const stopping = queue.stop();
    release();
    await stopping;
    expect(embedder.calls.image).toBe(1);
    expect(await store.count({ tenant: 'T1' })).toBe(1);
    const reopened = new UploadQueue({ path, indexer, logger });
    try {
      expect(reopened.pending()).toBe(4);
    } finally {
      await reopened.stop();
    }
  });

  it('fails only the image the store refuses, not the rest of its batch', async () => {
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, logger });
    const results = await Promise.allSettled([
      indexer.index({ bytes: image(1), filename: 'good.png', tenant: 'T1', source: 'slack', share: share('C1') }),
      indexer.index({ bytes: image(2), filename: 'bad.png', tenant: 'T1', source: 'slack', share: { ...share('C1'), sharedAt: 'yesterday' } }),
      indexer.index({ bytes: image(3), filename: 'good too.png', tenant: 'T1', source: 'slack', share: share('C1') }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.count({ tenant: 'T1' })).toBe(2);
  });
});
