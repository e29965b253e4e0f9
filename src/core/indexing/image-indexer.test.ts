import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { InvalidImageError } from '../errors.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { VectorStore } from '../store/vector-store.js';
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

  it('stores the vector with a payload that keeps where the image came from', async () => {
    const bytes = jsonImage([0, 3, 4, 0]);
    const result = await indexer.index({
      bytes,
      filename: 'red car.png',
      tenant: 'T1',
      source: 'slack',
      channel: 'C1',
      channelIsPublic: true,
      uploader: 'U1',
      messageId: '1700000000.000100',
      fileId: 'F1',
      permalink: 'https://example.slack.com/files/F1',
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
      channel: 'C1',
      channelIsPublic: true,
      uploader: 'U1',
      messageId: '1700000000.000100',
      fileId: 'F1',
      permalink: 'https://example.slack.com/files/F1',
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
