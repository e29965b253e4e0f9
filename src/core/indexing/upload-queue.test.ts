// UploadQueue on real SQLite files: uploads indexed in the background, retried while the store
// is down, kept across restarts, and rows queued by findimage 1 still indexed with their share.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { StoreError } from '../errors.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { PointInput, VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { waitUntil } from '../testing/wait-until.js';
import { ImageIndexer } from './image-indexer.js';
import { UploadQueue, type UploadOutcome } from './upload-queue.js';

/** A store that is "down" for its first `failures` upserts, like a Qdrant server restarting. */
function flaky(store: VectorStore, failures: number): VectorStore {
  let left = failures;
  return Object.assign(Object.create(store) as VectorStore, {
    upsert: async (points: readonly PointInput[]) => {
      if (left-- > 0) throw new StoreError('store_unavailable', 'The vector store is unreachable.');
      return store.upsert(points);
    },
    get: store.get.bind(store),
  });
}

describe('UploadQueue', () => {
  let dir: string;
  let store: VectorStore;
  const queues: UploadQueue[] = [];

  const openQueue = (target: VectorStore) => {
    const indexer = new ImageIndexer({
      embedder: new KnownVectorEmbedder(4),
      store: target,
      prepare: prepareJsonImage,
      logger: createSilentLogger(),
    });
    const queue = new UploadQueue({
      path: join(dir, 'uploads.sqlite'),
      indexer,
      logger: createSilentLogger(),
      retryDelayMs: 5,
      maxRetryDelayMs: 20,
      maxAttempts: 4,
    });
    queues.push(queue);
    const outcomes: UploadOutcome[] = [];
    queue.onOutcome((o) => outcomes.push(o));
    return { queue, outcomes };
  };
  const settle = async (queue: UploadQueue, outcomes: UploadOutcome[], n: number) => {
    await waitUntil(async () => {
      await queue.whenIdle();
      return outcomes.length >= n;
    }, `${n} outcomes`);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-queue-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger: createSilentLogger() });
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.stop().catch(() => {});
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('indexes an upload in the background and reports it', async () => {
    const { queue, outcomes } = openQueue(store);
    const share = { conversation: 'C1', isPublic: false, sharedAt: '2026-01-02T03:04:05.000Z', messageId: 'M1' };
    const jobId = queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'a.png', tenant: 'T1', source: 'slack', share });
    await settle(queue, outcomes, 1);
    expect(outcomes[0]).toMatchObject({ status: 'indexed', jobId, image: { filename: 'a.png', share } });
    expect(await store.count()).toBe(1);
    expect(await store.count({ tenant: 'T1', share: { conversations: ['C1'], messageId: 'M1' } })).toBe(1);
    expect(queue.pending()).toBe(0);
  });

  it('indexes a row queued by findimage 1 with its flat channel fields as one share', async () => {
    // Written the way findimage 1 did, then picked up by this version after an upgrade.
    const db = new Database(join(dir, 'uploads.sqlite'));
    db.exec(`CREATE TABLE uploads (id TEXT PRIMARY KEY, metadata TEXT NOT NULL, bytes BLOB NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`);
    const insert = db.prepare('INSERT INTO uploads (id, metadata, bytes, next_attempt_at) VALUES (?, ?, ?, 0)');
    insert.run(
      'old-chat',
      JSON.stringify({
        tenant: 'T1',
        source: 'slack',
        filename: 'old.png',
        channel: 'C-pub',
        channelIsPublic: true,
        uploader: 'U1',
        messageId: '1700000000.000100',
        fileId: 'F1',
        permalink: 'https://example.slack.com/files/F1',
        createdAt: '2025-12-01T00:00:00.000Z',
      }),
      Buffer.from(jsonImage([1, 0, 0, 0])),
    );
    insert.run(
      'old-folder',
      JSON.stringify({ tenant: 'local', source: 'local', filename: 'f.png', path: '/p/f.png', createdAt: '2025-12-02T00:00:00.000Z' }),
      Buffer.from(jsonImage([0, 1, 0, 0])),
    );
    db.close();

    const { queue, outcomes } = openQueue(store);
    queue.start();
    await settle(queue, outcomes, 2);
    const share = {
      conversation: 'C-pub',
      isPublic: true,
      sharedAt: '2025-12-01T00:00:00.000Z',
      uploader: 'U1',
      messageId: '1700000000.000100',
      fileId: 'F1',
      permalink: 'https://example.slack.com/files/F1',
    };
    const chat = outcomes.find((o) => o.jobId === 'old-chat');
    expect(chat).toMatchObject({ status: 'indexed', image: { share } });
    expect(chat?.image).not.toHaveProperty('channel');
    expect(chat?.status === 'indexed' && chat.result.payload).toMatchObject({
      shares: [share],
      createdAt: '2025-12-01T00:00:00.000Z',
    });
    expect(await store.count({ tenant: 'T1', scope: { conversations: [], includePublic: true } })).toBe(1);
    const folder = outcomes.find((o) => o.jobId === 'old-folder');
    expect(folder?.image).toEqual({
      tenant: 'local',
      source: 'local',
      filename: 'f.png',
      path: '/p/f.png',
      createdAt: new Date('2025-12-02T00:00:00.000Z'),
    });
    expect(folder?.status === 'indexed' && folder.result.payload.shares).toEqual([]);
  });

  it('drops a row whose record cannot be read, without stopping the queue or crashing', async () => {
    const db = new Database(join(dir, 'uploads.sqlite'));
    db.exec(`CREATE TABLE uploads (id TEXT PRIMARY KEY, metadata TEXT NOT NULL, bytes BLOB NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`);
    db.prepare('INSERT INTO uploads (id, metadata, bytes, next_attempt_at) VALUES (?, ?, ?, 0)').run('broken', '{not json', Buffer.from([1]));
    db.close();

    const { queue, outcomes } = openQueue(store);
    queue.start();
    queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'after.png', tenant: 'T1', source: 'local' });
    await settle(queue, outcomes, 1);
    expect(outcomes.map((o) => [o.status, o.image.filename])).toEqual([['indexed', 'after.png']]);
    expect(queue.pending()).toBe(0);
  });

  it('keeps an upload queued, not rejected, when the store fails because the queue is stopping', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const upserting = new Promise<void>((resolve) => (started = resolve));
    // The store closes under a running job: its upsert fails with store_unavailable after stop().
    const closing = Object.assign(Object.create(store) as VectorStore, {
      upsert: async () => {
        started();
        await gate;
        throw new StoreError('store_unavailable', 'The vector store is closing.');
      },
      get: store.get.bind(store),
    });
    const { queue, outcomes } = openQueue(closing);
    queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'kept.png', tenant: 'T1', source: 'local' });
    await upserting;
    const stopped = queue.stop();
    release();
    await stopped;
    expect(outcomes).toEqual([]);

    const reopened = openQueue(store);
    expect(reopened.queue.pending()).toBe(1);
    reopened.queue.start();
    await settle(reopened.queue, reopened.outcomes, 1);
    expect(reopened.outcomes.map((o) => [o.status, o.image.filename])).toEqual([['indexed', 'kept.png']]);
  });

  it('retries while the store is down and indexes once it is back', async () => {
    const { queue, outcomes } = openQueue(flaky(store, 2));
    queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'a.png', tenant: 'T1', source: 'slack' });
    await settle(queue, outcomes, 1);
    expect(outcomes.map((o) => o.status)).toEqual(['indexed']);
    expect(await store.count()).toBe(1);
  });

  it('reports an upload that can never be indexed, with the reason, and forgets it', async () => {
    const { queue, outcomes } = openQueue(store);
    queue.enqueue({ bytes: Buffer.from('not an image'), filename: 'notes.jpg', tenant: 'T1', source: 'slack' });
    await settle(queue, outcomes, 1);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', error: { code: 'image_invalid', message: 'This file is not an image.' } });
    expect(queue.pending()).toBe(0);
  });

  it('gives up after the last attempt and says the store stayed unreachable', async () => {
    const { queue, outcomes } = openQueue(flaky(store, 100));
    queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'a.png', tenant: 'T1', source: 'slack' });
    await settle(queue, outcomes, 1);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', error: { code: 'store_unavailable' } });
  });

  it('keeps uploads on disk across a restart and indexes them on the next start', async () => {
    const first = openQueue(flaky(store, 100));
    first.queue.enqueue({ bytes: jsonImage([0, 1, 0, 0]), filename: 'b.png', tenant: 'T1', source: 'slack' });
    await first.queue.stop();
    expect(await store.count()).toBe(0);

    const second = openQueue(store);
    expect(second.queue.pending()).toBe(1);
    second.queue.start();
    await settle(second.queue, second.outcomes, 1);
    expect(second.outcomes[0]).toMatchObject({ status: 'indexed', image: { filename: 'b.png' } });
  });
});
