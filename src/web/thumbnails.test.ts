// Specification of the thumbnail cache: made once and served from disk, bounded in bytes with the
// least recently served dropped first (also across restarts), and a thumbnail dropped with its
// image, whether the original file is gone or the store no longer has the image, even when that
// happens while the thumbnail is being made; and a crash's half-written files cleaned up.
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionError } from '../core/errors.js';
import { processDecodeBudget } from '../core/image/decode-budget.js';
import { contentHashOf, pointIdFor } from '../core/indexing/point-id.js';
import { CHANGED_SINCE_INDEXED, type IndexedOriginal } from './originals.js';
import { STALE_PARTIAL_MS, THUMBNAIL_CACHE_MAX_BYTES, Thumbnails } from './thumbnails.js';

/** Noise compresses badly, so each thumbnail is tens of KB and the byte bound is easy to reach. */
function noiseJpeg(seed: number): Promise<Buffer> {
  const width = 600;
  const height = 400;
  const data = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    data[i] = state >> 16;
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

const TENANT = 'local';

describe('Thumbnails', () => {
  let dir: string;
  let cacheDir: string;
  /** Four indexed images a to d, each with its content id and its original file. */
  const images = new Map<string, IndexedOriginal>();
  const image = (name: string): IndexedOriginal => images.get(name)!;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-thumbnails-'));
    cacheDir = join(dir, 'thumbnails');
    images.clear();
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) {
      const path = join(dir, `original-${i}.jpg`);
      const bytes = await noiseJpeg(i + 1);
      await writeFile(path, bytes);
      images.set(name, { id: pointIdFor(TENANT, contentHashOf(bytes)), tenant: TENANT, path });
    }
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The names (a to d) of the images with a cached thumbnail. */
  const cachedIds = async (): Promise<string[]> => {
    const byId = new Map([...images].map(([name, { id }]) => [id, name]));
    return (await readdir(cacheDir))
      .filter((file) => file.endsWith('.jpg'))
      .map((file) => byId.get(file.slice(0, -4)) ?? file)
      .sort();
  };

  it('makes a JPEG of at most 512 px once and serves the cached file afterwards', async () => {
    const thumbnails = new Thumbnails(cacheDir);
    const first = await thumbnails.get(image('a'));
    const meta = await sharp(first).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 512, 341]);
    // The decode budget is given back after (that it is taken is shown below, with a held decode).
    expect(processDecodeBudget.inUse).toBe(0);
    // The original changes (it cannot for a content id; here it proves the cache answered).
    await writeFile(image('a').path, await noiseJpeg(99));
    expect((await thumbnails.get(image('a'))).equals(first)).toBe(true);
    expect(await thumbnails.cachedBytes()).toBe(first.length);
  });

  it('keeps at most its byte bound on disk, deleting the least recently served first', async () => {
    const probe = new Thumbnails(join(dir, 'probe'));
    const size = (await probe.get(image('a'))).length;
    // Room for two and a half thumbnails of about that size.
    const thumbnails = new Thumbnails(cacheDir, { maxBytes: Math.floor(size * 2.5) });
    await thumbnails.get(image('a'));
    await thumbnails.get(image('b'));
    await thumbnails.get(image('a')); // a is now more recent than b
    await thumbnails.get(image('c'));
    expect(await cachedIds()).toEqual(['a', 'c']);
    await thumbnails.get(image('d'));
    expect(await cachedIds()).toEqual(['c', 'd']);
    const onDisk = (await Promise.all((await readdir(cacheDir)).map((name) => stat(join(cacheDir, name))))).reduce(
      (sum, info) => sum + info.size,
      0,
    );
    expect(onDisk).toBeLessThanOrEqual(Math.floor(size * 2.5));
    expect(await thumbnails.cachedBytes()).toBe(onDisk);
    // An evicted thumbnail is made again when asked for.
    expect((await sharp(await thumbnails.get(image('a'))).metadata()).width).toBe(512);
  });

  it('holds the bound across a restart, dropping the oldest files first', async () => {
    const before = new Thumbnails(cacheDir);
    const sizes: number[] = [];
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      sizes.push((await before.get(image(name))).length);
      // Modification times a minute apart: a before b before c.
      const at = new Date(Date.now() - (3 - i) * 60_000);
      await utimes(join(cacheDir, `${image(name).id}.jpg`), at, at);
    }
    const after = new Thumbnails(cacheDir, { maxBytes: sizes[1]! + sizes[2]! });
    expect(await after.cachedBytes()).toBe(sizes[1]! + sizes[2]!);
    expect(await cachedIds()).toEqual(['b', 'c']);
  });

  it('drops the thumbnail of an image whose original is gone, and answers not found', async () => {
    const thumbnails = new Thumbnails(cacheDir);
    await thumbnails.get(image('a'));
    await thumbnails.get(image('b'));
    await rm(image('a').path);
    const error = await thumbnails.get(image('a')).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe('not_found');
    expect(await cachedIds()).toEqual(['b']);
  });

  it('makes no thumbnail from a file swapped in at the recorded path: it was never indexed under this id', async () => {
    const thumbnails = new Thumbnails(cacheDir);
    await writeFile(image('a').path, await noiseJpeg(99));
    const error = await thumbnails.get(image('a')).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe('not_found');
    expect((error as SessionError).message).toBe(CHANGED_SINCE_INDEXED);
    expect(await thumbnails.cachedBytes()).toBe(0);
  });

  it('forgets a deleted image’s thumbnail on request', async () => {
    const thumbnails = new Thumbnails(cacheDir);
    const b = await thumbnails.get(image('b'));
    await thumbnails.get(image('a'));
    await thumbnails.forget(image('a').id);
    await thumbnails.forget('never-cached');
    expect(await cachedIds()).toEqual(['b']);
    expect(await thumbnails.cachedBytes()).toBe(b.length);
  });

  it('lets a forget() win over a thumbnail being made at that moment', async () => {
    const thumbnails = new Thumbnails(cacheDir);
    // The whole decode budget held, so the make stops at its decode until this test lets it go.
    const release = await processDecodeBudget.acquire(processDecodeBudget.capacity);
    let making: Promise<unknown>;
    try {
      making = thumbnails.get(image('a')).catch((thrown: unknown) => thrown);
      await vi.waitFor(() => expect(processDecodeBudget.waiting).toBe(1));
      // The image is deleted while its thumbnail is being made.
      await thumbnails.forget(image('a').id);
    } finally {
      release();
    }
    const error = await making;
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe('not_found');
    expect(await cachedIds()).toEqual([]);
    expect(await thumbnails.cachedBytes()).toBe(0);
    // Forgetting is not a ban: asked for again (the route checks the store first), it is made.
    const again = await thumbnails.get(image('a'));
    expect(await cachedIds()).toEqual(['a']);
    expect(await thumbnails.cachedBytes()).toBe(again.length);
  });

  it('deletes part files left by a crash when opened, but not one being written now', async () => {
    const first = new Thumbnails(cacheDir);
    await first.get(image('a'));
    const crashed = join(cacheDir, 'b.jpg.4242.1.part');
    const writing = join(cacheDir, 'c.jpg.4343.1.part');
    await writeFile(crashed, Buffer.alloc(1000));
    await writeFile(writing, Buffer.alloc(1000));
    const old = new Date((await stat(writing)).mtimeMs - STALE_PARTIAL_MS - 60_000);
    await utimes(crashed, old, old);
    const reopened = new Thumbnails(cacheDir);
    expect(await reopened.cachedBytes()).toBe((await stat(join(cacheDir, `${image('a').id}.jpg`))).size);
    expect((await readdir(cacheDir)).sort()).toEqual([`${image('a').id}.jpg`, 'c.jpg.4343.1.part'].sort());
  });

  it('is bounded by default', () => {
    expect(THUMBNAIL_CACHE_MAX_BYTES).toBe(256 * 1024 * 1024);
  });
});
