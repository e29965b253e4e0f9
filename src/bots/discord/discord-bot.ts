// The Discord bot: one discord.js Client on the gateway whose listeners turn Discord events into
// core calls: /findimage and its preview's buttons (pages, votes, send, more like this), the
// "Find similar images" message command, attachments, vote reactions and deletions.
import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Partials,
  RESTJSONErrorCodes,
  type Attachment,
  type Channel,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
  type MessageContextMenuCommandInteraction,
  type MessageReaction,
  type PartialMessage,
  type PartialMessageReaction,
  type PartialUser,
  type User,
} from 'discord.js';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { BackfillProgressStore } from '../../core/conversations/backfill-progress.js';
import type { ReplayMemory } from '../../core/conversations/replay-guard.js';
import type { ShareDeletions } from '../../core/conversations/share-deletions.js';
import { ConfigError } from '../../core/errors.js';
import type { Findimage } from '../../findimage.js';
import type { ChatBot } from '../chat-bot.js';
import { FIND_SIMILAR_COMMAND, SLASH_COMMAND } from './application-commands.js';
import type { DownloadRetryPolicy } from '../download-retry.js';
import { AttachmentDownloader, DEFAULT_MAX_ATTACHMENT_BYTES, type AttachmentRef } from './attachment-download.js';
import { AttachmentIntake } from './attachment-intake.js';
import { DiscordBackfill, type BackfillProgress, type BackfillReport } from './backfill.js';
import { dmTenant, placeOf } from './channel-visibility.js';
import { explainToUser, isDiscordError } from './discord-api-error.js';
import { DiscordSearch, type DiscordContext, type Reply, type ReplyBody } from './discord-search.js';
import { discordShardOptions } from './discord-shards.js';
import { NO_MENTIONS, isOurs, parseCustomId } from './result-components.js';
import { listenForVisibilityChanges } from './visibility-events.js';

/**
 * Gateway intents: guilds and their channels (permissions), messages and their attachments
 * (MessageContent is privileged: it must be switched on in the Developer Portal, or attachments
 * arrive empty), reactions in guilds, and direct messages with their reactions (a sent image
 * in a DM takes votes too).
 */
export const DISCORD_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.GuildMessageReactions,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.DirectMessageReactions,
];

/**
 * Partials: a reaction on a message sent before a restart arrives for an uncached message and
 * channel, and a reaction's removal carries no member, so its user may be uncached too.
 */
export const DISCORD_PARTIALS = [Partials.Message, Partials.Channel, Partials.Reaction, Partials.User];

/** The parts of findimage the bot calls. */
export type DiscordCore = Pick<Findimage, 'sessions' | 'deletions' | 'uploads' | 'privacy' | 'coordination' | 'fleet'>;

export interface DiscordBotOptions {
  /** Token and API settings (config.discord). */
  config: NonNullable<Config['discord']>;
  findimage: DiscordCore;
  logger: Logger;
  /** Messages per history page during a backfill. */
  backfillPageSize?: number;
  /** How attachment downloads that may pass are retried; DEFAULT_DOWNLOAD_RETRY unless given (tests do not wait). */
  downloadRetry?: DownloadRetryPolicy;
}

/** Builds the Discord bot; nothing connects until start(). */
export function createDiscordBot(options: DiscordBotOptions): DiscordBot {
  return new DiscordBot(options);
}

/** `findimage serve`'s factory (a BotFactory): undefined when Discord is not configured. */
export async function discordBotFactory(config: Config, findimage: Findimage, logger: Logger): Promise<ChatBot | undefined> {
  if (config.discord === undefined) return undefined;
  return createDiscordBot({ config: config.discord, findimage, logger });
}

/** What a stale or malformed findimage button is told. */
const STALE_BUTTON = 'That button is from an older version of findimage. Please run the search again.';

export class DiscordBot implements ChatBot {
  readonly platform = 'discord';
  readonly #client: Client;
  readonly #config: NonNullable<Config['discord']>;
  readonly #logger: Logger;
  readonly #intake: AttachmentIntake;
  readonly #deletions: ShareDeletions;
  readonly #search: DiscordSearch;
  readonly #replays: ReplayMemory;
  readonly #progress: BackfillProgressStore;
  readonly #backfill: DiscordBackfill;
  /** Channels being backfilled now (one walk per channel at a time). */
  readonly #indexing = new Set<string>();

  constructor(options: DiscordBotOptions) {
    const { config } = options;
    this.#config = config;
    this.#logger = options.logger.child({ component: 'discord' });
    this.#client = new Client({
      intents: DISCORD_INTENTS,
      partials: DISCORD_PARTIALS,
      // Belt and braces: every message also says so itself.
      allowedMentions: NO_MENTIONS,
      ...(config.apiUrl === undefined ? {} : { rest: { api: config.apiUrl } }),
      // DISCORD_SHARDS / DISCORD_SHARD_COUNT: the gateway shards this replica runs.
      ...discordShardOptions(config),
    });
    const rest = this.#client.rest;
    const downloader = new AttachmentDownloader({
      rest,
      ...(config.apiUrl === undefined ? {} : { apiUrl: config.apiUrl }),
      maxBytes: config.maxFileBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES,
      logger: this.#logger,
      ...(options.downloadRetry === undefined ? {} : { retry: options.downloadRetry }),
    });
    this.#deletions = options.findimage.deletions;
    // Fleet mode: the worker that indexes an upload downloads it, with its own bot token.
    this.#intake = new AttachmentIntake({ rest, uploads: options.findimage.uploads, downloader, logger: this.#logger, byReference: options.findimage.fleet !== undefined });
    this.#search = new DiscordSearch({ sessions: options.findimage.sessions, downloader, rest, logger: this.#logger });
    // Shared with the other replicas in a fleet: a retried event acts once, a backfill resumes anywhere.
    this.#replays = options.findimage.coordination.replays;
    this.#progress = options.findimage.coordination.backfills('discord');
    this.#backfill = new DiscordBackfill({
      rest,
      intake: this.#intake,
      progress: this.#progress,
      logger: this.#logger,
      ...(options.backfillPageSize === undefined ? {} : { pageSize: options.backfillPageSize }),
    });
    this.#listen();
    listenForVisibilityChanges(this.#client, { privacy: options.findimage.privacy, logger: this.#logger });
  }

  /** The discord.js client (tests read its state). */
  get client(): Client {
    return this.#client;
  }

  /** Logs in and resolves once the gateway is ready. Throws ConfigError when Discord refuses the token. */
  async start(): Promise<void> {
    this.#intake.start();
    const ready = new Promise<void>((resolve) => this.#client.once(Events.ClientReady, () => resolve()));
    try {
      await this.#client.login(this.#config.token);
    } catch (error) {
      this.#intake.stop();
      await this.#client.destroy();
      const code = (error as { code?: unknown }).code;
      if (code === 'TokenInvalid') {
        throw new ConfigError('Discord refused DISCORD_TOKEN. Copy the token from the Developer Portal (Bot → Reset Token). See docs/discord.md.', { cause: error });
      }
      throw error;
    }
    await ready;
    const { shards, shardCount } = this.#client.options;
    this.#logger.info({ user: this.#client.user?.tag, guilds: this.#client.guilds.cache.size, shards, shardCount }, 'Discord bot connected to the gateway');
  }

  async stop(): Promise<void> {
    this.#intake.stop();
    try {
      await this.#client.destroy();
    } finally {
      this.#progress.close();
    }
  }

  /**
   * Indexes a channel's history (resuming a stopped walk); the bot must be started, so that the
   * channel's permissions are known. Throws ConfigError for a channel the bot cannot see.
   */
  async backfill(channelId: string, onProgress?: (progress: BackfillProgress) => void): Promise<BackfillReport> {
    const channel = await this.#channel(channelId);
    if (channel === undefined) throw new ConfigError(`I can't see channel ${channelId}: check the id and that I may view it.`);
    return this.#backfillChannel(channelId, channel, onProgress);
  }

  /** The channel, from the cache or the API; undefined when the bot cannot see it. */
  async #channel(channelId: string): Promise<Channel | undefined> {
    const channel = this.#client.channels.cache.get(channelId) ?? (await this.#client.channels.fetch(channelId).catch(() => null));
    return channel ?? undefined;
  }

  async #backfillChannel(channelId: string, channel: Channel, onProgress?: (progress: BackfillProgress) => void): Promise<BackfillReport> {
    if (this.#indexing.has(channelId)) throw new ConfigError(`I'm already indexing channel ${channelId}.`);
    this.#indexing.add(channelId);
    try {
      const guildId = 'guildId' in channel ? channel.guildId : null;
      return await this.#backfill.run(placeOf(guildId, channelId, channel), guildId, onProgress);
    } finally {
      this.#indexing.delete(channelId);
    }
  }

  /**
   * Why the user of `interaction` may not have `channelId` indexed, or undefined when they may.
   * As on Slack: a channel from elsewhere only when it is public and in the same guild; one that
   * is not public (a private channel or thread, a DM) only by running the command inside it.
   */
  #refuseIndexing(interaction: ChatInputCommandInteraction, channelId: string, channel: Channel | undefined): string | undefined {
    if (channelId === interaction.channelId) return undefined;
    const cannotSee = `I can't index <#${channelId}> from here: check the channel, or run \`/findimage query: index <#${channelId}>\` inside it.`;
    if (channel === undefined || interaction.guildId === null) return cannotSee;
    const guildId = 'guildId' in channel ? channel.guildId : null;
    if (guildId !== interaction.guildId) return cannotSee;
    if (!placeOf(guildId, channelId, channel).isPublic) return 'To index a channel that not every member can read, run `/findimage query: index <#channel>` inside it.';
    return undefined;
  }

  #listen(): void {
    const client = this.#client;
    client.on(Events.Error, (error) => this.#logger.error({ err: error }, 'the Discord client reported an error'));
    client.on(Events.ShardResume, (shard, replayed) => this.#logger.info({ shard, replayed }, 'Discord gateway session resumed'));
    client.on(Events.InteractionCreate, (interaction) => void this.#onInteraction(interaction));
    client.on(Events.MessageCreate, (message) => void this.#guard('taking in a message', () => this.#onMessage(message)));
    client.on(Events.MessageUpdate, (before, after) => void this.#guard('handling an edit', () => this.#onEdit(before, after)));
    client.on(Events.MessageDelete, (message) =>
      void this.#guard('removing a deleted message', async () => {
        this.#deletions.messageDeleted(tenantOf(message.guildId, message.channelId), message.channelId, message.id);
      }),
    );
    client.on(Events.MessageBulkDelete, (messages) =>
      void this.#guard('removing deleted messages', async () => {
        for (const message of messages.values()) this.#deletions.messageDeleted(tenantOf(message.guildId, message.channelId), message.channelId, message.id);
      }),
    );
    client.on(Events.ChannelDelete, (channel) =>
      void this.#guard('removing a deleted channel', async () => {
        if ('guildId' in channel && channel.guildId !== null) this.#deletions.conversationDeleted(channel.guildId, channel.id);
      }),
    );
    client.on(Events.ThreadDelete, (thread) =>
      void this.#guard('removing a deleted thread', async () => {
        this.#deletions.conversationDeleted(thread.guildId, thread.id);
      }),
    );
    client.on(Events.MessageReactionAdd, (reaction, user) => void this.#guard('recording a reaction', () => this.#onReaction(reaction, user, true)));
    client.on(Events.MessageReactionRemove, (reaction, user) => void this.#guard('removing a reaction', () => this.#onReaction(reaction, user, false)));
  }

  async #onInteraction(interaction: Interaction): Promise<void> {
    try {
      // A gateway resume can hand an event over twice; act on each interaction once.
      if (!(await this.#replays.firstTime(`interaction:${interaction.id}`))) return;
      if (interaction.isChatInputCommand() && interaction.commandName === SLASH_COMMAND) await this.#onSlashCommand(interaction);
      else if (interaction.isMessageContextMenuCommand() && interaction.commandName === FIND_SIMILAR_COMMAND) await this.#onFindSimilar(interaction);
      else if (interaction.isButton() && isOurs(interaction.customId)) await this.#onButton(interaction);
    } catch (error) {
      this.#logger.error({ err: error, interaction: interaction.id }, 'could not handle an interaction');
    }
  }

  async #onSlashCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    if (!(await this.#deferPrivately(interaction))) return;
    const context = this.#contextOf(interaction);
    const { options } = interaction;
    const query = options.getString('query', true);
    const index = /^\s*index\s+<#(\d+)>\s*$/i.exec(query);
    if (index !== null) {
      const channelId = index[1] ?? '';
      await this.#answer(interaction, 'indexing that channel', async (reply) => {
        const channel = await this.#channel(channelId);
        const refused = this.#refuseIndexing(interaction, channelId, channel);
        if (refused !== undefined || channel === undefined) {
          await reply({ content: refused ?? `I can't see <#${channelId}>.` });
          return;
        }
        if (this.#indexing.has(channelId)) {
          await reply({ content: `I'm already indexing <#${channelId}>; try again when that is done.` });
          return;
        }
        const report = await this.#backfillChannel(channelId, channel, (p) => void reply({ content: `Indexing <#${channelId}>: read ${p.messagesSeen} messages, queued ${p.filesQueued} images${p.resumed ? ' (resumed)' : ''}…` }).catch(() => undefined));
        await reply({ content: `Indexed <#${channelId}>: ${report.indexed} new, ${report.duplicates} already indexed, ${report.rejected.length} refused, from ${report.messagesSeen} messages.` });
      });
      return;
    }
    const channel = options.getChannel('channel')?.id;
    const user = options.getUser('user')?.id;
    const after = options.getString('after') ?? undefined;
    const before = options.getString('before') ?? undefined;
    const count = options.getInteger('count') ?? undefined;
    await this.#answer(interaction, 'searching', (reply) =>
      this.#search.searchText(
        context,
        query,
        { ...(channel === undefined ? {} : { channel }), ...(user === undefined ? {} : { user }), ...(after === undefined ? {} : { after }), ...(before === undefined ? {} : { before }), ...(count === undefined ? {} : { count }) },
        reply,
      ),
    );
  }

  async #onFindSimilar(interaction: MessageContextMenuCommandInteraction): Promise<void> {
    if (!(await this.#deferPrivately(interaction))) return;
    const attachments = [...interaction.targetMessage.attachments.values()].map(attachmentRefOf);
    await this.#answer(interaction, 'finding similar images', (reply) => this.#search.similarToAttachments(this.#contextOf(interaction), attachments, reply));
  }

  async #onButton(interaction: ButtonInteraction): Promise<void> {
    const target = parseCustomId(interaction.customId);
    const context = this.#contextOf(interaction);
    if (target?.kind === 'page') {
      // The page replaces the preview in place.
      try {
        await interaction.deferUpdate();
      } catch (error) {
        this.#lateInteraction(error, interaction.id);
        return;
      }
      await this.#answer(interaction, 'showing that page', (reply) => this.#search.showPage(context, target.queryId, target.page, reply), true);
      return;
    }
    if (!(await this.#deferPrivately(interaction))) return;
    if (target === undefined) {
      await this.#edit(interaction, { content: STALE_BUTTON });
    } else if (target.kind === 'vote') {
      await this.#answer(interaction, 'recording your vote', (reply) => this.#search.vote(context, target.target, target.value, reply));
    } else if (target.kind === 'send') {
      await this.#answer(interaction, 'sending that image', (reply) => this.#search.send(context, target.target, reply));
    } else {
      await this.#answer(interaction, 'finding similar images', (reply) => this.#search.moreLikeThis(context, target.imageId, reply));
    }
  }

  async #onMessage(message: Message): Promise<void> {
    if (message.author.bot || message.attachments.size === 0) return;
    await this.#intake.accept({
      place: placeOf(message.guildId, message.channelId, message.channel),
      messageId: message.id,
      author: message.author.id,
      sharedAt: message.createdAt,
      permalink: message.url,
      attachments: [...message.attachments.values()].map(attachmentRefOf),
    });
  }

  /** An edit that removed attachments takes their images out; the rest stay. */
  async #onEdit(before: Message | PartialMessage, after: Message | PartialMessage): Promise<void> {
    if (after.author?.bot === true) return;
    const tenant = tenantOf(after.guildId, after.channelId);
    const kept = new Set(after.attachments.keys());
    if (!before.partial) {
      for (const id of before.attachments.keys()) if (!kept.has(id)) this.#deletions.fileDeleted(tenant, id);
      return;
    }
    // The message was not cached (sent before a restart): which attachments it had is unknown,
    // so its shares go and the ones it still has are taken in again (their bytes are known). The
    // message is not deleted: its re-queued uploads must not be taken off again when they finish.
    this.#deletions.messageReplaced(tenant, after.channelId, after.id);
    if (kept.size > 0 && after.author !== null) {
      await this.#intake.accept({
        place: placeOf(after.guildId, after.channelId, after.channel),
        messageId: after.id,
        author: after.author.id,
        sharedAt: after.createdAt,
        permalink: after.url,
        attachments: [...after.attachments.values()].map(attachmentRefOf),
      });
    }
  }

  async #onReaction(reaction: MessageReaction | PartialMessageReaction, user: User | PartialUser, added: boolean): Promise<void> {
    if (user.id === this.#client.user?.id) return;
    const message = reaction.message;
    const context: DiscordContext = { place: placeOf(message.guildId, message.channelId, null), user: user.id };
    await this.#search.reaction(context, message.id, reaction.emoji.name, added);
  }

  #contextOf(interaction: Interaction): DiscordContext {
    return { place: placeOf(interaction.guildId, interaction.channelId ?? '', interaction.channel), user: interaction.user.id };
  }

  /** Defers a private reply at once (Discord wants an answer within 3 s); false when too late. */
  async #deferPrivately(interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction): Promise<boolean> {
    try {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      return true;
    } catch (error) {
      this.#lateInteraction(error, interaction.id);
      return false;
    }
  }

  #lateInteraction(error: unknown, id: string): void {
    if (isDiscordError(error, RESTJSONErrorCodes.UnknownInteraction)) {
      this.#logger.warn({ interaction: id }, 'Discord had already expired the interaction (answered after 3 s?); nothing was done');
    } else {
      this.#logger.error({ err: error, interaction: id }, 'could not acknowledge an interaction');
    }
  }

  /** Runs a request whose answer edits the deferred reply; a failure is explained privately. */
  async #answer(interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction, doing: string, work: (reply: Reply) => Promise<void>, inPlace = false): Promise<void> {
    const reply: Reply = (body) => this.#edit(interaction, body, inPlace);
    try {
      await work(reply);
    } catch (error) {
      await this.#edit(interaction, { content: explainToUser(error, doing, this.#logger) }, inPlace).catch((editError: unknown) =>
        this.#logger.warn({ err: editError, interaction: interaction.id }, 'could not tell the user why a request failed'),
      );
    }
  }

  /**
   * Edits the deferred reply. A Components V2 message cannot turn back into plain content, so
   * text replacing a preview in place goes in a text display.
   */
  async #edit(interaction: ChatInputCommandInteraction | MessageContextMenuCommandInteraction | ButtonInteraction, body: ReplyBody, inPlace = false): Promise<void> {
    if ('content' in body) {
      if (inPlace) {
        await interaction.editReply({ flags: MessageFlags.IsComponentsV2, components: [{ type: 10, content: body.content }], allowedMentions: NO_MENTIONS });
      } else {
        await interaction.editReply({ content: body.content, allowedMentions: NO_MENTIONS });
      }
      return;
    }
    await interaction.editReply({ flags: body.flags, components: body.components, allowedMentions: body.allowedMentions });
  }

  /** Runs an event handler; a failure is logged, never thrown (one bad event must not stop the bot). */
  async #guard(doing: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.#logger.error({ err: error, doing }, `failed while ${doing}`);
    }
  }
}

function tenantOf(guildId: string | null, channelId: string): string {
  return guildId ?? dmTenant(channelId);
}

function attachmentRefOf(attachment: Attachment): AttachmentRef {
  return {
    id: attachment.id,
    name: attachment.name,
    size: attachment.size,
    url: attachment.url,
    ...(attachment.contentType === null ? {} : { contentType: attachment.contentType }),
  };
}
