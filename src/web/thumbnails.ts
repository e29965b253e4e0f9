// Thumbnails for the grid: a JPEG of at most 512 px on its longer side, made once from the
// original file and cached on disk by image id (ids come from the content, so a cached
// thumbnail never goes stale). The cache is bounded in bytes, dropping the least recently served
// first, and a thumbnail is dropped when its image is: its original gone, or the store's point.
// A forget() wins over a thumbnail being made at that moment, and a crash's half-written files
// are cleaned up when the cache is next opened.
// In a fleet (REDIS_URL) the originals are spread over the replicas (a web upload stays with the
// replica that took it), so thumbnails are shared through Redis too: a replica looks on its disk,
// then in the shared cache, then makes the thumbnail from the original if that is here, and
// shares what it made. There a missing original means "on another machine", not "gone": only
// the store's point decides that an image is gone.
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../core/errors.js';
import type { SharedThumbnails } from '../core/fleet/shared-thumbnails.js';
import { jpegRendition, readOriginal, type IndexedOriginal } from './originals.js';

/** Longest side of a thumbnail: sharp on a 2x screen at the grid's 256 px cells. */
export const THUMBNAIL_MAX_SIDE = 512;
/** JPEG quality: thumbnails are looked at, not archived. */
const THUMBNAIL_QUALITY = 80;
/**
 * Most bytes of thumbnails kept on disk. A 512 px JPEG at quality 80 is 20 to 80 KB, so 256 MiB
 * holds several thousand: every grid a person pages through in a session, at a cost a data folder
 * never notices. Past it, the least recently served are deleted and made again if asked for.
 */
export const THUMBNAIL_CACHE_MAX_BYTES = 256 * 1024 * 1024;

const THUMBNAIL_SUFFIX = '.jpg';
/** A thumbnail is written to `<id>.jpg.<pid>.<n>.part` and then renamed into place. */
const PARTIAL_SUFFIX = '.part';
/**
 * How old a `.part` file must be to be deleted as a crash's leftover when the cache is opened.
 * Writing one takes milliseconds; the margin spares the file another findimage process sharing
 * this data folder (`serve` beside `web`) is writing at that moment.
 */
export const STALE_PARTIAL_MS = 10 * 60_000;

/** Why a replica of a fleet has no thumbnail to show. */
const NOT_ON_THIS_REPLICA =
  "This image's original file is on another machine of the fleet, and no thumbnail of it is shared now (Redis is unreachable, or it was not viewed for a month); try again later.";

/** How the cache is bounded, and the fleet's shared cache. */
export interface ThumbnailsOptions {
  /** Most bytes kept on disk (default THUMBNAIL_CACHE_MAX_BYTES); least recently served go first. */
  maxBytes?: number;
  /**
   * The fleet's shared thumbnails, asked on each request (the core, which holds them, opens after
   * the server starts). Undefined, or answering undefined: one machine, thumbnails on this disk only.
   */
  shared?: () => SharedThumbnails | undefined;
}

/** Makes and caches thumbnails under one folder. */
export class Thumbnails {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #making = new Map<string, Promise<Buffer>>();
  /**
   * Cached thumbnails by id with their sizes, least recently served first. Read from the folder
   * on first use, oldest file first, so the bound holds across restarts.
   */
  #entries: Promise<Map<string, number>> | undefined;
  /** Bytes of the cached thumbnails plus those being written now (counted before they land). */
  #totalBytes = 0;
  /**
   * How many times each id with a request in flight was forgotten. A make compares it before
   * keeping its file, so a forget() that ran meanwhile (the image was deleted) wins, and its
   * thumbnail does not return. An id leaves it with its last request, so it does not grow.
   */
  readonly #forgotten = new Map<string, number>();
  /** How many get() calls are in flight for each id. */
  readonly #busy = new Map<string, number>();
  /** Numbers this process's part files, so two makes of one id never share one. */
  #partials = 0;
  readonly #shared: () => SharedThumbnails | undefined;

  /** @param dir Folder for cached thumbnails (created when first needed). */
  constructor(dir: string, options: ThumbnailsOptions = {}) {
    this.#dir = dir;
    this.#maxBytes = options.maxBytes ?? THUMBNAIL_CACHE_MAX_BYTES;
    this.#shared = options.shared ?? (() => undefined);
  }

  /** Bytes of thumbnails cached now, with those being written. */
  async cachedBytes(): Promise<number> {
    await this.#index();
    return this.#totalBytes;
  }

  /**
   * The thumbnail of an indexed image, made from its original file only while that file holds the
   * bytes that were indexed (readOriginal: a photo swapped in at the path is never shown under
   * the old id). Concurrent requests for one image make it once. Throws SessionError('not_found')
   * when the original is gone, and then drops the cached thumbnail too. In a fleet: from this disk, else the shared cache, else
   * made from the original if it is on this machine (and shared); not_found when none of these has it.
   */
  async get(image: IndexedOriginal): Promise<Buffer> {
    const { id } = image;
    this.#busy.set(id, (this.#busy.get(id) ?? 0) + 1);
    try {
      // Read before any await: a forget() from here on wins over this request.
      return await this.#get(image, this.#forgotten.get(id) ?? 0);
    } finally {
      const left = (this.#busy.get(id) ?? 1) - 1;
      if (left > 0) {
        this.#busy.set(id, left);
      } else {
        this.#busy.delete(id);
        this.#forgotten.delete(id);
      }
    }
  }

  /**
   * Fleet only: makes image `id`'s thumbnail now (if this disk has none) and shares it, so that
   * every replica can show it although only this one holds the original. Does nothing on one
   * machine, where it is made when first asked for. Throws as get() does.
   */
  async share(image: IndexedOriginal): Promise<void> {
    if (this.#shared() === undefined) return;
    await this.get(image);
  }

  async #get(image: IndexedOriginal, generation: number): Promise<Buffer> {
    const { id } = image;
    const shared = this.#shared();
    const entries = await this.#index();
    if (shared === undefined && !(await isFile(image.path))) {
      await this.forget(id);
      throw new SessionError('not_found', 'The original file of this image is gone, so it has no thumbnail.');
    }
    const cached = await this.#readCached(entries, id);
    if (cached !== undefined) {
      // Viewed here: the shared copy is kept another expiry too, or shared again if it expired,
      // so that the other replicas still find it.
      if (shared !== undefined && !(await shared.renew(id))) await this.#publish(shared, id, cached, generation);
      return cached;
    }
    let making = this.#making.get(id);
    if (making === undefined) {
      making = (shared === undefined ? this.#make(image, generation) : this.#fetchOrMake(shared, image, generation)).finally(() => {
        if (this.#making.get(id) === making) this.#making.delete(id);
      });
      this.#making.set(id, making);
    }
    return making;
  }

  /** The thumbnail cached on this disk, now the most recently served; undefined if none. */
  async #readCached(entries: Map<string, number>, id: string): Promise<Buffer | undefined> {
    if (!entries.has(id)) return undefined;
    try {
      const jpeg = await readFile(this.#pathOf(id));
      // Served: now the most recently used.
      const size = entries.get(id);
      if (size !== undefined && entries.delete(id)) entries.set(id, size);
      return jpeg;
    } catch {
      this.#remove(entries, id);
      return undefined;
    }
  }

  /** Fleet: the shared thumbnail (kept on this disk too), else one made from the original here and shared. */
  async #fetchOrMake(shared: SharedThumbnails, image: IndexedOriginal, generation: number): Promise<Buffer> {
    const { id } = image;
    const fromFleet = await shared.get(id);
    if (fromFleet !== undefined) {
      await this.#keep(id, fromFleet, generation);
      return fromFleet;
    }
    if (!(await isFile(image.path))) throw new SessionError('not_found', NOT_ON_THIS_REPLICA);
    const jpeg = await this.#make(image, generation);
    await this.#publish(shared, id, jpeg, generation);
    return jpeg;
  }

  /** Shares `jpeg` as `id`'s thumbnail, unless `id` is forgotten (deleted) before or while it is put. */
  async #publish(shared: SharedThumbnails, id: string, jpeg: Buffer, generation: number): Promise<void> {
    if ((this.#forgotten.get(id) ?? 0) !== generation) return;
    await shared.put(id, jpeg);
    // Forgotten while it was being put: the forget's delete may have run first, so delete again.
    if ((this.#forgotten.get(id) ?? 0) !== generation) await shared.forget(id);
  }

  /**
   * Deletes image `id`'s cached thumbnail, if any (the image was deleted), and in a fleet the
   * shared one. A thumbnail of it being made now is thrown away, and its request answered not found.
   */
  async forget(id: string): Promise<void> {
    // Counted before any await, so a make finishing while this runs sees it.
    if (this.#busy.has(id)) this.#forgotten.set(id, (this.#forgotten.get(id) ?? 0) + 1);
    this.#making.delete(id);
    this.#remove(await this.#index(), id);
    await rm(this.#pathOf(id), { force: true });
    await this.#shared()?.forget(id);
  }

  #pathOf(id: string): string {
    return join(this.#dir, `${id}${THUMBNAIL_SUFFIX}`);
  }

  /** Makes and caches `image`'s thumbnail, unless it is forgotten after `generation` was read. */
  async #make(image: IndexedOriginal, generation: number): Promise<Buffer> {
    // The bytes that were indexed, or not_found (gone, not a regular file, or changed since).
    const original = await readOriginal(image);
    const jpeg = await jpegRendition(original.bytes, THUMBNAIL_MAX_SIDE, THUMBNAIL_QUALITY);
    await this.#keep(image.id, jpeg, generation);
    return jpeg;
  }

  /** Caches `jpeg` as `id`'s thumbnail on this disk, unless it is forgotten after `generation` was read. */
  async #keep(id: string, jpeg: Buffer, generation: number): Promise<void> {
    const entries = await this.#index();
    // Counted from before it is written, so the files being written are within the bound too.
    this.#totalBytes += jpeg.length;
    let kept = false;
    try {
      await this.#evict(entries);
      await mkdir(this.#dir, { recursive: true });
      // Written aside and renamed, so a concurrent reader never sees half a file.
      const cached = this.#pathOf(id);
      const partial = `${cached}.${process.pid}.${++this.#partials}${PARTIAL_SUFFIX}`;
      await writeFile(partial, jpeg);
      await rename(partial, cached);
      if ((this.#forgotten.get(id) ?? 0) !== generation) {
        // Forgotten while being made: the image was deleted, so its thumbnail must not return.
        await rm(cached, { force: true });
        throw new SessionError('not_found', 'This image was deleted, so it has no thumbnail.');
      }
      this.#remove(entries, id);
      entries.set(id, jpeg.length);
      kept = true;
    } finally {
      if (!kept) this.#totalBytes -= jpeg.length;
    }
    await this.#evict(entries);
  }

  /** Deletes the least recently served thumbnails until the cache fits its bound. */
  async #evict(entries: Map<string, number>): Promise<void> {
    for (const id of entries.keys()) {
      if (this.#totalBytes <= this.#maxBytes) return;
      this.#remove(entries, id);
      await rm(this.#pathOf(id), { force: true });
    }
  }

  #remove(entries: Map<string, number>, id: string): void {
    const size = entries.get(id);
    if (size === undefined) return;
    entries.delete(id);
    this.#totalBytes -= size;
  }

  #index(): Promise<Map<string, number>> {
    this.#entries ??= this.#readFolder();
    return this.#entries;
  }

  /** The thumbnails already on disk, oldest first (then evicted down to the bound). */
  async #readFolder(): Promise<Map<string, number>> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return new Map(); // Not made yet.
    }
    const found: Array<{ id: string; size: number; modified: number }> = [];
    for (const name of names) {
      if (name.endsWith(PARTIAL_SUFFIX)) {
        await removeIfStale(join(this.#dir, name));
        continue;
      }
      if (!name.endsWith(THUMBNAIL_SUFFIX)) continue;
      try {
        const info = await stat(join(this.#dir, name));
        found.push({ id: name.slice(0, -THUMBNAIL_SUFFIX.length), size: info.size, modified: info.mtimeMs });
      } catch {
        // Deleted meanwhile.
      }
    }
    found.sort((a, b) => a.modified - b.modified);
    const entries = new Map(found.map(({ id, size }) => [id, size]));
    this.#totalBytes = found.reduce((sum, { size }) => sum + size, 0);
    await this.#evict(entries);
    return entries;
  }
}

/** Deletes a part file left by a crash: one older than any write still going on. */
async function removeIfStale(partial: string): Promise<void> {
  try {
    if (Date.now() - (await stat(partial)).mtimeMs < STALE_PARTIAL_MS) return;
    await rm(partial, { force: true });
  } catch {
    // Renamed or deleted meanwhile.
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
