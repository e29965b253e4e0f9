// Qdrant down when findimage starts: serve starts anyway, a search says the index is
// unreachable, and an upload accepted meanwhile waits on disk and is indexed once Qdrant is back.
// A 404 on an endpoint (a proxy redeploying, a server without GET /aliases) is an outage too:
// uploads stay queued and are indexed once it passes; only a deleted collection rejects them.
// An upload leaves the queue only once the batch carrying it is acknowledged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { UploadOutcome } from '../src/core/indexing/upload-queue.js';
import { ReconnectingStore } from '../src/core/store/reconnecting-store.js';
import { captureLog, waitUntil } from '../src/core/testing/wait-until.js';
import { openFindimage, type Findimage } from '../src/findimage.js';
import { createSilentLogger } from '../src/logger.js';
import { NO_ROUTE, PROXY_NOT_FOUND, type FaultTarget } from './fakes/qdrant/fake-faults.js';
import { FakeQdrantServer } from './fakes/qdrant/fake-qdrant-server.js';

/** A fault repeated until the test clears it: the endpoint is missing until then. */
const UNTIL_CLEARED = Number.POSITIVE_INFINITY;

async function redSquare(size = 32): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: '#c00' } }).png().toBuffer();
}

/** Opens findimage on `qdrant` as `serve` does: the store connects in the background. */
async function openServing(dir: string, cache: string, qdrant: FakeQdrantServer): Promise<Findimage> {
  const config = loadConfig({
    FINDIMAGE_MODEL: 'tiny-test',
    FINDIMAGE_DATA: dir,
    FINDIMAGE_CACHE: cache,
    FINDIMAGE_DEVICE: 'cpu',
    QDRANT_URL: qdrant.url,
  });
  return openFindimage({ config, logger: createSilentLogger(), storeConnection: 'background' });
}

/** Resolves once the store opened in the background is connected. */
async function connected(findimage: Findimage): Promise<void> {
  expect(findimage.store).toBeInstanceOf(ReconnectingStore);
  await (findimage.store as ReconnectingStore).whenConnected();
}

/** Queues `count` distinct red squares shared in C1 and returns the outcomes as they come. */
async function queueUploads(findimage: Findimage, count: number): Promise<UploadOutcome[]> {
  const outcomes: UploadOutcome[] = [];
  findimage.uploads.onOutcome((o) => outcomes.push(o));
  findimage.uploads.start();
  for (let n = 0; n < count; n++) {
    findimage.uploads.enqueue({
      bytes: await redSquare(32 + n),
      filename: `red-${n}.png`,
      tenant: 'T1',
      source: 'slack',
      share: { conversation: 'C1', isPublic: false, sharedAt: new Date().toISOString() },
    });
  }
  return outcomes;
}

describe('Qdrant down at start', () => {
  let dir: string;
  let qdrant: FakeQdrantServer;
  let findimage: Findimage;
  const log = captureLog();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-outage-'));
    qdrant = await FakeQdrantServer.start();
    await qdrant.goDown();
    const config = loadConfig({
      FINDIMAGE_MODEL: 'tiny-test',
      FINDIMAGE_DATA: dir,
      FINDIMAGE_CACHE: join(dir, 'cache'),
      FINDIMAGE_DEVICE: 'cpu',
      QDRANT_URL: qdrant.url,
    });
    findimage = await openFindimage({ config, logger: log.logger, storeConnection: 'background' });
  });
  afterAll(async () => {
    await findimage.close();
    await qdrant.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps an upload until Qdrant is back, then indexes it', async () => {
    await expect(
      findimage.search.searchText({ text: 'a red square', scope: { tenant: 'T1' }, limit: 5 }),
    ).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('queued') });

    const outcomes: UploadOutcome[] = [];
    findimage.uploads.onOutcome((o) => outcomes.push(o));
    findimage.uploads.start();
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c00' } }).png().toBuffer();
    findimage.uploads.enqueue({
      bytes: png,
      filename: 'red.png',
      tenant: 'T1',
      source: 'slack',
      share: { conversation: 'C1', isPublic: false, sharedAt: new Date().toISOString() },
    });
    // The queue has tried the upload and kept it for later, and gave no outcome meanwhile.
    await waitUntil(() => outcomes.length > 0 || log.withMsg('upload will be retried').length > 0, 'the upload to be tried and kept, or an outcome');
    expect(outcomes).toEqual([]);
    expect(findimage.uploads.pending()).toBe(1);

    await qdrant.comeUp();
    await waitUntil(() => outcomes.length > 0, 'the upload to be indexed');
    expect(outcomes.map((o) => o.status)).toEqual(['indexed']);
    expect(await findimage.store.count({ tenant: 'T1' })).toBe(1);
    const { hits } = await findimage.search.searchText({ text: 'a red square', scope: { tenant: 'T1' }, limit: 5 });
    expect(hits.map((h) => h.payload.filename)).toEqual(['red.png']);
  });
});

describe('a 404 on an endpoint', () => {
  let cache: string;
  let dir: string;
  let qdrant: FakeQdrantServer;
  let findimage: Findimage | undefined;

  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'findimage-404-cache-'));
  });
  afterAll(async () => {
    await rm(cache, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-404-'));
    qdrant = await FakeQdrantServer.start();
  });
  afterEach(async () => {
    await findimage?.close();
    findimage = undefined;
    await qdrant.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const aliasList = (r: FaultTarget): boolean => r.method === 'GET' && r.path === '/aliases';
  const upsert = (r: FaultTarget): boolean => r.method === 'PUT' && /^\/collections\/[^/]+\/points$/.test(r.path);
  const faulted = (match: (r: FaultTarget) => boolean): number =>
    qdrant.requests.filter((r) => r.fault !== undefined && match(r)).length;

  it('keeps uploads queued while GET /aliases answers 404, says so, and indexes them once it answers again', async () => {
    qdrant.faults.inject(NO_ROUTE, { times: UNTIL_CLEARED, match: aliasList });
    findimage = await openServing(dir, cache, qdrant);
    await waitUntil(() => faulted(aliasList) >= 1, 'the first 404 to GET /aliases');

    const searching = findimage.search.searchText({ text: 'a red square', scope: { tenant: 'T1' }, limit: 5 });
    await expect(searching).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringContaining(`Qdrant at ${qdrant.url} answered 404 Not Found to /aliases while trying to list aliases`),
    });

    const outcomes = await queueUploads(findimage, 3);
    // findimage tries again (a second 404), and no upload has been given up on meanwhile.
    await waitUntil(() => outcomes.length > 0 || faulted(aliasList) >= 2, 'a second 404 to GET /aliases, or an outcome');
    expect(outcomes).toEqual([]);
    expect(findimage.uploads.pending()).toBe(3);

    qdrant.faults.clear();
    await waitUntil(() => outcomes.length >= 3, 'three outcomes');
    expect(outcomes.map((o) => o.status)).toEqual(['indexed', 'indexed', 'indexed']);
    expect(await findimage.store.count({ tenant: 'T1' })).toBe(3);
  });

  it("keeps an upload queued while a proxy answers 404 to upserts, and indexes it once it passes", async () => {
    findimage = await openServing(dir, cache, qdrant);
    await connected(findimage);
    qdrant.faults.inject(PROXY_NOT_FOUND, { times: UNTIL_CLEARED, match: upsert });

    const outcomes = await queueUploads(findimage, 1);
    // More 404s than one call's tries: the queue itself has tried the upload again.
    const oneCallsTries = 5;
    await waitUntil(() => outcomes.length > 0 || faulted(upsert) > oneCallsTries, 'the queue to retry, or an outcome');
    expect(outcomes).toEqual([]);
    expect(findimage.uploads.pending()).toBe(1);

    qdrant.faults.clear();
    await waitUntil(() => outcomes.length >= 1, 'the upload to be indexed');
    expect(outcomes.map((o) => o.status)).toEqual(['indexed']);
    expect(await findimage.store.count({ tenant: 'T1' })).toBe(1);
  });

  it('counts no upload as stored while Qdrant applies its batch but the answer is lost, and loses none', async () => {
    findimage = await openServing(dir, cache, qdrant);
    await connected(findimage);
    const collection = qdrant.collection('findimage');
    // The batch reaches Qdrant and is applied, but the connection drops before the answer.
    qdrant.faults.inject({ kind: 'drop', afterApplying: true }, { times: UNTIL_CLEARED, match: upsert });
    // Once all five are applied, lookups are dropped too, so that no retry can find them stored
    // and report an outcome before the check below, however late the check runs.
    const lookup = (r: FaultTarget): boolean => r.method === 'POST' && /^\/collections\/[^/]+\/points$/.test(r.path);
    qdrant.faults.inject({ kind: 'drop' }, { times: UNTIL_CLEARED, match: (r) => lookup(r) && collection?.ids().length === 5 });

    const outcomes = await queueUploads(findimage, 5);
    await waitUntil(() => outcomes.length > 0 || collection?.ids().length === 5, 'all five points applied by Qdrant, or an outcome');
    // Applied but never acknowledged: every upload is still queued, none reported as indexed.
    expect(outcomes).toEqual([]);
    expect(findimage.uploads.pending()).toBe(5);

    qdrant.faults.clear();
    await waitUntil(() => outcomes.length >= 5, 'five outcomes');
    // A retry may find its point already applied: then it is a duplicate, its share merged.
    for (const outcome of outcomes) expect(['indexed', 'duplicate']).toContain(outcome.status);
    expect(findimage.uploads.pending()).toBe(0);
    expect(await findimage.store.count({ tenant: 'T1' })).toBe(5);
    const stored = await findimage.store.get(outcomes.map((o) => ('result' in o ? o.result.id : '')), { tenant: 'T1' });
    expect(stored.map((p) => p.payload.shares.length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('still rejects an upload as deleted when Qdrant says the collection does not exist', async () => {
    findimage = await openServing(dir, cache, qdrant);
    await connected(findimage);
    const collection = qdrant.aliasTarget('findimage');
    expect(collection).toBeDefined();
    expect((await fetch(`${qdrant.url}/collections/${collection}`, { method: 'DELETE' })).status).toBe(200);

    const outcomes = await queueUploads(findimage, 1);
    await waitUntil(() => outcomes.length >= 1, 'the upload to be rejected');
    const [outcome] = outcomes;
    expect(outcome?.status).toBe('rejected');
    expect(outcome?.status === 'rejected' && outcome.error).toMatchObject({
      code: 'store_failed',
      message: expect.stringContaining('Was the collection deleted?'),
    });
    expect(findimage.uploads.pending()).toBe(0);
  });
});
