// Qdrant down when findimage starts: serve starts anyway, a search says the index is
// unreachable, and an upload accepted meanwhile waits on disk and is indexed once Qdrant is back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { UploadOutcome } from '../src/core/indexing/upload-queue.js';
import { openFindimage, type Findimage } from '../src/findimage.js';
import { createSilentLogger } from '../src/logger.js';
import { FakeQdrantServer } from './fakes/qdrant/fake-qdrant-server.js';

describe('Qdrant down at start', () => {
  let dir: string;
  let qdrant: FakeQdrantServer;
  let findimage: Findimage;

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
    findimage = await openFindimage({ config, logger: createSilentLogger(), storeConnection: 'background' });
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
    await new Promise((r) => setTimeout(r, 300));
    expect(outcomes).toEqual([]);
    expect(findimage.uploads.pending()).toBe(1);

    await qdrant.comeUp();
    const deadline = Date.now() + 20_000;
    while (outcomes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(outcomes.map((o) => o.status)).toEqual(['indexed']);
    expect(await findimage.store.count({ tenant: 'T1' })).toBe(1);
    const { hits } = await findimage.search.searchText({ text: 'a red square', scope: { tenant: 'T1' }, limit: 5 });
    expect(hits.map((h) => h.payload.filename)).toEqual(['red.png']);
  });
});
