// Which gateway shards this replica runs (DISCORD_SHARDS, DISCORD_SHARD_COUNT), as discord.js's
// own Client options. Discord sends a guild's events to exactly one shard,
// (guild_id >> 22) % shard count, so running each shard on exactly one replica serves every
// guild exactly once.
import type { ClientOptions } from 'discord.js';
import type { Config } from '../../config.js';

/**
 * The Client's `shards` and `shardCount` for config.discord: nothing when unset (one shard,
 * discord.js's default); 'auto' to run every shard Discord recommends (GET /gateway/bot); or
 * the listed shard ids out of the whole bot's shard count.
 */
export function discordShardOptions(config: Pick<NonNullable<Config['discord']>, 'shards' | 'shardCount'>): Pick<ClientOptions, 'shards' | 'shardCount'> {
  if (config.shards === undefined) return {};
  if (config.shards === 'auto') return { shards: 'auto' };
  return { shards: [...config.shards], ...(config.shardCount === undefined ? {} : { shardCount: config.shardCount }) };
}

/** The shard that receives a guild's events: (guild_id >> 22) % shardCount, as Discord routes them. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}
