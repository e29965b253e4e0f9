// DISCORD_SHARDS and DISCORD_SHARD_COUNT as discord.js Client options, and the guild-to-shard
// rule Discord routes events by.
import { describe, expect, it } from 'vitest';
import { discordShardOptions, shardOfGuild } from './discord-shards.js';

describe('discordShardOptions', () => {
  it("leaves discord.js's single shard when DISCORD_SHARDS is unset", () => {
    expect(discordShardOptions({})).toEqual({});
  });

  it("passes auto on, without a count: discord.js asks Discord's GET /gateway/bot", () => {
    expect(discordShardOptions({ shards: 'auto' })).toEqual({ shards: 'auto' });
  });

  it('passes the listed shard ids and the whole bot\'s shard count', () => {
    expect(discordShardOptions({ shards: [2, 3], shardCount: 4 })).toEqual({ shards: [2, 3], shardCount: 4 });
  });
});

describe('shardOfGuild', () => {
  it("is (guild_id >> 22) % count, computed exactly on 64-bit snowflakes", () => {
    // 2^22 apart: consecutive creation milliseconds, so consecutive shards.
    expect(shardOfGuild('100000000000000001', 2)).toBe(0);
    expect(shardOfGuild('100000000004194305', 2)).toBe(1);
    expect(shardOfGuild('1234567890123456789', 1)).toBe(0);
    // A snowflake past 2^53, where Number arithmetic would round: BigInt gives Discord's answer.
    expect(shardOfGuild('1234567890123456789', 16)).toBe(7);
  });
});
