// Channel pacing across a fleet: each conversation's next free posting slot lives in Redis, so two
// replicas answering in one channel still post at most once per interval between them. One Lua
// script reads the slot, takes the later of now and the slot on Redis's clock (one clock for every
// replica, whatever their own clocks say), reserves the next one and returns the wait. While
// Redis is down each replica paces its own posts, as a single process does.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CHANNEL_POST_INTERVAL_MS, ChannelPacer, SYSTEM_CLOCK, type PacerClock, type PostPacer } from '../conversations/post-pacer.js';
import { KEY_PREFIX } from './redis-connection.js';

/**
 * KEYS[1]: the channel's next free slot (epoch ms on Redis's clock); ARGV[1]: the interval.
 * Reserves max(now, slot) and returns how long to wait for it. The key expires when its slot
 * has passed, so idle channels leave nothing behind.
 */
const TURN_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, slot)
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + interval, 'PX', at + interval - now)
return at - now`;

/** The key of a conversation's next free posting slot. */
export function paceKey(channel: string): string {
  return `${KEY_PREFIX}pace:${channel}`;
}

export interface RedisPostPacerOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  logger: Logger;
  /** Least time between two posts to one conversation; defaults to CHANNEL_POST_INTERVAL_MS. */
  intervalMs?: number;
  /** Waits on its sleep (the time itself comes from Redis); defaults to SYSTEM_CLOCK. Also the fallback's clock. */
  clock?: PacerClock;
}

export class RedisPostPacer implements PostPacer {
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #clock: PacerClock;
  /** Paces this replica's posts while Redis is down. */
  readonly #local: ChannelPacer;
  #failing = false;

  constructor(options: RedisPostPacerOptions) {
    this.#redis = options.redis;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? CHANNEL_POST_INTERVAL_MS;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#local = new ChannelPacer({ intervalMs: this.#intervalMs, clock: this.#clock });
  }

  async turn(channel: string): Promise<void> {
    let waitMs: number;
    try {
      waitMs = Number(await this.#redis.eval(TURN_SCRIPT, 1, paceKey(channel), this.#intervalMs));
    } catch (error) {
      if (!this.#failing) this.#logger.warn({ err: error, channel }, 'Redis is unreachable: posts are paced per replica until it is back');
      this.#failing = true;
      await this.#local.turn(channel);
      return;
    }
    if (this.#failing) this.#logger.info('Redis is reachable again: posts are paced across the fleet');
    this.#failing = false;
    if (waitMs > 0) await this.#clock.sleep(waitMs);
  }
}
