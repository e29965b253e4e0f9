// Discord's side of search sessions: turns /findimage, its buttons, the "Find similar images"
// message command and vote reactions into SearchSessions calls, and their pages into Components
// V2 messages. Nothing reaches the channel until someone presses Send.
import { Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import type { SearchSessions, SessionContext, SessionPage, ShownHit } from '../../core/conversations/search-sessions.js';
import { InvalidQueryError } from '../../core/errors.js';
import type { LabelValue } from '../../core/labels/label-store.js';
import { queryNotes, type FilterWording } from '../../core/search/filter-description.js';
import { parseQuery } from '../../core/search/query-syntax.js';
import type { SearchFilters } from '../../core/search/search-service.js';
import { cdnLinkOf, isImageAttachment, type AttachmentDownloader, type AttachmentRef } from './attachment-download.js';
import type { DiscordPlace } from './channel-visibility.js';
import { plainText } from './discord-api-error.js';
import { renderPreview, renderSentImage, type HitTarget, type RenderedMessage } from './result-components.js';

/** Where a request came from: the place (tenant, conversation, scope) and who acted. */
export interface DiscordContext {
  /** The guild (or DM), channel and scope the request came from. */
  place: DiscordPlace;
  /** The Discord user id of who acted. */
  user: string;
}

/** What the bot answers with: plain text, or a rendered Components V2 message. */
export type ReplyBody = { content: string } | RenderedMessage;
/** Edits the person's private (deferred) reply. */
export type Reply = (body: ReplyBody) => Promise<void>;

/** The /findimage options besides the query. */
export interface SearchOptions {
  /** in:#channel, as typed (a channel mention or id). */
  channel?: string;
  /** from:@user, as typed (a user mention or id). */
  user?: string;
  /** YYYY-MM-DD as typed. */
  before?: string;
  /** YYYY-MM-DD as typed. */
  after?: string;
  /** Results shown per page (1 to PAGE_SIZE). */
  count?: number;
}

/** Discord's thumbs (skin tones stripped first). */
const VOTE_EMOJI: ReadonlyMap<string, LabelValue> = new Map([
  ['👍', 1],
  ['👎', -1],
]);
const SKIN_TONES = /[\u{1F3FB}-\u{1F3FF}]/gu;

/** The vote a reaction emoji stands for, or undefined for other emoji. */
export function voteOfEmoji(name: string | null): LabelValue | undefined {
  return name === null ? undefined : VOTE_EMOJI.get(name.replace(SKIN_TONES, ''));
}

const SNOWFLAKE = /^\d{15,21}$/;
const CHANNEL_MENTION = /^<#(\d{15,21})>$/;
const USER_MENTION = /^<@!?(\d{15,21})>$/;

export interface DiscordSearchOptions {
  /** The core's searches, pages and votes. */
  sessions: SearchSessions;
  /** Downloads an attachment to search by. */
  downloader: AttachmentDownloader;
  /** Discord's REST API, for replies and follow-ups. */
  rest: REST;
  /** Where searches and refusals are logged. */
  logger: Logger;
}

export class DiscordSearch {
  readonly #sessions: SearchSessions;
  readonly #downloader: AttachmentDownloader;
  readonly #rest: REST;
  readonly #logger: Logger;

  constructor(options: DiscordSearchOptions) {
    this.#sessions = options.sessions;
    this.#downloader = options.downloader;
    this.#rest = options.rest;
    this.#logger = options.logger;
  }

  /** `/findimage query:`: a private preview of the first page. Throws errors with a message for the user. */
  async searchText(context: DiscordContext, query: string, options: SearchOptions, reply: Reply): Promise<void> {
    // The options go through the core's query syntax, so dates are read and checked one way.
    const typed = [
      query.trim(),
      ...(options.channel === undefined ? [] : [`in:<#${options.channel}>`]),
      ...(options.user === undefined ? [] : [`from:<@${options.user}>`]),
      ...(options.after === undefined ? [] : [`after:${options.after}`]),
      ...(options.before === undefined ? [] : [`before:${options.before}`]),
    ].join(' ');
    const parsed = parseQuery(typed);
    const filters = resolveFilters(parsed.channelRefs, parsed.userRefs);
    if (parsed.after !== undefined) filters.after = parsed.after;
    if (parsed.before !== undefined) filters.before = parsed.before;
    const page = await this.#sessions.startText(this.#session(context), { typed, parsed, filters });
    await this.#preview(reply, page, queryNotes(page.query, DISCORD_WORDING, parsed.truncated), options.count);
  }

  /** Previous or Next: the page replaces the preview. */
  async showPage(context: DiscordContext, queryId: string, pageNumber: number, reply: Reply): Promise<void> {
    const page = await this.#sessions.page(this.#session(context), queryId, pageNumber);
    if (page.hits.length === 0) return reply({ content: 'There are no more results for that search.' });
    await this.#preview(reply, page, queryNotes(page.query, DISCORD_WORDING));
  }

  /** "More like this" on a result: a new private preview. */
  async moreLikeThis(context: DiscordContext, imageId: string, reply: Reply): Promise<void> {
    await this.#preview(reply, await this.#sessions.startLike(this.#session(context), imageId), []);
  }

  /** "Find similar images" on a message: searches with its first image attachment. */
  async similarToAttachments(context: DiscordContext, attachments: readonly AttachmentRef[], reply: Reply): Promise<void> {
    const attachment = attachments.find(isImageAttachment);
    if (attachment === undefined) return reply({ content: 'That message has no image I can search with.' });
    const bytes = await this.#downloader.download(attachment);
    await this.#preview(reply, await this.#sessions.startImage(this.#session(context), { bytes, name: attachment.name }), []);
  }

  /** Send on a result: the image goes to the channel as one message, whose thumbs become labels. */
  async send(context: DiscordContext, target: HitTarget, reply: Reply): Promise<void> {
    const session = this.#session(context);
    const { query, hit } = await this.#sessions.result(session, target.queryId, target.imageId, target);
    const url = (await this.#imageLinks([hit])).get(hit.imageId);
    const rendered = renderSentImage(query, hit, context.user, url);
    const posted = (await this.#rest.post(Routes.channelMessages(context.place.conversation), {
      body: { flags: rendered.flags, components: rendered.components, allowed_mentions: rendered.allowedMentions },
    })) as { id: string };
    await this.#sessions.recordShare(session, query.queryId, posted.id, [hit]);
    await reply({ content: `Sent #${hit.rank} to <#${context.place.conversation}>. Reactions 👍 and 👎 on it count as votes.` });
  }

  /** A 👍 or 👎 button: confirmed privately. */
  async vote(context: DiscordContext, target: HitTarget, value: LabelValue, reply: Reply): Promise<void> {
    const result = await this.#sessions.vote(this.#session(context), target.queryId, target.imageId, value);
    const thumb = value === 1 ? '👍' : '👎';
    const name = plainText(result.payload.filename, 100);
    await reply({
      content:
        result.status === 'added'
          ? `Thanks: your ${thumb} on #${target.rank} ${name} is recorded. Press it again to take it back.`
          : `Your ${thumb} on #${target.rank} ${name} is taken back.`,
    });
  }

  /** A thumb reaction added to or removed from a message: a label when the message is a sent result. */
  async reaction(context: DiscordContext, messageId: string, emoji: string | null, added: boolean): Promise<void> {
    const value = voteOfEmoji(emoji);
    if (value === undefined) return;
    await this.#sessions.reaction({ tenant: context.place.tenant, conversation: context.place.conversation, messageId, user: context.user, value, added });
  }

  async #preview(reply: Reply, page: SessionPage, notes: string[], count?: number): Promise<void> {
    if (page.hits.length === 0) {
      await reply({ content: page.query.kind === 'text' ? `No images match “${plainText(page.query.text, 200)}” here.` : 'No similar images here.' });
      return;
    }
    const shown = count === undefined ? page : { ...page, hits: page.hits.slice(0, count) };
    await reply(renderPreview(shown, notes, await this.#imageLinks(shown.hits)));
    this.#logger.info({ queryId: page.query.queryId, tenant: page.query.tenant, page: page.page, hits: shown.hits.length }, 'preview shown');
  }

  /** Freshly signed CDN links of the hits' attachments (a stored link expires after a day). */
  async #imageLinks(hits: readonly ShownHit[]): Promise<Map<string, string>> {
    const links = new Map<string, string>();
    for (const hit of hits) {
      const share = hit.share;
      if (share?.fileId !== undefined) links.set(hit.imageId, cdnLinkOf(share.conversation, share.fileId, hit.payload.filename));
    }
    const refreshed = await this.#downloader.refresh([...links.values()]);
    const shown = new Map<string, string>();
    for (const [imageId, link] of links) {
      const fresh = refreshed.get(link);
      if (fresh !== undefined) shown.set(imageId, fresh);
    }
    return shown;
  }

  #session(context: DiscordContext): SessionContext {
    return { scope: context.place.scope, conversation: context.place.conversation, user: context.user };
  }
}

/** in: and from: values as Discord ids: mentions (<#id>, <@id>) or raw snowflakes. */
function resolveFilters(channelRefs: readonly string[], userRefs: readonly string[]): SearchFilters {
  const filters: SearchFilters = {};
  if (channelRefs.length > 0) {
    filters.channels = channelRefs.map((ref) => {
      const id = CHANNEL_MENTION.exec(ref)?.[1] ?? (SNOWFLAKE.test(ref.replace(/^#/, '')) ? ref.replace(/^#/, '') : undefined);
      if (id === undefined) throw new InvalidQueryError(`I can't tell which channel in:${plainText(ref, 50)} is. Use the channel option, or type # and pick the channel.`);
      return id;
    });
  }
  if (userRefs.length > 0) {
    filters.uploaders = userRefs.map((ref) => {
      const id = USER_MENTION.exec(ref)?.[1] ?? (SNOWFLAKE.test(ref.replace(/^@/, '')) ? ref.replace(/^@/, '') : undefined);
      if (id === undefined) throw new InvalidQueryError(`I can't tell who from:${plainText(ref, 50)} is. Use the user option, or type @ and pick the person.`);
      return id;
    });
  }
  return filters;
}

/** Filters in Discord markdown: ids become mentions (sent with no pings); user text is escaped. */
const DISCORD_WORDING: FilterWording = {
  conversation: (id) => `<#${id}>`,
  user: (id) => `<@${id}>`,
  userText: (text, maxChars) => plainText(text, maxChars),
};
