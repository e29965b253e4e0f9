// Specification of the thumbnail cache in a fleet, where the originals are spread over the
// replicas: a replica finds on its disk, then in the shared cache, what another one made; a
// missing original means "on another machine", so nothing is dropped for it; a view keeps the
// shared copy alive; and a deleted image's shared copy does not come back, even when the delete
// lands while the copy is being shared. The shared cache here is an in-memory stand-in for
// Redis (src/core/fleet/redis-thumbnails.test.ts specifies the real one).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionError } from '../core/errors.js';
import type { SharedThumbnails } from '../core/fleet/shared-thumbnails.js';
import { contentHashOf, pointIdFor } from '../core/indexing/point-id.js';
import type { IndexedOriginal } from './originals.js';
import { Thumbnails } from './thumbnails.js';

/** Redis as the replicas see it: one map; `hold` stops the next put until released. */
class MemorySharedThumbnails implements SharedThumbnails {
  readonly bytes = new Map<string, Buffer>();
  readonly renewed: string[] = [];
  #held: { started: () => void; release: Promise<void> } | undefined;

  async get(id: string): Promise<Buffer | undefined> {
    return this.bytes.get(id);
  }
  async put(id: string, jpeg: Uint8Array): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      held.started();
      await held.release;
    }
    this.bytes.set(id, Buffer.from(jpeg));
  }
  async renew(id: string): Promise<boolean> {
    this.renewed.push(id);
    return this.bytes.has(id);
  }
  async forget(id: string): Promise<void> {
    this.bytes.delete(id);
  }
  /** Holds the next put once it has started; resolves the returned `started` then. */
  hold(): { started: Promise<void>; release: () => void } {
    let release!: () => void;
    let started!: () => void;
    const startedPromise = new Promise<void>((resolve) => (started = resolve));
    this.#held = { started, release: new Promise<void>((resolve) => (release = resolve)) };
    return { started: startedPromise, release };
  }
}

describe('Thumbnails in a fleet', () => {
  let dir: string;
  /** Two indexed images (content ids) and their original files. */
  let img: IndexedOriginal;
  let kept: IndexedOriginal;
  let shared: MemorySharedThumbnails;
  /** A replica's cache: its own folder, the fleet's shared cache. */
  const replica = (name: string) => new Thumbnails(join(dir, name), { shared: () => shared });
  const cachedIds = async (name: string): Promise<string[]> => (await readdir(join(dir, name)).catch(() => [])).map((file) => file.replace(/\.jpg$/, ''));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-fleet-thumbnails-'));
    const indexed = async (name: string, red: number): Promise<IndexedOriginal> => {
      const path = join(dir, `${name}.jpg`);
      const bytes = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: red, g: 30, b: 30 } } }).jpeg().toBuffer();
      await writeFile(path, bytes);
      return { id: pointIdFor('local', contentHashOf(bytes)), tenant: 'local', path };
    };
    img = await indexed('original', 200);
    kept = await indexed('kept', 90);
    shared = new MemorySharedThumbnails();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows on one replica what another made, and keeps it on its own disk too', async () => {
    const a = replica('a');
    await a.share(img);
    const made = shared.bytes.get(img.id);
    expect(made).toBeDefined();
    await rm(img.path); // The original is on A's machine only.
    const b = replica('b');
    expect((await b.get(img)).equals(made!)).toBe(true);
    expect(await cachedIds('b')).toEqual([img.id]);
  });

  it('drops nothing when the original is not on this machine, and answers not found when no one shares it', async () => {
    const a = replica('a');
    await a.get(img);
    await rm(img.path);
    // Served from A's disk; the shared copy stays for the others.
    expect((await sharp(await a.get(img)).metadata()).width).toBe(512);
    expect(shared.bytes.has(img.id)).toBe(true);

    shared.bytes.clear(); // Expired, or Redis is down.
    const error = await replica('b').get(img).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe('not_found');
    expect((error as SessionError).message).toContain('on another machine of the fleet');
  });

  it('keeps the shared copy alive while a replica shows it from its own disk, and shares it again once expired', async () => {
    const a = replica('a');
    await a.get(img);
    await a.get(img);
    expect(shared.renewed).toEqual([img.id]);
    shared.bytes.clear(); // Expired in Redis while A kept showing it from disk.
    await a.get(img);
    expect(shared.bytes.has(img.id)).toBe(true);
  });

  it('deletes the shared copy when the image is forgotten, even while that copy is being shared', async () => {
    const a = replica('a');
    await a.share(kept);
    await a.forget(kept.id);
    expect(shared.bytes.has(kept.id)).toBe(false);

    const held = shared.hold();
    const sharing = a.get(img);
    await held.started;
    // The image is deleted while its thumbnail is on its way to Redis.
    await a.forget(img.id);
    held.release();
    await sharing;
    expect(shared.bytes.has(img.id)).toBe(false);
    expect(await cachedIds('a')).toEqual([]);
  });

  it('shares nothing, and makes nothing ahead, on one machine', async () => {
    const alone = new Thumbnails(join(dir, 'alone'));
    await alone.share(img);
    expect(await cachedIds('alone')).toEqual([]);
    // There a missing original still means the image is gone: its thumbnail goes too.
    await alone.get(img);
    await rm(img.path);
    await expect(alone.get(img)).rejects.toThrow(SessionError);
    expect(await cachedIds('alone')).toEqual([]);
  });
});
