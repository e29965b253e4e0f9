// Who may see what in a Discord conversation: the tenant (the guild; a DM is its own tenant, so
// nothing crosses guilds or DMs), whether @everyone can read a channel (from its permission
// overwrites, computed by discord.js's own permission helpers), and the facts core's
// scopeForConversation turns into the search scope shown there (the same rule as Slack's).
import { ChannelType, PermissionFlagsBits, type Channel, type GuildBasedChannel } from 'discord.js';
import { scopeForConversation, type ConversationVisibility } from '../../core/conversations/conversation-scope.js';
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
 * What Discord tells of a guild channel for core's scope rule, or undefined when it is unknown:
 * discord.js has not cached it (or only partly), or it is a thread whose parent is not cached.
 * Discord has no channels shared outside a guild, so a known channel is never "shared".
 */
export function visibilityOf(channel: Channel | null | undefined): ConversationVisibility | undefined {
  if (channel === null || channel === undefined || channel.partial || !('guild' in channel)) return undefined;
  if (!channel.isThread()) return { isShared: false };
  const parent = channel.parent;
  return parent === null ? undefined : { isShared: false, parent: parent.id };
}

/**
 * The place of a channel. `channel` is discord.js's cached channel (null when unknown). Its scope
 * comes from core's scopeForConversation; with no facts it is the channel alone and its shares
 * count as private: when in doubt, show less.
 */
export function placeOf(guildId: string | null, channelId: string, channel: Channel | null | undefined): DiscordPlace {
  if (guildId === null) {
    // A DM is a tenant of its own: its members are the whole tenant, and nothing in it is public.
    const tenant = dmTenant(channelId);
    return { tenant, conversation: channelId, isPublic: false, scope: scopeForConversation(tenant, channelId, { isShared: false }) };
  }
  const facts = visibilityOf(channel);
  const scope = scopeForConversation(guildId, channelId, facts);
  if (facts === undefined || channel === null || channel === undefined || !('guild' in channel)) {
    return { tenant: guildId, conversation: channelId, isPublic: false, scope };
  }
  // Threads follow their parent; a private thread is private whatever its parent is.
  const parent = channel.isThread() ? channel.parent : undefined;
  const isPublic =
    parent === undefined ? everyoneCanRead(channel) : channel.type !== ChannelType.PrivateThread && parent !== null && everyoneCanRead(parent);
  return { tenant: guildId, conversation: channelId, isPublic, scope };
}
