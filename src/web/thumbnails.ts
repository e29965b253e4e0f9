// Thumbnails for the grid: a JPEG of at most 512 px on its longer side, made once from the
// original file and cached on disk by image id (ids come from the content, so a cached
// thumbnail never goes stale).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { SessionError } from '../core/errors.js';

/** Longest side of a thumbnail: sharp on a 2x screen at the grid's 256 px cells. */
export const THUMBNAIL_MAX_SIDE = 512;
/** JPEG quality: thumbnails are looked at, not archived. */
const THUMBNAIL_QUALITY = 80;

/** Makes and caches thumbnails under one folder. */
export class Thumbnails {
  readonly #dir: string;
  readonly #making = new Map<string, Promise<Buffer>>();

  /** @param dir Folder for cached thumbnails (created when first needed). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * The thumbnail of image `id`, whose original is at `originalPath`. Concurrent requests for
   * one image make it once. Throws SessionError('not_found') when the original is gone.
   */
  async get(id: string, originalPath: string): Promise<Buffer> {
    const cached = join(this.#dir, `${id}.jpg`);
    try {
      return await readFile(cached);
    } catch {
      // Not made yet.
    }
    let making = this.#making.get(id);
    if (making === undefined) {
      making = this.#make(originalPath, cached).finally(() => this.#making.delete(id));
      this.#making.set(id, making);
    }
    return making;
  }

  async #make(originalPath: string, cached: string): Promise<Buffer> {
    let original: Buffer;
    try {
      original = await readFile(originalPath);
    } catch (error) {
      throw new SessionError('not_found', 'The original file of this image is gone, so it has no thumbnail.', { cause: error });
    }
    const jpeg = await sharp(original, { failOn: 'none' })
      .rotate()
      .resize(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: THUMBNAIL_QUALITY })
      .toBuffer();
    await mkdir(this.#dir, { recursive: true });
    // Written aside and renamed, so a concurrent reader never sees half a file.
    const partial = `${cached}.${process.pid}.part`;
    await writeFile(partial, jpeg);
    await rename(partial, cached);
    return jpeg;
  }
}
