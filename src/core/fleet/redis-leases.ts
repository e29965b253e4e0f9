// Leases in Redis: a key that says "this process is doing X" (embedding an image, walking a
// channel's history), taken with SET NX PX so only one process in the fleet holds it, renewed
// while the holder lives, and expiring by itself leaseMs after the holder dies (kill -9, power
// cut, lost network), so nothing stays blocked. Release and renewal touch the key only while it
// is still ours: a holder that paused past its lease must not delete or extend its successor's.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { StoreError } from '../errors.js';

/**
 * Extends every key in KEYS that still holds ARGV[1] to ARGV[2] ms, and returns the 1-based
 * positions of those that do not (expired, or taken by another holder): one round trip per tick
 * however many leases a process holds.
 */
const RENEW_SCRIPT = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    lost[#lost + 1] = i
  end
end
return lost`;

/** Deletes KEYS[1] only if it still holds ARGV[1]; returns 1 if it did. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Renewals per lease: every leaseMs/3, so a lease survives two lost renewals in a row (a slow
 * event loop, a Redis failover) before it expires under a live holder.
 */
export const RENEWALS_PER_LEASE = 3;

/** The error every Redis failure of the shared state becomes: transient, so the work is retried. */
export function redisUnavailable(error: unknown, doing: string, publicMessage?: string): StoreError {
  return new StoreError(
    'store_unavailable',
    `Redis (REDIS_URL) could not be reached while ${doing}. Check that it runs and that this host can reach it.`,
    { cause: error, details: { doing }, ...(publicMessage === undefined ? {} : { publicMessage }) },
  );
}

export interface RedisLeasesOptions {
  /** A quick connection (fails at once while Redis is down). */
  redis: Redis;
  /** How long a lease outlives its last renewal: the wait before a dead holder's work is taken over. */
  leaseMs: number;
  logger: Logger;
}

/** The leases one process holds, with one renewal timer for all of them. */
export class RedisLeases {
  /** This process's value in every key it holds: host and pid for an operator, a UUID to be unique. */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  readonly #redis: Redis;
  readonly #leaseMs: number;
  readonly #logger: Logger;
  readonly #held = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;
  #renewalFailing = false;

  constructor(options: RedisLeasesOptions) {
    this.#redis = options.redis;
    this.#leaseMs = options.leaseMs;
    this.#logger = options.logger;
  }

  /** Keys held now (taken, not released, not found lost by a renewal). */
  get held(): ReadonlySet<string> {
    return this.#held;
  }

  /** Takes `key` if no one holds it; false when another holder does. Throws StoreError when Redis is unreachable. */
  async take(key: string): Promise<boolean> {
    const taken = await this.#redis.set(key, this.holder, 'PX', this.#leaseMs, 'NX');
    if (taken !== 'OK') return false;
    this.#held.add(key);
    this.#startRenewing();
    return true;
  }

  /**
   * Gives `key` up: deletes it if it is still ours. Asked even when a renewal found it lost, so a
   * holder never deletes a successor's key by mistake and never leaves its own behind.
   */
  async release(key: string): Promise<void> {
    this.#held.delete(key);
    if (this.#held.size === 0) this.#stopRenewing();
    await this.#redis.eval(RELEASE_SCRIPT, 1, key, this.holder);
  }

  /** Who holds `key` now (the holder string), or undefined when no one does. */
  async holderOf(key: string): Promise<string | undefined> {
    return (await this.#redis.get(key)) ?? undefined;
  }

  /**
   * Stops renewing, and forgets every lease without deleting it: they expire after leaseMs as a
   * dead holder's would. Callers release what they finished first.
   */
  stop(): void {
    this.#held.clear();
    this.#stopRenewing();
  }

  #startRenewing(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(this.#leaseMs / RENEWALS_PER_LEASE)));
    // A process whose only remaining work is renewing has nothing to renew for.
    this.#timer.unref();
  }

  #stopRenewing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #renew(): Promise<void> {
    if (this.#renewing || this.#held.size === 0) return;
    this.#renewing = true;
    const keys = [...this.#held];
    try {
      const lost = (await this.#redis.eval(RENEW_SCRIPT, keys.length, ...keys, this.holder, this.#leaseMs)) as number[];
      for (const position of lost) {
        const key = keys[position - 1];
        if (key === undefined || !this.#held.delete(key)) continue;
        // Our lease expired (no renewal reached Redis in time) and may now be someone else's.
        this.#logger.warn({ key }, 'a lease expired before it was renewed; another process may now hold it');
      }
      if (this.#renewalFailing) this.#logger.info({ leases: keys.length }, 'leases are being renewed again');
      this.#renewalFailing = false;
    } catch (error) {
      // Logged once per outage: the next tick tries again, and a lease not renewed in time expires.
      if (!this.#renewalFailing) this.#logger.warn({ err: error, leases: keys.length }, 'could not renew leases in Redis; they expire if this lasts');
      this.#renewalFailing = true;
    } finally {
      this.#renewing = false;
      if (this.#held.size === 0) this.#stopRenewing();
    }
  }
}
