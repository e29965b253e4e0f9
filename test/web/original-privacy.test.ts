// The viewer's images over real HTTP, as privacy needs them: browsers may keep an image but must
// ask again before each use (no-cache, the id as ETag), so a deleted image is a 404 at the next
// look; and /original and /large serve only the bytes that were indexed under the id: a file
// swapped in at the recorded path, one that is gone, too large, or a FIFO gives a 404 that says why.
import { execFileSync } from 'node:child_process';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHarness, jpegOf, multipartOf, type WebHarness } from './web-harness.js';

const RENDITIONS = ['thumbnail', 'large', 'original'] as const;

describe('the viewer\'s images and privacy', () => {
  let h: WebHarness;
  let base: string;

  beforeAll(async () => {
    h = await startWebHarness();
    base = h.server.url.replace(/\/$/, '');
  });
  afterAll(async () => h.close());

  /** Uploads one JPEG; its id and the path the index recorded. */
  async function indexed(seed: number): Promise<{ id: string; path: string }> {
    const upload = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: `photo ${seed}.jpg`, bytes: await jpegOf([seed * 20, 90, 200], 320, 240, seed) }]) });
    const [file] = ((await upload.json()) as { files: Array<{ id: string; status: string }> }).files;
    expect(file?.status).toBe('indexed');
    const [point] = await h.findimage.store.get([file!.id], { tenant: 'local' });
    return { id: file!.id, path: point!.payload.path! };
  }

  /** A GET of a rendition, with If-None-Match when given. */
  const get = (id: string, rendition: string, etag?: string) =>
    fetch(`${base}/api/images/${id}/${rendition}`, etag === undefined ? {} : { headers: { 'if-none-match': etag } });

  it('lets browsers keep each rendition only with a revalidation by ETag, and a deleted image is a 404 then', async () => {
    const { id } = await indexed(1);
    for (const rendition of RENDITIONS) {
      const first = await get(id, rendition);
      expect(first.status, rendition).toBe(200);
      expect(first.headers.get('cache-control'), rendition).toBe('private, no-cache');
      expect(first.headers.get('etag'), rendition).toBe(`"${id}"`);
      const again = await get(id, rendition, `"${id}"`);
      expect(again.status, rendition).toBe(304);
      expect(again.headers.get('etag'), rendition).toBe(`"${id}"`);
    }

    await h.findimage.store.delete([id], { tenant: 'local' });

    for (const rendition of RENDITIONS) {
      const revalidated = await get(id, rendition, `"${id}"`);
      expect(revalidated.status, rendition).toBe(404);
      expect(revalidated.headers.get('etag'), rendition).toBeNull();
      expect((await get(id, rendition)).status, rendition).toBe(404);
    }
  });

  it('never serves a file swapped in at the recorded path under the old id', async () => {
    const { id, path } = await indexed(2);
    await writeFile(path, await jpegOf([250, 250, 0], 320, 240, 99));
    for (const rendition of RENDITIONS) {
      const response = await get(id, rendition);
      expect(response.status, rendition).toBe(404);
      expect(((await response.json()) as { message: string }).message, rendition).toMatch(/changed since it was indexed.*Index it again/);
    }
  });

  it('answers 404 with a reason for a file gone from disk, a file grown past the size limit, and a FIFO, without reading them', async () => {
    const gone = await indexed(3);
    await rm(gone.path);
    const goneAnswer = await get(gone.id, 'original');
    expect(goneAnswer.status).toBe(404);
    expect(((await goneAnswer.json()) as { message: string }).message).toMatch(/gone from this machine/);

    // A sparse 60 MB file: over MAX_IMAGE_BYTES (50 MB), refused from its stat.
    const grown = await indexed(4);
    await truncate(grown.path, 60 * 1024 * 1024);
    const grownAnswer = await get(grown.id, 'original');
    expect(grownAnswer.status).toBe(404);
    expect(((await grownAnswer.json()) as { message: string }).message).toMatch(/changed since it was indexed/);

    // A FIFO would block a reader thread forever: without the guard this request never answers.
    const pipe = await indexed(5);
    await rm(pipe.path);
    execFileSync('mkfifo', [pipe.path]);
    for (const rendition of ['large', 'original'] as const) {
      const response = await fetch(`${base}/api/images/${pipe.id}/${rendition}`, { signal: AbortSignal.timeout(10_000) });
      expect(response.status, rendition).toBe(404);
      expect(((await response.json()) as { message: string }).message, rendition).toMatch(/no longer a regular file/);
    }
  });
});
