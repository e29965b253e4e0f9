// Who may see what in a Discord conversation: the tenant (the guild; a DM is its own tenant, so
// nothing crosses guilds or DMs), whether @everyone can read a channel (from its permission
// overwrites, computed by discord.js's own permission helpers), and the search scope shown there.
import { ChannelType, PermissionFlagsBits, type Channel, type GuildBasedChannel } from 'discord.js';
import type { SearchScope } from '../../core/search/search-service.js';

/** Tenant of a direct message: its own, so a DM sees only that DM's images. */
export function dmTenant(channelId: string): string {
  return `dm:${channelId}`;
}

/** Where something happens in Discord, as the core needs it. */
export interface DiscordPlace {
  /** The guild id, or dm:<channel> for a direct message. */
  tenant: string;
  /** The channel or thread id. */
  conversation: string;
  /** Whether every member of the guild can read it (decides what its shares may show elsewhere). */
  isPublic: boolean;
  /** Results shown here: its own images (a thread's parent's too) and the guild's public ones. */
  scope: SearchScope;
}

/**
 * Permissions @everyone needs for a channel to count as public: seeing it is not enough, an
 * image in it is only open to all when its history can be read too.
 */
const PUBLIC_PERMISSIONS = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];

/** Whether @everyone can view and read `channel`, from its overwrites and the @everyone role. */
export function everyoneCanRead(channel: GuildBasedChannel): boolean {
  const everyone = channel.guild.roles.everyone;
  return channel.permissionsFor(everyone)?.has(PUBLIC_PERMISSIONS) ?? false;
}

/**
 * The place of a channel. `channel` is discord.js's cached channel (null when unknown); with no
 * facts the scope is the channel alone and its shares count as private: when in doubt, show less.
 */
export function placeOf(guildId: string | null, channelId: string, channel: Channel | null | undefined): DiscordPlace {
  if (guildId === null) {
    const tenant = dmTenant(channelId);
    return { tenant, conversation: channelId, isPublic: false, scope: { tenant, channels: [channelId], includePublic: false } };
  }
  const known = channel !== null && channel !== undefined && !channel.partial && 'guild' in channel ? channel : undefined;
  if (known === undefined) {
    return { tenant: guildId, conversation: channelId, isPublic: false, scope: { tenant: guildId, channels: [channelId], includePublic: false } };
  }
  if (known.isThread()) {
    // Threads follow their parent; a private thread is private whatever its parent is.
    const parent = known.parent;
    const isPublic = known.type !== ChannelType.PrivateThread && parent !== null && everyoneCanRead(parent);
    const channels = parent === null ? [channelId] : [channelId, parent.id];
    return { tenant: guildId, conversation: channelId, isPublic, scope: { tenant: guildId, channels, includePublic: parent !== null } };
  }
  return { tenant: guildId, conversation: channelId, isPublic: everyoneCanRead(known), scope: { tenant: guildId, channels: [channelId], includePublic: true } };
}
