// ImageIndexer on a real embedded store: payloads built from the input, duplicates recognised
// without a model call, a duplicate's new share added to the image already stored, and one
// image embedded once whether two calls or two processes index it at the same time.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { InvalidImageError } from '../errors.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, VectorStore } from '../store/vector-store.js';
import type { PreparedImage } from '../embedding/embedder.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { waitUntil } from '../testing/wait-until.js';
import { SqliteContentClaims, type ContentClaims } from './content-claims.js';
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
    const [stored] = await store.get([result.id], { tenant: 'T1', withVector: true });
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
    expect((await store.get([result.id], { tenant: 'local' }))[0]?.payload).toEqual(result.payload);
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
    const [stored] = await store.get([a.id], { tenant: 'T1' });
    expect(stored?.payload.shares).toEqual([first, second]);
    // The same share again (say the message was edited) is not added twice.
    await indexer.index({ bytes, filename: 'b.png', tenant: 'T1', source: 'slack', share: second });
    expect((await store.get([a.id], { tenant: 'T1' }))[0]?.payload.shares).toHaveLength(2);
  });

  it('keeps both shares when the same image is posted in two channels at once', async () => {
    const bytes = jsonImage([0, 1, 0, 0]);
    const [a, b] = await Promise.all([
      indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack', share: share('C1') }),
      indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack', share: share('C2') }),
    ]);
    expect([a.status, b.status].sort()).toEqual(['duplicate', 'indexed']);
    expect(embedder.calls.image).toBe(1);
    const [stored] = await store.get([a.id], { tenant: 'T1' });
    expect(stored?.payload.shares.map((s) => s.conversation)).toEqual(['C1', 'C2']);
  });

  it('embeds identical folder files indexed at once only once, and counts the second as a duplicate', async () => {
    const bytes = jsonImage([0, 0, 1, 0]);
    const results = await Promise.all([
      indexer.index({ bytes, filename: 'a.png', tenant: 'local', source: 'local', path: '/p/a.png' }),
      indexer.index({ bytes: Buffer.from(bytes), filename: 'copy.png', tenant: 'local', source: 'local', path: '/p/copy.png' }),
      indexer.index({ bytes: Buffer.from(bytes), filename: 'copy2.png', tenant: 'local', source: 'local', path: '/p/copy2.png' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'duplicate', 'indexed']);
    expect(embedder.calls.image).toBe(1);
    expect(await store.count()).toBe(1);
  });

  it('never embeds an image another process is embedding: the second waits for its claim, then finds it stored', async () => {
    // Two "processes": each its own store connection, claims handle and indexer, so only the
    // shared claims file can keep them apart.
    const storePath = join(dir, 'store.sqlite');
    const claimsPath = join(dir, 'claims.sqlite');
    let openGate = (): void => {};
    const gate = { promise: new Promise<void>((resolve) => (openGate = resolve)) };
    const slowEmbedder = new (class extends KnownVectorEmbedder {
      override async embedImage(image: PreparedImage): Promise<Float32Array> {
        const vector = await super.embedImage(image);
        await gate.promise;
        return vector;
      }
    })(4);
    const claimsA = new SqliteContentClaims({ path: claimsPath, pollMs: 2 });
    const claimsB = new SqliteContentClaims({ path: claimsPath, pollMs: 2 });
    const storeB = await openSqliteVectorStore({ path: storePath, dimension: 4, logger: createSilentLogger() });
    let bAskedForClaim = false;
    const watchedClaimsB: ContentClaims = {
      claim: (id) => {
        bAskedForClaim = true;
        return claimsB.claim(id);
      },
    };
    const a = new ImageIndexer({ embedder: slowEmbedder, store, prepare: prepareJsonImage, logger: createSilentLogger(), claims: claimsA });
    const b = new ImageIndexer({ embedder, store: storeB, prepare: prepareJsonImage, logger: createSilentLogger(), claims: watchedClaimsB });
    try {
      const bytes = jsonImage([1, 1, 0, 0]);
      const first = a.index({ bytes, filename: 'a.png', tenant: 'local', source: 'local' });
      await waitUntil(() => slowEmbedder.calls.image === 1, 'A to start embedding');
      const second = b.index({ bytes, filename: 'a.png', tenant: 'local', source: 'local' });
      // B is either waiting on A's claim or (with no claims) already embedding.
      await waitUntil(() => bAskedForClaim || embedder.calls.image > 0, 'B to ask for the claim or embed');
      openGate();
      const [ra, rb] = await Promise.all([first, second]);
      expect([ra.status, rb.status]).toEqual(['indexed', 'duplicate']);
      expect(slowEmbedder.calls.image + embedder.calls.image).toBe(1);
      // Released: a third indexer gets the claim at once and finds the image stored.
      const c = new ImageIndexer({ embedder, store: storeB, prepare: prepareJsonImage, logger: createSilentLogger(), claims: claimsB });
      expect((await c.index({ bytes, filename: 'a.png', tenant: 'local', source: 'local' })).status).toBe('duplicate');
    } finally {
      claimsA.close();
      claimsB.close();
      await storeB.close();
    }
  });

  it('takes over a claim left by a process that died (kill -9), so a later run is never blocked', async () => {
    const claimsPath = join(dir, 'claims.sqlite');
    const bytes = jsonImage([0, 0, 0, 1]);
    // What kill -9 leaves behind: a claim row whose process no longer exists.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const claims = new SqliteContentClaims({ path: claimsPath, pollMs: 2 });
    const raw = new Database(claimsPath);
    raw
      .prepare('INSERT INTO claims (id, holder, pid, host, claimed_at) VALUES (?, ?, ?, ?, ?)')
      .run(pointIdFor('local', contentHashOf(bytes)), 'killed-run', deadPid, hostname(), Date.now());
    raw.close();
    try {
      const withClaims = new ImageIndexer({ embedder, store, prepare: prepareJsonImage, logger: createSilentLogger(), claims });
      // A claim that waited on its dead holder would never settle: the test's own timeout says so.
      const result = await withClaims.index({ bytes, filename: 'd.png', tenant: 'local', source: 'local' });
      expect(result.status).toBe('indexed');
    } finally {
      claims.close();
    }
  });

  it('keeps the same bytes of two tenants apart', async () => {
    const bytes = jsonImage([1, 0, 0, 0]);
    const a = await indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack' });
    const b = await indexer.index({ bytes, filename: 'a.png', tenant: 'T2', source: 'slack' });
    expect(a.id).not.toBe(b.id);
    expect(await store.count()).toBe(2);
  });

  it('looks each tenant’s duplicates up among its own images when tenants share a lookup batch', async () => {
    const bytes = jsonImage([1, 0, 0, 0]);
    await indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack' });
    const [again, theirs] = await Promise.all([
      indexer.index({ bytes, filename: 'a.png', tenant: 'T1', source: 'slack' }),
      indexer.index({ bytes, filename: 'a.png', tenant: 'T2', source: 'slack' }),
    ]);
    expect([again.status, theirs.status]).toEqual(['duplicate', 'indexed']);
    expect(theirs.payload.tenant).toBe('T2');
    expect(await store.count({ tenant: 'T2' })).toBe(1);
  });

  it('refuses bytes that are not an image and stores nothing', async () => {
    await expect(
      indexer.index({ bytes: Buffer.from('hello'), filename: 'notes.jpg', tenant: 'T1', source: 'local' }),
    ).rejects.toBeInstanceOf(InvalidImageError);
    expect(await store.count()).toBe(0);
    expect(embedder.calls.image).toBe(0);
  });
});
