// ImageIndexer on a real embedded store: payloads built from the input, duplicates recognised
// without a model call, and a duplicate's new share added to the image already stored.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { InvalidImageError } from '../errors.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { ImageIndexer } from './image-indexer.js';
import { contentHashOf, pointIdFor } from './point-id.js';

describe('ImageIndexer', () => {
  let dir: string;
  let store: VectorStore;
  let embedder: KnownVectorEmbedder;
  let indexer: ImageIndexer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-indexer-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger: createSilentLogger() });
    embedder = new KnownVectorEmbedder(4);
    indexer = new ImageIndexer({ embedder, store, prepare: prepareJsonImage, logger: createSilentLogger() });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const share = (conversation: string, fields: Partial<ImageShare> = {}): ImageShare => ({
    conversation,
    isPublic: false,
    sharedAt: '2026-03-04T05:06:07.000Z',
    ...fields,
  });

  it('stores the vector with a payload that keeps where the image came from', async () => {
    const bytes = jsonImage([0, 3, 4, 0]);
    const shared = share('C1', {
      isPublic: true,
      uploader: 'U1',
      messageId: '1700000000.000100',
      fileId: 'F1',
      permalink: 'https://example.slack.com/files/F1',
    });
    const result = await indexer.index({
      bytes,
      filename: 'red car.png',
      tenant: 'T1',
      source: 'slack',
      share: shared,
      createdAt: new Date('2026-03-04T05:06:07.000Z'),
    });
    expect(result.status).toBe('indexed');
    expect(result.id).toBe(pointIdFor('T1', contentHashOf(bytes)));
    const [stored] = await store.get([result.id], { withVector: true });
    expect(stored?.payload).toEqual({
      tenant: 'T1',
      source: 'slack',
      filename: 'red car.png',
      contentHash: contentHashOf(bytes),
      modelId: 'known-vectors',
      createdAt: '2026-03-04T05:06:07.000Z',
      width: 640,
      height: 480,
      shares: [shared],
    });
    expect([...(stored?.vector ?? [])].map((v) => Number(v.toFixed(4)))).toEqual([0, 0.6, 0.8, 0]);
  });

  it('recognises a re-upload of the same bytes without calling the model', async () => {
    const bytes = jsonImage([1, 0, 0, 0]);
    const first = await indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'local' });
    const again = await indexer.index({ bytes, filename: 'copy of a.png', tenant: 'T1', source: 'local' });
    expect(again).toMatchObject({ status: 'duplicate', id: first.id });
    expect(again.payload.filename).toBe('a.png');
    expect(embedder.calls.image).toBe(1);
    expect(await store.count()).toBe(1);
  });

  it('stores a folder image with its path and no shares', async () => {
    const bytes = jsonImage([1, 0, 0, 0]);
    const result = await indexer.index({
      bytes,
      filename: 'a.png',
      tenant: 'local',
      source: 'local',
      path: '/photos/a.png',
      createdAt: new Date('2025-01-01T00:00:00.000Z'),
    });
    expect(result.payload).toMatchObject({ path: '/photos/a.png', shares: [] });
    expect((await store.get([result.id]))[0]?.payload).toEqual(result.payload);
  });

  it('dates a shared image by its share when no createdAt is given', async () => {
    const result = await indexer.index({
      bytes: jsonImage([1, 0, 0, 0]),
      filename: 'a.png',
      tenant: 'T1',
      source: 'slack',
      share: share('C1', { sharedAt: '2026-05-06T07:08:09.000Z' }),
    });
    expect(result.payload.createdAt).toBe('2026-05-06T07:08:09.000Z');
  });

  it('adds the share of a re-posted image to the stored image, without calling the model', async () => {
    const bytes = jsonImage([1, 0, 0, 0]);
    const first = share('C-priv', { messageId: 'M1' });
    const second = share('C-pub', { isPublic: true, messageId: 'M2', sharedAt: '2026-04-01T00:00:00.000Z' });
    const a = await indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack', share: first });
    const b = await indexer.index({ bytes, filename: 'b.png', tenant: 'T1', source: 'slack', share: second });
    expect(b).toMatchObject({ status: 'duplicate', id: a.id });
    expect(b.payload.shares).toEqual([first, second]);
    expect(b.payload.filename).toBe('a.png');
    expect(embedder.calls.image).toBe(1);
    const [stored] = await store.get([a.id]);
    expect(stored?.payload.shares).toEqual([first, second]);
    // The same share again (say the message was edited) is not added twice.
    await indexer.index({ bytes, filename: 'b.png', tenant: 'T1', source: 'slack', share: second });
    expect((await store.get([a.id]))[0]?.payload.shares).toHaveLength(2);
  });

  it('keeps both shares when the same image is posted in two channels at once', async () => {
    const bytes = jsonImage([0, 1, 0, 0]);
    const [a, b] = await Promise.all([
      indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack', share: share('C1') }),
      indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack', share: share('C2') }),
    ]);
    expect([a.status, b.status].sort()).toEqual(['duplicate', 'indexed']);
    expect(embedder.calls.image).toBe(1);
    const [stored] = await store.get([a.id]);
    expect(stored?.payload.shares.map((s) => s.conversation)).toEqual(['C1', 'C2']);
  });

  it('keeps the same bytes of two tenants apart', async () => {
    const bytes = jsonImage([1, 0, 0, 0]);
    const a = await indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack' });
    const b = await indexer.index({ bytes, filename: 'a.png', tenant: 'T2', source: 'slack' });
    expect(a.id).not.toBe(b.id);
    expect(await store.count()).toBe(2);
  });

  it('refuses bytes that are not an image and stores nothing', async () => {
    await expect(
      indexer.index({ bytes: Buffer.from('hello'), filename: 'notes.jpg', tenant: 'T1', source: 'local' }),
    ).rejects.toBeInstanceOf(InvalidImageError);
    expect(await store.count()).toBe(0);
    expect(embedder.calls.image).toBe(0);
  });
});
