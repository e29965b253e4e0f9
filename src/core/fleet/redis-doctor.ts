// The doctor's look at the fleet's Redis (REDIS_URL): it answers PING, its version is one BullMQ
// runs on, it never evicts keys (maxmemory-policy noeviction: an evicted job or lease is work
// lost without a word) and it keeps an append-only file (appendonly yes: a restart keeps the
// queue). Read through INFO, which managed Redis services allow where they rename CONFIG.
import { Redis } from 'ioredis';
import { fail, ok, warn, type Check, type CheckResult } from '../doctor/check.js';
import { redisShown } from './redis-connection.js';

/** BullMQ refuses older servers (its own minimum). */
const MIN_REDIS_VERSION = [5, 0, 0] as const;
/** BullMQ is written for this and newer, and warns below it (docs/fleet.md, "Which Redis"). */
const RECOMMENDED_REDIS_VERSION = [6, 2, 0] as const;

/** The one eviction policy under which Redis never drops a queued job or a lease. */
const SAFE_EVICTION_POLICY = 'noeviction';

/** `key:value` lines of an INFO reply, as a map. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/** Whether version `a.b.c` is below `minimum`. */
function isOlder(version: string, minimum: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < minimum.length; i++) {
    const part = parts[i] ?? 0;
    const min = minimum[i] ?? 0;
    if (part !== min) return part < min;
  }
  return false;
}

/** The check of the Redis at `url`. */
export function redisCheck(options: { url: string }): Check {
  return { name: 'redis', run: (signal) => checkRedis(options.url, signal) };
}

async function checkRedis(url: string, signal: AbortSignal): Promise<CheckResult> {
  const where = `Redis at ${redisShown(url)}`;
  // One try, no reconnection: the doctor reports what it finds instead of waiting it out.
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectionName: 'findimage doctor' });
  // ioredis rejects connect() with "Connection is closed."; the reason (ECONNREFUSED, a TLS
  // failure, ...) came as an error event first.
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  const stop = () => redis.disconnect();
  signal.addEventListener('abort', stop, { once: true });
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      const text = lastError?.message ?? (error instanceof Error ? error.message : String(error));
      if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(text)) {
        return fail(`${where} refused the user or password in REDIS_URL (${text})`, 'Put the right user and password in REDIS_URL (redis://user:password@host:6379).');
      }
      return fail(`cannot reach ${where}: ${text}`, 'Start Redis, or correct REDIS_URL (docs/fleet.md).');
    }
    const info = infoFields(`${await redis.info('server')}\n${await redis.info('memory')}\n${await redis.info('persistence')}`);
    const version = info.get('redis_version') ?? 'unknown';
    const policy = info.get('maxmemory_policy') ?? 'unknown';
    const appendOnly = info.get('aof_enabled') === '1';
    const facts = `${where}: version ${version}, maxmemory-policy ${policy}, appendonly ${appendOnly ? 'yes' : 'no'}`;
    if (version !== 'unknown' && isOlder(version, MIN_REDIS_VERSION)) {
      return fail(facts, `Upgrade Redis to ${MIN_REDIS_VERSION.join('.')} or newer: the fleet's queue (BullMQ) does not run on older servers.`);
    }
    if (policy !== SAFE_EVICTION_POLICY) {
      return fail(
        facts,
        `Set maxmemory-policy ${SAFE_EVICTION_POLICY} (redis.conf, or CONFIG SET maxmemory-policy ${SAFE_EVICTION_POLICY}): under ${policy} Redis may evict queued jobs and leases, and images are silently never indexed.`,
      );
    }
    if (version !== 'unknown' && isOlder(version, RECOMMENDED_REDIS_VERSION)) {
      return warn(facts, `Upgrade Redis to ${RECOMMENDED_REDIS_VERSION.join('.')} or newer (7.x is tested): the fleet's queue (BullMQ) is written for it.`);
    }
    if (!appendOnly) {
      return warn(facts, 'Turn on appendonly yes (redis.conf, or CONFIG SET appendonly yes): without it a Redis restart loses the queued jobs since the last snapshot.');
    }
    return ok(facts);
  } finally {
    signal.removeEventListener('abort', stop);
    redis.disconnect();
  }
}
