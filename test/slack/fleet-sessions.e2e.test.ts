// Two Slack replicas of a fleet, each with its own real Bolt app, sharing what a fleet shares:
// Qdrant for the images, the labels and the search sessions (the fake Qdrant), and Redis for the
// rest. A search run on replica A is paged and voted on with buttons that Slack delivers to
// replica B, and B answers as A would have.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, openRedis } from '../../src/core/fleet/redis-connection.js';
import { redisCoordination } from '../../src/core/fleet/redis-coordination.js';
import { openQdrantLabelStore } from '../../src/core/labels/qdrant-label-store.js';
import { openQdrantStore } from '../../src/core/store/qdrant/qdrant-store.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { createSilentLogger } from '../../src/logger.js';
import { cardsOf, controlsOf, labelled, type Element } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { CHANNELS, SlackHarness, TEAM, type Colour } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
/** An ephemeral preview has a ts like any message; buttons on it carry it. */
const PREVIEW = { channel: GENERAL, ts: '1770009999.000100' };

describe('Slack replicas sharing Qdrant and Redis', () => {
  let redisServer: TestRedisServer;
  let qdrant: FakeQdrantServer;
  const connections: Redis[] = [];
  const harnesses: SlackHarness[] = [];

  /** A replica: its own Bolt app, data folder and queue; the fleet's Qdrant and Redis. */
  const replica = async (): Promise<SlackHarness> => {
    const redis = openRedis({ url: redisServer.url, role: 'quick', logger: createSilentLogger() });
    connections.push(redis);
    await eventually(() => redis.status === 'ready', 'Redis to accept the connection');
    const h = await SlackHarness.start({
      coordination: redisCoordination({ redis, leaseMs: 30_000, logger: createSilentLogger() }),
      openStore: () => openQdrantStore({ url: qdrant.url, modelId: 'known-vectors', dimension: 4, onDisk: false, quantization: false, replicas: 1, writeConsistency: 1, logger: createSilentLogger() }),
      openLabels: () => openQdrantLabelStore({ url: qdrant.url, logger: createSilentLogger() }),
    });
    harnesses.push(h);
    return h;
  };

  beforeAll(async () => {
    [redisServer, qdrant] = await Promise.all([TestRedisServer.start(), FakeQdrantServer.start()]);
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.stop();
    for (const redis of connections.splice(0)) await closeRedis(redis);
  });
  afterAll(async () => {
    await Promise.all([qdrant.stop(), redisServer.remove()]);
  });

  it('pages and records a vote on replica B for a search run on replica A', async () => {
    const a = await replica();
    const b = await replica();
    const ids = new Map<Colour, string>();
    for (const colour of ['red', 'orange', 'purple', 'magenta', 'green', 'blue', 'cyan'] as const) {
      ids.set(colour, await a.seed(colour, { channel: GENERAL, channelIsPublic: true, fileId: `F${colour.toUpperCase()}` }));
    }
    await a.command('red');
    const preview = await eventually(() => a.api.responses[0], 'the preview from replica A');
    expect(cardsOf(preview).map((c) => c.title.text)[0]).toBe('#1 red.png');

    // Slack delivers the button presses to the other replica's connection.
    const next = labelled(controlsOf(preview), 'Next');
    await b.press(next.action_id, next.value, PREVIEW);
    const second = await eventually(() => b.api.responses[0], 'the second page from replica B');
    expect(second).toMatchObject({ text: 'Results for “red” (6–7)' });

    const [up] = (cardsOf(preview)[0]?.actions ?? []) as Element[];
    await b.press(up?.action_id ?? '', up?.value, PREVIEW);
    const thanks = await eventually(() => b.api.responses[1], 'the vote confirmation from replica B');
    expect(thanks?.text).toBe('Thanks: your :+1: on #1 red.png is recorded. Press it again to take it back.');
    // One label store: replica A reads the vote B recorded.
    expect((await a.labels.listLabels({ tenant: TEAM })).map((l) => [l.user, l.imageId, l.value, l.queryText])).toEqual([['U1', ids.get('red'), 1, 'red']]);
  });
});
