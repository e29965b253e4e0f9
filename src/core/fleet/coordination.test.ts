// openCoordination picks the shared state from the configuration: without a fleet, today's files
// under FINDIMAGE_DATA (so existing backfill cursors carry on); with one, Redis, whose connection
// it opens and closes itself.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { openCoordination } from './coordination.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { replayKey } from './redis-replay-guard.js';

describe('openCoordination', () => {
  let dir: string;
  let server: TestRedisServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-coordination-'));
    server = await TestRedisServer.start();
  });
  afterAll(async () => {
    await server.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the single-process state where findimage always kept it when no fleet is configured', async () => {
    const coordination = await openCoordination({ dataDir: dir, logger: createSilentLogger() });
    expect(coordination.kind).toBe('local');
    const slack = coordination.backfills('slack');
    const discord = coordination.backfills('discord');
    const claims = coordination.claims('clip-vit-b32');
    try {
      expect(existsSync(join(dir, 'slack-backfill.sqlite'))).toBe(true);
      expect(existsSync(join(dir, 'discord-backfill.sqlite'))).toBe(true);
      expect(existsSync(join(dir, 'claims', 'clip-vit-b32.sqlite'))).toBe(true);
      expect(await coordination.replays.firstTime('event:Ev1')).toBe(true);
      expect(await coordination.replays.firstTime('event:Ev1')).toBe(false);
    } finally {
      slack.close();
      discord.close();
      claims.close();
      await coordination.close();
    }
  });

  it('shares the state through Redis when a fleet is configured, and closes its connection', async () => {
    const fleet = { redisUrl: server.url, leaseMs: 30_000 };
    const a = await openCoordination({ dataDir: dir, fleet, logger: createSilentLogger() });
    const b = await openCoordination({ dataDir: dir, fleet, logger: createSilentLogger() });
    const inspector = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
    try {
      expect(a.kind).toBe('redis');
      // They connect in the background (a replay check before that answers from memory): wait
      // until the server lists both connections, named so that an operator can tell them apart.
      const named = async () => (String(await inspector.client('LIST').catch(() => '')).match(/name=findimage-coordination /g) ?? []).length;
      await waitUntil(async () => (await named()) === 2, 'both connections');
      // Each probe a new id, so a check answered from memory does not stand in the way of the next.
      let probes = 0;
      const reachesRedis = async (replica: typeof a) => {
        const key = `event:probe-${probes++}`;
        return (await replica.replays.firstTime(key)) && (await inspector.exists(replayKey(key))) === 1;
      };
      await waitUntil(() => reachesRedis(a), 'A to reach Redis');
      await waitUntil(() => reachesRedis(b), 'B to reach Redis');
      expect(await a.replays.firstTime('event:Ev2')).toBe(true);
      expect(await b.replays.firstTime('event:Ev2')).toBe(false);

      await a.close();
      await b.close();
      // Both connections are gone from the server.
      await waitUntil(async () => (await named()) === 0, 'the connections to close');
    } finally {
      await closeRedis(inspector);
    }
  });
});
