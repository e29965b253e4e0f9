// RedisReplayGuard against a real redis-server: two replicas act on a request once between them,
// and while Redis is down each replica still answers (from its own memory) instead of waiting.
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { useTestRedis } from '../testing/test-redis.js';
import { captureLog } from '../testing/wait-until.js';
import { REPLAY_WINDOW_SECONDS, RedisReplayGuard, replayKey } from './redis-replay-guard.js';

describe('RedisReplayGuard', () => {
  const testRedis = useTestRedis();
  /** One replica's connection, connected. */
  const replicaConnection = (): Promise<Redis> => testRedis.connect();
  let inspector: Redis;

  beforeAll(async () => {
    inspector = await replicaConnection();
  });

  it('acts on a Slack event_id once when it is delivered to two replicas', async () => {
    const replicaA = new RedisReplayGuard({ redis: await replicaConnection(), logger: createSilentLogger() });
    const replicaB = new RedisReplayGuard({ redis: await replicaConnection(), logger: createSilentLogger() });
    // Both copies at once, as two replicas behind a load balancer receive them.
    const answers = await Promise.all([replicaA.firstTime('event:Ev0123'), replicaB.firstTime('event:Ev0123')]);
    expect(answers.sort()).toEqual([false, true]);
    // And a later retry on either is a replay too, while another event is new.
    expect(await replicaA.firstTime('event:Ev0123')).toBe(false);
    expect(await replicaB.firstTime('event:Ev0123')).toBe(false);
    expect(await replicaB.firstTime('event:Ev0456')).toBe(true);
  });

  it('forgets a request id after the replay window, so Redis does not fill up', async () => {
    const guard = new RedisReplayGuard({ redis: await replicaConnection(), logger: createSilentLogger() });
    await guard.firstTime('interaction:42');
    const ttl = await inspector.ttl(replayKey('interaction:42'));
    expect(ttl).toBeGreaterThan(REPLAY_WINDOW_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(REPLAY_WINDOW_SECONDS);
  });

  it('answers from its own memory while Redis is killed, and is shared again once Redis is back', async () => {
    const log = captureLog('info');
    const replicaA = new RedisReplayGuard({ redis: await replicaConnection(), logger: log.logger });
    const redisB = await replicaConnection();
    const replicaB = new RedisReplayGuard({ redis: redisB, logger: createSilentLogger() });
    // Seen before the outage: this replica still knows it during the outage.
    expect(await replicaA.firstTime('event:before')).toBe(true);

    await testRedis.server.kill();
    // A search keeps working: the guard answers at once, from this replica's memory.
    expect(await replicaA.firstTime('event:during')).toBe(true);
    expect(await replicaA.firstTime('event:during')).toBe(false);
    expect(await replicaA.firstTime('event:before')).toBe(false);
    expect(await replicaA.firstTime('event:during-2')).toBe(true);
    // Said once per outage, not once per request.
    expect(log.withMsg('Redis is unreachable: replays are checked on this replica only until it is back')).toHaveLength(1);

    await testRedis.server.restart();
    await testRedis.reconnected();
    expect(await replicaA.firstTime('event:after')).toBe(true);
    expect(await replicaB.firstTime('event:after')).toBe(false);
    // What was written before the kill survived it (append-only file): still a replay on B.
    expect(await replicaB.firstTime('event:before')).toBe(false);
    expect(log.withMsg('Redis is reachable again: replays are checked across the fleet')).toHaveLength(1);
  });
});
