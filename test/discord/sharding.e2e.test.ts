// Discord sharding end to end, the real discord.js Client against the fake gateway: each shard
// of DISCORD_SHARDS identifies as [id, DISCORD_SHARD_COUNT], "auto" runs the count GET
// /gateway/bot recommends, and two replicas running shards 0 and 1 of 2 each serve only their
// own guilds: a guild's events reach exactly the replica running shard (guild_id >> 22) % count.
import { afterEach, describe, expect, it } from 'vitest';
import { shardOfGuild } from '../../src/bots/discord/discord-shards.js';
import { CHANNEL_TYPE, FakeDiscord } from '../fakes/discord/fake-discord.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, OTHER_GUILD, USER } from './discord-harness.js';

/** A guild whose id puts it on shard 1 of 2 (GUILD and OTHER_GUILD are on shard 0). */
const SHARD_ONE_GUILD = '100000000004194305';
const SHARD_ONE_CHANNEL = '200000000000000020';

const running: DiscordHarness[] = [];
let fake: FakeDiscord | undefined;

afterEach(async () => {
  for (const h of running.splice(0).reverse()) await h.stop();
  await fake?.close();
  fake = undefined;
});

/** A fake Discord with a guild on shard 1, that lets several shards identify at once. */
async function shardedFake(): Promise<FakeDiscord> {
  fake = await FakeDiscord.start();
  // Discord's large bots get 16 identify buckets; with 1, discord.js waits 5 s between shards.
  fake.gatewayBot.maxConcurrency = 16;
  fake.guilds.set(SHARD_ONE_GUILD, { id: SHARD_ONE_GUILD, name: 'Shard one guild', channels: [{ id: SHARD_ONE_CHANNEL, type: CHANNEL_TYPE.text, name: 'general' }] });
  return fake;
}

async function replica(options: Parameters<typeof DiscordHarness.start>[0]): Promise<DiscordHarness> {
  const h = await DiscordHarness.start(options);
  running.push(h);
  return h;
}

/** The `shard` field of every IDENTIFY the fake received, sorted by shard id. */
function identifiedShards(discord: FakeDiscord): unknown[] {
  return discord.gateway.handshakes
    .filter((h) => h.op === 'identify')
    .map((h) => h.d.shard)
    .sort((a, b) => (a as number[])[0]! - (b as number[])[0]!);
}

it('puts the test guilds where the tests expect them', () => {
  expect([GUILD, OTHER_GUILD, SHARD_ONE_GUILD].map((g) => shardOfGuild(g, 2))).toEqual([0, 0, 1]);
});

describe('one replica', () => {
  it('runs one shard, [0, 1], when DISCORD_SHARDS is unset', async () => {
    const h = await replica({});
    expect(identifiedShards(h.fake)).toEqual([[0, 1]]);
  });

  it('identifies each listed shard as [id, DISCORD_SHARD_COUNT] and logs the shards it runs', async () => {
    const h = await replica({ fake: await shardedFake(), discord: { shards: [0, 1], shardCount: 2 } });
    expect(identifiedShards(h.fake)).toEqual([[0, 2], [1, 2]]);
    expect(h.fake.gateway.liveShards).toEqual([0, 1]);
    expect(h.logged('Discord bot connected to the gateway')[0]).toMatchObject({ shards: [0, 1], shardCount: 2 });
  });

  it('with DISCORD_SHARDS=auto, asks GET /gateway/bot for the count and runs every shard', async () => {
    const discord = await shardedFake();
    discord.gatewayBot.shards = 3;
    const h = await replica({ fake: discord, discord: { shards: 'auto' } });
    expect(h.fake.requestsTo('GET', /\/gateway\/bot$/).length).toBeGreaterThanOrEqual(1);
    expect(identifiedShards(h.fake)).toEqual([[0, 3], [1, 3], [2, 3]]);
    expect(h.logged('Discord bot connected to the gateway')[0]).toMatchObject({ shards: [0, 1, 2], shardCount: 3 });
  });
});

describe('two replicas, shards 0 and 1 of 2', () => {
  it('each identifies its own shard, and each guild is served by exactly one of them', async () => {
    const discord = await shardedFake();
    const zero = await replica({ fake: discord, discord: { shards: [0], shardCount: 2 } });
    const one = await replica({ fake: discord, discord: { shards: [1], shardCount: 2 } });
    expect(identifiedShards(discord)).toEqual([[0, 2], [1, 2]]);
    expect(discord.gateway.liveShards).toEqual([0, 1]);

    // Discord (here the fake) routes each guild's events to one shard; what the replicas must
    // do is run disjoint shards, so that each guild's uploads are indexed by its replica alone.
    discord.postMessage(SHARD_ONE_CHANNEL, { author: USER, attachments: [await one.attachment('red', SHARD_ONE_CHANNEL)] });
    discord.postMessage(CHANNELS.general, { author: USER, attachments: [await zero.attachment('blue', CHANNELS.general)] });
    await eventually(async () => (await one.store.count({ tenant: SHARD_ONE_GUILD })) === 1, 'replica 1 to index its guild\'s upload');
    await eventually(async () => (await zero.store.count({ tenant: GUILD })) === 1, 'replica 0 to index its guild\'s upload');
    await zero.queueIdle();
    await one.queueIdle();
    expect(await zero.store.count({ tenant: SHARD_ONE_GUILD })).toBe(0);
    expect(await one.store.count({ tenant: GUILD })).toBe(0);
  });
});
