// RedisBackfillProgressStore against a real redis-server: a walk saved on one replica resumes on
// another, two replicas never walk one channel at once, and a dead walker's lease runs out.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { BackfillState } from '../conversations/backfill-progress.js';
import { FindimageError, publicMessageOf } from '../errors.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { RedisBackfillProgressStore, backfillLeaseKey, backfillStateKey } from './redis-backfill-progress.js';

const logger = createSilentLogger();
/** Short, so that a dead walker's lease runs out within the test. */
const LEASE_MS = 300;

describe('RedisBackfillProgressStore', () => {
  let server: TestRedisServer;
  let inspector: Redis;
  const connections: Redis[] = [];
  const stores: RedisBackfillProgressStore[] = [];

  /** One replica's store on its own connection. */
  const replica = async (platform = 'slack'): Promise<RedisBackfillProgressStore> => {
    const redis = openRedis({ url: server.url, role: 'quick', logger });
    connections.push(redis);
    await waitUntil(() => redis.status === 'ready', 'a replica to connect');
    const store = new RedisBackfillProgressStore({ redis, platform, leaseMs: LEASE_MS, logger });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await TestRedisServer.start();
    inspector = openRedis({ url: server.url, role: 'quick', logger });
    connections.push(inspector);
    await waitUntil(() => inspector.status === 'ready', 'the test’s connection');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) store.close();
    await inspector.flushall();
  });
  afterAll(async () => {
    for (const redis of connections) await closeRedis(redis);
    await server.remove();
  });

  const state: BackfillState = { tenant: 'T1', channel: 'C1', status: 'running', cursor: 'page-3', newestTs: '1770000002.000100', messagesSeen: 400, filesQueued: 12 };

  it('resumes on one replica the walk another saved, and keeps it without expiry', async () => {
    const a = await replica();
    const b = await replica();
    expect(await b.get('T1', 'C1')).toBeUndefined();
    await a.save(state);
    expect(await b.get('T1', 'C1')).toEqual(state);
    // The finished walk's newest message decides where the next one starts: it must not expire.
    expect(await inspector.ttl(backfillStateKey('slack', 'T1', 'C1'))).toBe(-1);
  });

  it('keeps two platforms’ channels apart', async () => {
    const slack = await replica('slack');
    const discord = await replica('discord');
    await slack.save(state);
    expect(await discord.get('T1', 'C1')).toBeUndefined();
  });

  it('lets one replica walk a channel at a time; the other is told it is walked elsewhere', async () => {
    const a = await replica();
    const b = await replica();
    const lease = await a.lease('T1', 'C1');
    expect(lease).toBeDefined();
    expect(await b.lease('T1', 'C1')).toBeUndefined();
    expect(await b.walkedElsewhere('T1', 'C1')).toBe(true);
    expect(await a.walkedElsewhere('T1', 'C1')).toBe(false);
    // Another channel is free.
    expect(await b.lease('T1', 'C2')).toBeDefined();

    await lease!.release();
    expect(await b.walkedElsewhere('T1', 'C1')).toBe(false);
    expect(await b.lease('T1', 'C1')).toBeDefined();
  });

  it('frees the channel once the lease of a walker that died runs out', async () => {
    const a = await replica();
    const b = await replica();
    expect(await a.lease('T1', 'C1')).toBeDefined();
    // What a killed process leaves: no release, no more renewals.
    a.close();
    expect(await b.lease('T1', 'C1')).toBeUndefined();
    const lease = await waitUntil(() => b.lease('T1', 'C1'), 'the dead walker’s lease to run out');
    expect(await inspector.get(backfillLeaseKey('slack', 'T1', 'C1'))).not.toBeNull();
    await lease.release();
  });

  it('fails with a transient error and a message fit for chat while Redis is down', async () => {
    const a = await replica();
    await server.kill();
    try {
      const error = await a.get('T1', 'C1').catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(FindimageError);
      expect((error as FindimageError).code).toBe('store_unavailable');
      expect(publicMessageOf(error as FindimageError)).toBe('Indexing past messages is unavailable right now; please try again in a minute.');
      await expect(a.save(state)).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(a.lease('T1', 'C1')).rejects.toMatchObject({ code: 'store_unavailable' });
    } finally {
      await server.restart();
      await waitUntil(() => connections.every((redis) => redis.status === 'ready'), 'the connections to come back');
    }
  });
});
