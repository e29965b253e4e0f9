// Connections to the fleet's Redis (REDIS_URL). Two kinds, because they fail differently:
// a queue connection (BullMQ's) waits through an outage and resends what it holds, while a
// quick connection fails a command at once when Redis is unreachable, so that the replay guard,
// the channel pacer and the claims can fall back or retry instead of hanging a chat answer.
import type { ConnectionOptions as BullConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { StoreError } from '../errors.js';

/** Every key findimage writes starts with this, so one Redis can serve other programs too. */
export const KEY_PREFIX = 'findimage:';

/** Longest wait between two reconnection attempts to an unreachable Redis. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** A command on a quick connection that gets no answer within this long fails (Redis stalled). */
const QUICK_COMMAND_TIMEOUT_MS = 2_000;

/** Wait before reconnection attempt `times`: growing, at most MAX_RECONNECT_DELAY_MS, never giving up. */
const reconnectDelay = (times: number): number => Math.min(times * 100, MAX_RECONNECT_DELAY_MS);

export type RedisRole = 'queue' | 'quick';

export interface RedisConnectionOptions {
  /** REDIS_URL: redis:// or rediss://, with user and password if the server wants them. */
  url: string;
  /** "queue": BullMQ's (waits through outages); "quick": fails at once while Redis is down. */
  role: RedisRole;
  /** Connection problems are logged here (once per outage, not per retry). */
  logger: Logger;
  /** A name shown by CLIENT LIST, so an operator sees which process holds which connection. */
  name?: string;
}

/** The ioredis options of a role (BullMQ takes these too, to open its own connections). */
function redisOptionsFor(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    // Keeps trying for as long as Redis is away; each wait is short, so recovery is quick.
    retryStrategy: reconnectDelay,
    lazyConnect: false,
  };
  if (role === 'queue') {
    // BullMQ requires these: its blocking commands must never be failed by a retry count.
    return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
  }
  return { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: QUICK_COMMAND_TIMEOUT_MS };
}

/**
 * BullMQ's connection settings for `url`: it opens its own connections (a worker needs a blocking
 * one besides), with the queue role's retries.
 */
export function queueConnection(url: string): BullConnectionOptions {
  return { url, maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: reconnectDelay };
}

/** Opens a connection of `role` to `url`; it reconnects by itself and logs each outage once. */
export function openRedis(options: RedisConnectionOptions): Redis {
  const redis = new Redis(options.url, { ...redisOptionsFor(options.role), ...(options.name === undefined ? {} : { connectionName: options.name }) });
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    options.logger.warn({ err: error, role: options.role }, 'Redis is unreachable; retrying');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    options.logger.info({ role: options.role }, 'Redis is reachable again');
  });
  return redis;
}

/** How long a command may wait for Redis to answer its first connection before saying it is away. */
export const REACH_TIMEOUT_MS = 5_000;

/** A Redis URL as shown to people and logs: host and port, never the password. */
export function redisShown(url: string): string {
  return new URL(url).host;
}

/**
 * Resolves once Redis at `url` answers a PING; throws a StoreError a person can act on when it
 * is unreachable (store_unavailable) or refuses the credentials (store_auth). One-shot commands
 * call this first, so they fail in seconds instead of waiting for Redis forever.
 */
export async function reachRedis(url: string, timeoutMs = REACH_TIMEOUT_MS): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {}); // reported by the throw below
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(text)) {
      throw new StoreError('store_auth', `Redis at ${redisShown(url)} refused the user or password in REDIS_URL (${text}).`, { cause: error });
    }
    throw new StoreError('store_unavailable', `Cannot reach Redis at ${redisShown(url)} (REDIS_URL): ${text}. Start Redis, or check REDIS_URL; see docs/fleet.md.`, { cause: error });
  } finally {
    redis.disconnect();
  }
}

/**
 * Resolves once `redis` is connected: a quick connection fails commands sent before that, so a
 * one-shot reader (`findimage index` counting workers) waits for it first. Rejects with a
 * StoreError after `timeoutMs`.
 */
export async function whenConnected(redis: Redis, url: string, timeoutMs = REACH_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', ready);
      reject(new StoreError('store_unavailable', `Cannot reach Redis at ${redisShown(url)} (REDIS_URL) within ${timeoutMs} ms.`));
    }, timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', ready);
  });
}

/**
 * How long a QUIT may wait for the server's answer before the connection is simply dropped: a
 * server that is stopping, or too loaded to answer, must not hold up a shutdown.
 */
const QUIT_WAIT_MS = 2_000;

/** Closes a connection without waiting for an unreachable or unanswering server. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, QUIT_WAIT_MS);
  });
  await Promise.race([redis.quit().catch(() => undefined), gaveUp]);
  clearTimeout(timer);
  // The await above may have ended it; TypeScript still reads the status checked before.
  if ((redis.status as string) !== 'end') redis.disconnect();
}
