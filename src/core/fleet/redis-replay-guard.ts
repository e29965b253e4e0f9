// The replay guard of a fleet: request ids remembered in Redis, so a Slack retry or a Discord
// event delivered to two replicas is acted on by one. While Redis is down it answers from this
// replica's own memory instead of waiting: a search must keep working without Redis, and the
// worst an outage costs is a retry that lands on another replica being acted on twice.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ReplayGuard, type ReplayMemory } from '../conversations/replay-guard.js';
import { KEY_PREFIX } from './redis-connection.js';

/**
 * How long a request id is remembered, in seconds. Slack retries a failed event three times
 * within about five minutes and a Discord gateway resume replays within its session's minutes;
 * an hour covers both with margin, at some 100 bytes of Redis per request (36,000 keys, about
 * 4 MB, for a workspace sending 10 requests a second).
 */
export const REPLAY_WINDOW_SECONDS = 60 * 60;

/** The key that remembers request `key`. */
export function replayKey(key: string): string {
  return `${KEY_PREFIX}replay:${key}`;
}

export interface RedisReplayGuardOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  logger: Logger;
  /** Defaults to REPLAY_WINDOW_SECONDS. */
  windowSeconds?: number;
}

export class RedisReplayGuard implements ReplayMemory {
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #windowSeconds: number;
  /** This replica's memory: the answer while Redis is down, and what it saw before the outage. */
  readonly #local = new ReplayGuard();
  #failing = false;

  constructor(options: RedisReplayGuardOptions) {
    this.#redis = options.redis;
    this.#logger = options.logger;
    this.#windowSeconds = options.windowSeconds ?? REPLAY_WINDOW_SECONDS;
  }

  async firstTime(key: string): Promise<boolean> {
    let first: boolean;
    try {
      first = (await this.#redis.set(replayKey(key), '1', 'EX', this.#windowSeconds, 'NX')) === 'OK';
    } catch (error) {
      if (!this.#failing) {
        this.#logger.warn({ err: error, key }, 'Redis is unreachable: replays are checked on this replica only until it is back');
      }
      this.#failing = true;
      return this.#local.firstTime(key);
    }
    if (this.#failing) this.#logger.info('Redis is reachable again: replays are checked across the fleet');
    this.#failing = false;
    // Remembered here too, so a retry that reaches this replica during a later outage is still caught.
    const firstHere = await this.#local.firstTime(key);
    return first && firstHere;
  }
}
