// Discord events that change who may read a channel, turned into core calls: a channel whose
// permission overwrites changed (CHANNEL_UPDATE) and a role whose guild-wide permissions changed
// (GUILD_ROLE_UPDATE) make the affected channels' images public or private, as @everyone can now
// read them or not. discord.js has already patched its cache when the events fire, so placeOf()
// reads the new facts; findimage keeps no Discord facts of its own to drop.
import { Events, type Client, type GuildBasedChannel } from 'discord.js';
import type { Logger } from 'pino';
import type { ConversationPrivacy } from '../../core/conversations/conversation-privacy.js';
import { placeOf } from './channel-visibility.js';

export interface VisibilityEventsOptions {
  /** The core's privacy service. */
  privacy: Pick<ConversationPrivacy, 'visibilityChanged'>;
  logger: Logger;
}

/** Registers the listeners on `client`. */
export function listenForVisibilityChanges(client: Client, options: VisibilityEventsOptions): void {
  const { privacy, logger } = options;

  /** Gives `channels` of `guildId` the flag they now have; one failure does not stop the rest. */
  const apply = async (guildId: string, channels: readonly GuildBasedChannel[], why: string): Promise<void> => {
    for (const channel of channels) {
      const { isPublic } = placeOf(guildId, channel.id, channel);
      try {
        await privacy.visibilityChanged(guildId, channel.id, isPublic);
      } catch (error) {
        logger.error({ err: error, guild: guildId, channel: channel.id, isPublic, why, code: 'privacy_change_failed' }, 'could not make a channel\'s images follow its new permissions');
      }
    }
  };

  client.on(Events.ChannelUpdate, (before, after) => {
    if (after.isDMBased() || before.isDMBased()) return;
    const guildId = after.guildId;
    // Only a change of who can read it matters; names, topics and positions change far more often.
    if (placeOf(guildId, before.id, before).isPublic === placeOf(guildId, after.id, after).isPublic) return;
    // Threads follow their parent, so the parent's active threads change with it.
    const threads = [...after.guild.channels.cache.values()].filter((c) => c.isThread() && c.parentId === after.id);
    void apply(guildId, [after, ...threads], 'permission overwrites changed');
  });

  client.on(Events.GuildRoleUpdate, (before, after) => {
    if (before.permissions.bitfield === after.permissions.bitfield) return;
    const guild = after.guild;
    // Which channels @everyone could read before is not kept, so every channel that can hold
    // images is given its current flag; those already right cost one store call and change nothing.
    const channels = [...guild.channels.cache.values()].filter((c) => c.isTextBased());
    logger.info({ guild: guild.id, role: after.id, channels: channels.length }, 'a role\'s permissions changed; re-evaluating which channels are public');
    void apply(guild.id, channels, 'role permissions changed');
  });
}
