// The fleet's shared thumbnails in Redis: one key per image, `findimage:thumb:<id>`, holding the
// JPEG's bytes with an expiry that each read renews. While Redis is down nothing fails: reads
// find nothing, writes are skipped, and the outage is logged once.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { KEY_PREFIX } from './redis-connection.js';
import { MAX_SHARED_THUMBNAIL_BYTES, type SharedThumbnails } from './shared-thumbnails.js';

/**
 * How long a shared thumbnail outlives its last view, in seconds: 30 days. Redis is also the job
 * queue and runs with `maxmemory-policy noeviction` (docs/fleet.md), so it never drops a key by
 * itself: cached bytes must expire, or they would grow with every image ever shown until Redis
 * refused the queue's writes. Each read renews it (GETEX), so thumbnails in use stay; at 20 to
 * 80 KB each, 10,000 images viewed within a month take 0.2 to 0.8 GB.
 */
export const SHARED_THUMBNAIL_TTL_SECONDS = 30 * 24 * 60 * 60;

/** The key of image `id`'s shared thumbnail. */
export function thumbnailKey(id: string): string {
  return `${KEY_PREFIX}thumb:${id}`;
}

export interface RedisThumbnailsOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  logger: Logger;
  /** Defaults to SHARED_THUMBNAIL_TTL_SECONDS. */
  ttlSeconds?: number;
  /** Defaults to MAX_SHARED_THUMBNAIL_BYTES. */
  maxBytes?: number;
}

export class RedisThumbnails implements SharedThumbnails {
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #ttlSeconds: number;
  readonly #maxBytes: number;
  /** Whether the last command failed: the outage is logged when it starts and when it ends, not per request. */
  #failing = false;

  constructor(options: RedisThumbnailsOptions) {
    this.#redis = options.redis;
    this.#logger = options.logger;
    this.#ttlSeconds = options.ttlSeconds ?? SHARED_THUMBNAIL_TTL_SECONDS;
    this.#maxBytes = options.maxBytes ?? MAX_SHARED_THUMBNAIL_BYTES;
  }

  async get(id: string): Promise<Buffer | undefined> {
    const jpeg = await this.#attempt(id, () => this.#redis.getexBuffer(thumbnailKey(id), 'EX', this.#ttlSeconds));
    return jpeg ?? undefined;
  }

  async put(id: string, jpeg: Uint8Array): Promise<void> {
    if (jpeg.length > this.#maxBytes) {
      this.#logger.warn({ id, bytes: jpeg.length, maxBytes: this.#maxBytes }, 'thumbnail too large to share through Redis; kept on this replica only');
      return;
    }
    await this.#attempt(id, () => this.#redis.set(thumbnailKey(id), Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.length), 'EX', this.#ttlSeconds));
  }

  async renew(id: string): Promise<boolean> {
    return (await this.#attempt(id, () => this.#redis.expire(thumbnailKey(id), this.#ttlSeconds))) === 1;
  }

  async forget(id: string): Promise<void> {
    await this.#attempt(id, () => this.#redis.del(thumbnailKey(id)));
  }

  /** Runs `command`; undefined when Redis fails it (logged once per outage). */
  async #attempt<T>(id: string, command: () => Promise<T>): Promise<T | undefined> {
    let result: T;
    try {
      result = await command();
    } catch (error) {
      if (!this.#failing) {
        this.#logger.warn({ err: error, id }, 'Redis is unreachable: thumbnails are made from originals on this replica only until it is back');
      }
      this.#failing = true;
      return undefined;
    }
    if (this.#failing) this.#logger.info('Redis is reachable again: thumbnails are shared across the fleet');
    this.#failing = false;
    return result;
  }
}
