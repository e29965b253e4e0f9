// RedisPostPacer against a real redis-server: two replicas posting to one channel are spaced by
// the interval between them, on Redis's clock; while Redis is down each replica paces alone.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { PacerClock } from '../conversations/post-pacer.js';
import { useTestRedis } from '../testing/test-redis.js';
import { captureLog, waitUntil } from '../testing/wait-until.js';
import { RedisPostPacer, paceKey } from './redis-post-pacer.js';

/**
 * Long enough that the few milliseconds a test takes between two turns are small beside it, so
 * the wait asked for can be checked closely without measuring time.
 */
const INTERVAL_MS = 60_000;

/** A clock whose sleeps return at once and are recorded; its own time stands still. */
function recordingClock(): PacerClock & { waits: number[] } {
  const waits: number[] = [];
  return { waits, now: () => 1_000_000, sleep: async (ms) => void waits.push(ms) };
}

describe('RedisPostPacer', () => {
  const testRedis = useTestRedis();
  /** One replica's connection, connected. */
  const replicaConnection = (): Promise<Redis> => testRedis.connect();

  it('spaces two replicas’ posts to one channel by the interval, and leaves other channels alone', async () => {
    const clockA = recordingClock();
    const clockB = recordingClock();
    const replicaA = new RedisPostPacer({ redis: await replicaConnection(), logger: createSilentLogger(), intervalMs: INTERVAL_MS, clock: clockA });
    const replicaB = new RedisPostPacer({ redis: await replicaConnection(), logger: createSilentLogger(), intervalMs: INTERVAL_MS, clock: clockB });

    await replicaA.turn('C1');
    expect(clockA.waits).toEqual([]);
    // B's post to the same channel waits for the slot after A's, whatever B's own clock says.
    await replicaB.turn('C1');
    expect(clockB.waits).toHaveLength(1);
    expect(clockB.waits[0]).toBeGreaterThan(INTERVAL_MS - 5_000);
    expect(clockB.waits[0]).toBeLessThanOrEqual(INTERVAL_MS);
    // The third post waits one interval more.
    await replicaA.turn('C1');
    expect(clockA.waits[0]).toBeGreaterThan(2 * INTERVAL_MS - 5_000);
    expect(clockA.waits[0]).toBeLessThanOrEqual(2 * INTERVAL_MS);

    await replicaB.turn('C2');
    expect(clockB.waits).toHaveLength(1);
    // The slot expires once it has passed: idle channels leave nothing in Redis.
    const ttl = await (await replicaConnection()).pttl(paceKey('C1'));
    expect(ttl).toBeGreaterThan(2 * INTERVAL_MS);
    expect(ttl).toBeLessThanOrEqual(3 * INTERVAL_MS);
  });

  it('paces on its own while Redis is down, says so once, and shares the pacing again once Redis is back', async () => {
    const log = captureLog('info');
    const clock = recordingClock();
    const redis = await replicaConnection();
    const pacer = new RedisPostPacer({ redis, logger: log.logger, intervalMs: INTERVAL_MS, clock });

    await testRedis.server.kill();
    await pacer.turn('C3');
    await pacer.turn('C3');
    // The local pacer's clock stands still, so the second post waits exactly one interval.
    expect(clock.waits).toEqual([INTERVAL_MS]);
    expect(log.withMsg('Redis is unreachable: posts are paced per replica until it is back')).toHaveLength(1);

    await testRedis.server.restart();
    await waitUntil(() => redis.status === 'ready', 'the replica to reconnect');
    await pacer.turn('C4');
    expect(await redis.exists(paceKey('C4'))).toBe(1);
    expect(log.withMsg('Redis is reachable again: posts are paced across the fleet')).toHaveLength(1);
  });
});
