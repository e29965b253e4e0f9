// Backfill progress shared by a fleet: each channel's saved state is a JSON string in Redis (no
// expiry: it is what lets a later backfill walk only newer messages), so a walk stopped on one
// replica resumes on any other. A lease per channel (see redis-leases.ts) keeps two replicas from
// walking one channel at once; it expires leaseMs after its holder dies, so the walk can resume.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BackfillLease, BackfillProgressStore, BackfillState } from '../conversations/backfill-progress.js';
import { KEY_PREFIX } from './redis-connection.js';
import { RedisLeases, redisUnavailable } from './redis-leases.js';

/** What chat users read when a backfill cannot reach the shared state (no URLs, no advice for operators). */
const BACKFILL_UNAVAILABLE_PUBLIC_MESSAGE = 'Indexing past messages is unavailable right now; please try again in a minute.';

/** The key of a channel's saved backfill state. */
export function backfillStateKey(platform: string, tenant: string, channel: string): string {
  return `${KEY_PREFIX}backfill:${platform}:${tenant}:${channel}`;
}

/** The key of the lease of the replica walking a channel now. */
export function backfillLeaseKey(platform: string, tenant: string, channel: string): string {
  return `${KEY_PREFIX}backfill-walk:${platform}:${tenant}:${channel}`;
}

export interface RedisBackfillProgressOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  /**
   * The platform whose channels these are ("slack", "discord"): part of every key, so that two
   * platforms' ids can never meet.
   */
  platform: string;
  /** How long a walk's lease outlives its holder (config.fleet.leaseMs). */
  leaseMs: number;
  logger: Logger;
}

export class RedisBackfillProgressStore implements BackfillProgressStore {
  readonly #redis: Redis;
  readonly #platform: string;
  readonly #leases: RedisLeases;
  readonly #logger: Logger;

  constructor(options: RedisBackfillProgressOptions) {
    this.#redis = options.redis;
    this.#platform = options.platform;
    this.#logger = options.logger;
    this.#leases = new RedisLeases({ redis: options.redis, leaseMs: options.leaseMs, logger: options.logger });
  }

  async get(tenant: string, channel: string): Promise<BackfillState | undefined> {
    let saved: string | null;
    try {
      saved = await this.#redis.get(backfillStateKey(this.#platform, tenant, channel));
    } catch (error) {
      throw redisUnavailable(error, 'reading where a backfill got to', BACKFILL_UNAVAILABLE_PUBLIC_MESSAGE);
    }
    return saved === null ? undefined : (JSON.parse(saved) as BackfillState);
  }

  async save(state: BackfillState): Promise<void> {
    try {
      await this.#redis.set(backfillStateKey(this.#platform, state.tenant, state.channel), JSON.stringify(state));
    } catch (error) {
      throw redisUnavailable(error, 'saving where a backfill got to', BACKFILL_UNAVAILABLE_PUBLIC_MESSAGE);
    }
  }

  async lease(tenant: string, channel: string): Promise<BackfillLease | undefined> {
    const key = backfillLeaseKey(this.#platform, tenant, channel);
    let taken: boolean;
    try {
      taken = await this.#leases.take(key);
    } catch (error) {
      throw redisUnavailable(error, 'starting a backfill', BACKFILL_UNAVAILABLE_PUBLIC_MESSAGE);
    }
    if (!taken) return undefined;
    let held = true;
    return {
      release: async () => {
        if (!held) return;
        held = false;
        await this.#leases.release(key).catch((error: unknown) => {
          this.#logger.warn({ err: error, tenant, channel }, 'could not release a backfill lease in Redis; it expires by itself');
        });
      },
    };
  }

  async walkedElsewhere(tenant: string, channel: string): Promise<boolean> {
    const key = backfillLeaseKey(this.#platform, tenant, channel);
    let holder: string | undefined;
    try {
      holder = await this.#leases.holderOf(key);
    } catch (error) {
      throw redisUnavailable(error, 'checking whether a backfill runs elsewhere', BACKFILL_UNAVAILABLE_PUBLIC_MESSAGE);
    }
    return holder !== undefined && holder !== this.#leases.holder;
  }

  /** Stops renewing; a walk still running here loses its lease after leaseMs. */
  close(): void {
    this.#leases.stop();
  }
}
