// Content claims shared by the whole fleet: before a worker on any machine embeds an image, it
// claims the image's point id in Redis, so each image is embedded once across the fleet. A claim
// is a lease (see redis-leases.ts): renewed while its holder lives, gone leaseMs after the holder
// is killed, so a dead worker never blocks an image.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CLAIM_POLL_MS, type ContentClaim, type ContentClaims } from '../indexing/content-claims.js';
import { KEY_PREFIX } from './redis-connection.js';
import { RedisLeases, redisUnavailable } from './redis-leases.js';

/** The key of a claim on image `id` in model `modelId`'s index (each index embeds an image once). */
export function claimKey(modelId: string, id: string): string {
  return `${KEY_PREFIX}claim:${modelId}:${id}`;
}

export interface RedisContentClaimsOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  /** The model whose index the claims are for. */
  modelId: string;
  /** How long a claim outlives its holder (config.fleet.leaseMs). */
  leaseMs: number;
  logger: Logger;
  /** Milliseconds between looks at a claim held elsewhere (default CLAIM_POLL_MS). */
  pollMs?: number;
}

/**
 * ContentClaims in Redis. It has no tryClaim: asking Redis is a round trip, so ImageIndexer
 * waits on claim() instead (optional by design in ContentClaims).
 */
export class RedisContentClaims implements ContentClaims {
  readonly #leases: RedisLeases;
  readonly #modelId: string;
  readonly #pollMs: number;
  readonly #logger: Logger;
  #taken = 0;
  #contended = 0;
  #closed = false;

  constructor(options: RedisContentClaimsOptions) {
    this.#logger = options.logger;
    this.#leases = new RedisLeases({ redis: options.redis, leaseMs: options.leaseMs, logger: options.logger });
    this.#modelId = options.modelId;
    this.#pollMs = options.pollMs ?? CLAIM_POLL_MS;
  }

  /** Claims taken by this process since it started (for /metrics). */
  get claimsTaken(): number {
    return this.#taken;
  }

  /** Claims that had to wait for another holder first (two workers on one image). */
  get claimsContended(): number {
    return this.#contended;
  }

  /**
   * Waits until no holder in the fleet embeds `id`, then claims it. Throws StoreError
   * (store_unavailable, transient: the job is retried) when Redis cannot be reached.
   */
  async claim(id: string): Promise<ContentClaim> {
    const key = claimKey(this.#modelId, id);
    let waited = false;
    for (;;) {
      let taken: boolean;
      try {
        taken = await this.#leases.take(key);
      } catch (error) {
        throw redisUnavailable(error, 'claiming an image to embed');
      }
      if (taken) break;
      if (!waited) this.#contended++;
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
    }
    this.#taken++;
    return this.#held(key);
  }

  #held(key: string): ContentClaim {
    let held = true;
    return {
      release: () => {
        if (!held || this.#closed) return;
        held = false;
        // Not awaited (ContentClaim.release is synchronous): a release lost to an outage costs
        // nothing but the wait of the lease, after which the key expires.
        this.#leases.release(key).catch((error: unknown) => {
          this.#logger.warn({ err: error, key }, 'could not release a claim in Redis; it expires with its lease');
        });
      },
    };
  }

  /**
   * Stops renewing. Claims still held are left to expire after leaseMs rather than deleted:
   * whoever closes mid-embedding did not finish the image.
   */
  close(): void {
    this.#closed = true;
    this.#leases.stop();
  }
}
