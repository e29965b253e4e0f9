// The thumbnail route over real HTTP: once an image is deleted from the store, its thumbnail is
// no longer served, and the cached file is deleted on that request (the cache keeps nothing of
// deleted images). The cache's byte bound is specified beside it (src/web/thumbnails.test.ts).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHarness, jpegOf, multipartOf, type WebHarness } from './web-harness.js';

describe('thumbnails of deleted images', () => {
  let h: WebHarness;
  let base: string;

  beforeAll(async () => {
    h = await startWebHarness();
    base = h.server.url.replace(/\/$/, '');
  });
  afterAll(async () => h.close());

  it('answers 404 for a deleted image and deletes its cached thumbnail', async () => {
    const upload = await fetch(`${base}/api/images`, {
      method: 'POST',
      body: multipartOf([
        { name: 'kept.jpg', bytes: await jpegOf([200, 40, 40], 640, 480, 1) },
        { name: 'deleted.jpg', bytes: await jpegOf([40, 40, 200], 640, 480, 2) },
      ]),
    });
    const [kept, deleted] = ((await upload.json()) as { files: Array<{ id: string; status: string }> }).files;
    expect([kept?.status, deleted?.status]).toEqual(['indexed', 'indexed']);
    for (const file of [kept, deleted]) expect((await fetch(`${base}/api/images/${file?.id}/thumbnail`)).status).toBe(200);
    const cacheDir = join(h.dir, 'data', 'thumbnails');
    expect((await readdir(cacheDir)).sort()).toEqual([`${kept?.id}.jpg`, `${deleted?.id}.jpg`].sort());

    await h.findimage.store.delete([deleted!.id], { tenant: 'local' });

    expect((await fetch(`${base}/api/images/${deleted?.id}/thumbnail`)).status).toBe(404);
    expect(await readdir(cacheDir)).toEqual([`${kept?.id}.jpg`]);
    expect((await fetch(`${base}/api/images/${kept?.id}/thumbnail`)).status).toBe(200);
  });
});
