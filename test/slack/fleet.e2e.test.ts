// Slack replicas of a fleet sharing one real redis-server: a retried event delivered to two
// replicas acts once, and a channel walked by one replica is not walked by another.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSlackBackfillCommand } from '../../src/bots/slack/backfill-command.js';
import { redisCoordination } from '../../src/core/fleet/redis-coordination.js';
import { RedisBackfillProgressStore } from '../../src/core/fleet/redis-backfill-progress.js';
import { closeRedis, openRedis } from '../../src/core/fleet/redis-connection.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { BOT_TOKEN, CHANNELS, SlackHarness, TEAM } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
const RANDOM = CHANNELS.random.id;
const REPLAY_LOGGED = 'ignored a replayed Slack request';
/** Leases outlive a dead holder by this much; long here, as nothing in these tests dies. */
const LEASE_MS = 30_000;

describe('Slack replicas sharing Redis', () => {
  let server: TestRedisServer;
  const connections: Redis[] = [];
  const harnesses: SlackHarness[] = [];

  const connect = async (): Promise<Redis> => {
    const redis = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
    connections.push(redis);
    await eventually(() => redis.status === 'ready', 'Redis to accept the connection');
    return redis;
  };
  /** A replica: its own bot, queue and Slack connection, the fleet's Redis. */
  const replica = async (): Promise<SlackHarness> => {
    const coordination = redisCoordination({ redis: await connect(), leaseMs: LEASE_MS, logger: createSilentLogger() });
    const h = await SlackHarness.start({ coordination, backfillPageSize: 2 });
    harnesses.push(h);
    return h;
  };

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.stop();
    for (const redis of connections.splice(0)) await closeRedis(redis);
    const redis = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
    await eventually(() => redis.status === 'ready', 'Redis');
    await redis.flushall();
    await closeRedis(redis);
  });
  afterAll(async () => {
    await server.remove();
  });

  it('indexes an upload once when Slack delivers its event to two replicas', async () => {
    const a = await replica();
    const b = await replica();
    const event = (file: unknown) => ({ type: 'message', subtype: 'file_share', channel: GENERAL, user: 'U1', ts: '1770000500.000100', files: [file] });
    await a.eventWithId(event(await a.servePng('cyan')), 'EvFleet');
    await b.eventWithId(event(await b.servePng('cyan')), 'EvFleet');
    await eventually(() => a.logged(REPLAY_LOGGED).length + b.logged(REPLAY_LOGGED).length === 1, 'one replica to ignore the copy');
    await eventually(() => a.api.callsTo('reactions.add').length + b.api.callsTo('reactions.add').length === 1, 'the upload to be indexed');
    await a.queueIdle();
    await b.queueIdle();
    // The second replica ignored its copy: it downloaded nothing and indexed nothing.
    expect(a.logged(REPLAY_LOGGED)).toHaveLength(0);
    expect(b.logged(REPLAY_LOGGED)).toHaveLength(1);
    expect(await a.store.count()).toBe(1);
    expect(await b.store.count()).toBe(0);
  });

  it('says a channel is being indexed on another replica instead of walking it, and resumes that walk once it is free', async () => {
    const h = await replica();
    const files = [await h.servePng('red'), await h.servePng('green'), await h.servePng('blue')];
    h.api.setHistory(RANDOM, [
      { type: 'message', ts: '1770000004.000100', user: 'U4', files: [files[2]] },
      { type: 'message', ts: '1770000003.000100', user: 'U3', files: [files[1]] },
      { type: 'message', ts: '1770000002.000100', user: 'U2', text: 'hello' },
      { type: 'message', ts: '1770000001.000100', user: 'U1', files: [files[0]] },
    ]);
    // Another replica walks #random now: it holds the lease and has saved its first page.
    const elsewhere = new RedisBackfillProgressStore({ redis: await connect(), platform: 'slack', leaseMs: LEASE_MS, logger: createSilentLogger() });
    const lease = await elsewhere.lease(TEAM, RANDOM);
    expect(lease).toBeDefined();
    await elsewhere.save({ tenant: TEAM, channel: RANDOM, status: 'running', cursor: 'c2', newestTs: '1770000004.000100', messagesSeen: 2, filesQueued: 1 });

    await h.command(`index <#${RANDOM}|random>`, GENERAL);
    await eventually(() => h.api.responses.length === 1, 'the answer');
    expect(h.api.responses[0]?.text).toBe(`I'm already indexing <#${RANDOM}>; progress is in its thread.`);
    expect(h.api.callsTo('conversations.history')).toEqual([]);
    expect(h.api.posted()).toEqual([]);

    // The other replica stopped (its walk was interrupted): this one resumes from its cursor.
    await lease!.release();
    elsewhere.close();
    await h.command(`index <#${RANDOM}|random>`, GENERAL);
    const done = await eventually(() => h.api.posted().find((m) => m.threadTs !== undefined && m.text.startsWith(':white_check_mark:')), 'the summary');
    expect(h.api.callsTo('conversations.history').map((c) => c.args.cursor)).toEqual(['c2']);
    expect(done.text).toMatch(/^:white_check_mark: Done \(resumed where the last run stopped\): read 4 messages and queued 2 images\./);
  });

  it('refuses a terminal backfill of a channel another replica walks, without reading its history', async () => {
    const h = await replica();
    const coordination = redisCoordination({ redis: await connect(), leaseMs: LEASE_MS, logger: createSilentLogger() });
    const elsewhere = coordination.backfills('slack');
    const lease = await elsewhere.lease(TEAM, RANDOM);
    const run = runSlackBackfillCommand({
      config: { botToken: BOT_TOKEN, apiUrl: h.api.apiUrl, indexedReaction: '' },
      findimage: { uploads: h.uploads, coordination },
      logger: createSilentLogger(),
      channel: RANDOM,
      retryConfig: { retries: 0 },
    });
    await expect(run).rejects.toThrow(
      'A backfill of that channel is already running on another findimage replica; its progress is in the thread where it was started.',
    );
    expect(h.api.callsTo('conversations.history')).toEqual([]);
    await lease?.release();
    elsewhere.close();
  });
});
