// Discord events that change who may read a channel, turned into core calls: a channel whose
// permission overwrites changed (CHANNEL_UPDATE) and a change of @everyone's guild-wide
// permissions (GUILD_ROLE_UPDATE) make the affected channels' images public or private, as
// @everyone can now read them or not. Public threads follow their parent: the active ones from
// discord.js's cache, the archived ones (which Discord never sends unasked) fetched page by page.
// discord.js has already patched its cache when the events fire, so placeOf() reads the new
// facts; findimage keeps no Discord facts of its own to drop.
import { Events, type AnyThreadChannel, type Client, type GuildBasedChannel } from 'discord.js';
import type { Logger } from 'pino';
import type { ConversationPrivacy } from '../../core/conversations/conversation-privacy.js';
import { placeOf } from './channel-visibility.js';

/** Archived threads asked for per request: the most Discord's archived-threads endpoint gives. */
export const ARCHIVED_THREADS_PAGE_SIZE = 100;

export interface VisibilityEventsOptions {
  /** The core's privacy service. */
  privacy: Pick<ConversationPrivacy, 'visibilityChanged'>;
  /** Where failures to follow a change, and role re-evaluations, are logged. */
  logger: Logger;
}

/**
 * The archived public threads of `channel` (a text, announcement, forum or media channel), every
 * page of them, newest archived first. They are not added to discord.js's cache: a guild may
 * have thousands. Only asked for when a privacy change happens, which is rare.
 */
export async function archivedPublicThreads(channel: GuildBasedChannel): Promise<AnyThreadChannel[]> {
  if (channel.isThread() || !('threads' in channel)) return [];
  const threads: AnyThreadChannel[] = [];
  let before: Date | undefined;
  for (;;) {
    const page = await channel.threads.fetchArchived(
      { type: 'public', limit: ARCHIVED_THREADS_PAGE_SIZE, ...(before === undefined ? {} : { before }) },
      false,
    );
    const fetched = [...page.threads.values()];
    threads.push(...fetched);
    // Discord pages archived public threads by archive time: the next page is those archived before the last one.
    const last = fetched.at(-1)?.archivedAt ?? null;
    if (page.hasMore !== true || last === null) return threads;
    before = last;
  }
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

  /**
   * The archived public threads of `parents`, for apply() after the cached channels. A parent
   * whose archive cannot be read (the bot lacks Read Message History there) is logged and
   * skipped: its threads keep their flag until the next change, the rest still follow.
   */
  const archivedOf = async (guildId: string, parents: readonly GuildBasedChannel[], cached: ReadonlySet<string>): Promise<GuildBasedChannel[]> => {
    const found: GuildBasedChannel[] = [];
    for (const parent of parents) {
      try {
        for (const thread of await archivedPublicThreads(parent)) if (!cached.has(thread.id)) found.push(thread);
      } catch (error) {
        logger.warn({ err: error, guild: guildId, channel: parent.id, code: 'archived_threads_unreadable' }, 'could not list a channel\'s archived threads; they keep their flag until the next change');
      }
    }
    return found;
  };

  client.on(Events.ChannelUpdate, (before, after) => {
    if (after.isDMBased() || before.isDMBased()) return;
    const guildId = after.guildId;
    // Only a change of who can read it matters; names, topics and positions change far more often.
    if (placeOf(guildId, before.id, before).isPublic === placeOf(guildId, after.id, after).isPublic) return;
    // Threads follow their parent: the active ones are cached, the archived ones are asked for.
    const active = [...after.guild.channels.cache.values()].filter((c) => c.isThread() && c.parentId === after.id);
    void (async () => {
      await apply(guildId, [after, ...active], 'permission overwrites changed');
      const cached = new Set(active.map((c) => c.id));
      await apply(guildId, await archivedOf(guildId, [after], cached), 'permission overwrites of the parent changed');
    })();
  });

  client.on(Events.GuildRoleUpdate, (before, after) => {
    // Whether @everyone can read a channel depends on @everyone's role alone (and the channel's
    // overwrites): another role's permissions change nothing findimage records.
    if (after.id !== after.guild.id) return;
    if (before.permissions.bitfield === after.permissions.bitfield) return;
    const guild = after.guild;
    // Which channels @everyone could read before is not kept, so every channel that can hold
    // images is given its current flag; those already right cost one store call and change nothing.
    const channels = [...guild.channels.cache.values()].filter((c) => c.isTextBased());
    logger.info({ guild: guild.id, role: after.id, channels: channels.length }, 'a role\'s permissions changed; re-evaluating which channels are public');
    void (async () => {
      await apply(guild.id, channels, 'role permissions changed');
      const parents = [...guild.channels.cache.values()].filter((c) => !c.isThread() && 'threads' in c);
      const archived = await archivedOf(guild.id, parents, new Set(channels.map((c) => c.id)));
      await apply(guild.id, archived, 'role permissions changed');
      logger.info({ guild: guild.id, role: after.id, channels: channels.length, archivedThreads: archived.length }, 'every channel re-evaluated after a role change');
    })();
  });
}
