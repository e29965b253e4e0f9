// A Discord replica of a fleet on a real redis-server: a channel another replica is walking is
// not walked again here, and its saved cursor is picked up once that replica stops.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { redisCoordination } from '../../src/core/fleet/redis-coordination.js';
import { closeRedis, openRedis } from '../../src/core/fleet/redis-connection.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, USER } from './discord-harness.js';

/** Leases outlive a dead holder by this much; long here, as nothing in this test dies. */
const LEASE_MS = 30_000;

let server: TestRedisServer;
const connections: Redis[] = [];
const connect = async (): Promise<Redis> => {
  const redis = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
  connections.push(redis);
  await eventually(() => redis.status === 'ready', 'Redis to accept the connection');
  return redis;
};

beforeAll(async () => {
  server = await TestRedisServer.start();
});
afterAll(async () => {
  for (const redis of connections) await closeRedis(redis);
  await server.remove();
});

test('a channel another replica is walking is refused politely without reading its history, and walked once free', async () => {
  const h = await DiscordHarness.start({ coordination: redisCoordination({ redis: await connect(), leaseMs: LEASE_MS, logger: createSilentLogger() }), backfillPageSize: 2 });
  try {
    for (const colour of ['red', 'green', 'blue'] as const) h.fake.userMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment(colour, CHANNELS.general)] });
    const elsewhere = redisCoordination({ redis: await connect(), leaseMs: LEASE_MS, logger: createSilentLogger() }).backfills('discord');
    const lease = await elsewhere.lease(GUILD, CHANNELS.general);
    expect(lease).toBeDefined();

    await expect(h.bot.backfill(CHANNELS.general)).rejects.toThrow("I'm already indexing that channel on another findimage replica; try again when that is done.");
    expect(h.fake.requestsTo('GET', new RegExp(`^/channels/${CHANNELS.general}/messages$`))).toEqual([]);

    await lease!.release();
    elsewhere.close();
    const report = await h.bot.backfill(CHANNELS.general);
    expect(report).toMatchObject({ resumed: false, indexed: 3, rejected: [] });
  } finally {
    await h.stop();
  }
});
