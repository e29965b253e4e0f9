// Slack's side of search sessions: turns /findimage, its buttons, the "Find similar images"
// shortcut and vote reactions into SearchSessions calls, and their pages into Block Kit messages.
// Nothing reaches the channel until someone presses Send or Share all.
import type { RespondFn, webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { scopeForConversation } from '../../core/conversations/conversation-scope.js';
import type { SearchSessions, SessionContext, SessionPage } from '../../core/conversations/search-sessions.js';
import type { LabelValue } from '../../core/labels/label-store.js';
import { queryNotes, type FilterWording } from '../../core/search/filter-description.js';
import { parseQuery } from '../../core/search/query-syntax.js';
import type { SearchFilters } from '../../core/search/search-service.js';
import type { ConversationDirectory, ConversationFacts } from './conversation-directory.js';
import { isImageFile, type SlackFileDownloader, type SlackFileRef } from './file-download.js';
import {
  renderNoResults,
  renderPreview,
  renderSentImage,
  renderSharedPage,
  type HitButtonValue,
} from './result-blocks.js';
import type { ResultPublisher } from './result-publisher.js';
import { asSlackApiError } from './slack-api-error.js';
import { resolveFilters } from './slack-query.js';
import { decodeSlackEntities, escapeAndTruncate } from './slack-text.js';

/** Where a Slack request came from, from the event: team, conversation and person. */
export interface SlackContext {
  /** Team id: the tenant. */
  tenant: string;
  /** The conversation the command or button is in. */
  channel: string;
  /** Who acted. */
  user: string;
}

/** Slack's names for the thumbs (both spellings exist; skin tones are stripped first). */
const VOTE_REACTIONS: ReadonlyMap<string, LabelValue> = new Map([
  ['+1', 1],
  ['thumbsup', 1],
  ['-1', -1],
  ['thumbsdown', -1],
]);

/** The vote a reaction stands for, or undefined for reactions that are not a thumb. */
export function voteOfReaction(reaction: string): LabelValue | undefined {
  return VOTE_REACTIONS.get(reaction.split('::')[0] ?? reaction);
}

export interface SlackSearchOptions {
  /** The core's searches, pages and votes. */
  sessions: SearchSessions;
  /** Posts results to the channel or privately. */
  publisher: ResultPublisher;
  /** What the bot knows of each conversation (public, shared, member). */
  directory: ConversationDirectory;
  /** Downloads a shared file to search by. */
  downloader: SlackFileDownloader;
  /** The Slack Web API client. */
  client: webApi.WebClient;
  /** Where searches and refusals are logged. */
  logger: Logger;
}

export class SlackSearch {
  readonly #sessions: SearchSessions;
  readonly #publisher: ResultPublisher;
  readonly #directory: ConversationDirectory;
  readonly #downloader: SlackFileDownloader;
  readonly #client: webApi.WebClient;
  readonly #logger: Logger;

  constructor(options: SlackSearchOptions) {
    this.#sessions = options.sessions;
    this.#publisher = options.publisher;
    this.#directory = options.directory;
    this.#downloader = options.downloader;
    this.#client = options.client;
    this.#logger = options.logger;
  }

  /** `/findimage <text>`: a private preview of the first page. Throws errors with a message for the user. */
  async searchText(context: SlackContext, commandText: string, respond: RespondFn): Promise<void> {
    const parsed = parseQuery(commandText);
    parsed.text = decodeSlackEntities(parsed.text);
    parsed.negativeTerms = parsed.negativeTerms.map(decodeSlackEntities);
    const filters = await resolveFilters(parsed, this.#directory);
    const page = await this.#sessions.startText(await this.#session(context), {
      typed: decodeSlackEntities(commandText),
      parsed,
      filters,
    });
    if (page.hits.length === 0) {
      await this.#say(respond, renderNoResults(page.query, hasFilters(filters, parsed.negativeTerms)));
      return;
    }
    await this.#preview(context, respond, page, queryNotes(page.query, SLACK_WORDING, parsed.truncated), false);
  }

  /** Previous or Next on a preview: the page replaces the preview. */
  async showPage(context: SlackContext, queryId: string, pageNumber: number, respond: RespondFn): Promise<void> {
    const page = await this.#sessions.page(await this.#session(context), queryId, pageNumber);
    if (page.hits.length === 0) {
      await this.#say(respond, 'There are no more results for that search.');
      return;
    }
    await this.#preview(context, respond, page, queryNotes(page.query, SLACK_WORDING), true);
  }

  /** "More like this" on a result: a new private preview. */
  async moreLikeThis(context: SlackContext, imageId: string, respond: RespondFn): Promise<void> {
    const page = await this.#sessions.startLike(await this.#session(context), imageId);
    await this.#previewOrNothing(context, respond, page);
  }

  /** The "Find similar images" shortcut on a message with `files`. */
  async similarToFiles(context: SlackContext, files: readonly SlackFileRef[], respond: RespondFn): Promise<void> {
    const file = files.find(isImageFile);
    if (file === undefined) {
      await this.#say(respond, 'That message has no image I can search with.');
      return;
    }
    const bytes = await this.#downloader.download(file);
    const page = await this.#sessions.startImage(await this.#session(context), { bytes, name: file.name });
    await this.#previewOrNothing(context, respond, page);
  }

  /** Send on a preview card: the image goes to the conversation as one message. */
  async send(context: SlackContext, target: HitButtonValue, respond: RespondFn): Promise<void> {
    const session = await this.#session(context);
    const { query, hit } = await this.#sessions.result(session, target.queryId, target.imageId, target);
    const ts = await this.#publisher.post(context.tenant, context.channel, (options) => renderSentImage(query, hit, context.user, options));
    await this.#sessions.recordShare(session, query.queryId, ts, [hit]);
    await this.#say(respond, `Sent #${hit.rank} to <#${context.channel}>. Reactions :+1: and :-1: on it count as votes.`);
  }

  /** Share all on a preview: the page goes to the conversation as one message. */
  async shareAll(context: SlackContext, queryId: string, pageNumber: number, respond: RespondFn): Promise<void> {
    const session = await this.#session(context);
    const page = await this.#sessions.page(session, queryId, pageNumber);
    if (page.hits.length === 0) {
      await this.#say(respond, 'Those results are no longer in the index, so there was nothing to share.');
      return;
    }
    const ts = await this.#publisher.post(context.tenant, context.channel, (options) => renderSharedPage(page, context.user, options));
    await this.#sessions.recordShare(session, queryId, ts, page.hits);
    await this.#say(respond, `Shared ${page.hits.length} results with <#${context.channel}>.`);
  }

  /** A 👍 or 👎 button, on a preview or on a posted result: confirmed privately. */
  async vote(context: SlackContext, target: HitButtonValue, value: LabelValue, respond: RespondFn): Promise<void> {
    const result = await this.#sessions.vote(await this.#session(context), target.queryId, target.imageId, value);
    const thumb = value === 1 ? ':+1:' : ':-1:';
    const name = escapeAndTruncate(result.payload.filename, 100);
    await this.#say(
      respond,
      result.status === 'added'
        ? `Thanks: your ${thumb} on #${target.rank} ${name} is recorded. Press it again to take it back.`
        : `Your ${thumb} on #${target.rank} ${name} is taken back.`,
    );
  }

  /**
   * A thumb reaction added to or removed from a message. On a sent image it labels that result;
   * on a shared page the person is told privately how to vote. Other reactions are ignored.
   */
  async reaction(context: SlackContext, messageTs: string, reaction: string, added: boolean): Promise<void> {
    const value = voteOfReaction(reaction);
    if (value === undefined) return;
    const result = await this.#sessions.reaction({
      tenant: context.tenant,
      conversation: context.channel,
      messageId: messageTs,
      user: context.user,
      value,
      added,
    });
    if (result.status !== 'several' || !added) return;
    try {
      await this.#client.chat.postEphemeral({
        channel: context.channel,
        user: context.user,
        text: `That message shows ${result.results} images, so a reaction can't say which one you mean. Use the :+1: and :-1: buttons under each image instead.`,
      });
    } catch (error) {
      this.#logger.warn({ err: asSlackApiError(error, 'explaining how to vote'), channel: context.channel }, 'could not explain how to vote');
    }
  }

  async #previewOrNothing(context: SlackContext, respond: RespondFn, page: SessionPage): Promise<void> {
    if (page.hits.length === 0) {
      await this.#say(respond, renderNoResults(page.query, false));
      return;
    }
    await this.#preview(context, respond, page, [], false);
  }

  async #preview(context: SlackContext, respond: RespondFn, page: SessionPage, notes: string[], replace: boolean): Promise<void> {
    await this.#publisher.respondPrivately(context.tenant, respond, (options) => renderPreview(page, notes, options), replace);
    this.#logger.info({ queryId: page.query.queryId, tenant: context.tenant, page: page.page, hits: page.hits.length }, 'preview shown');
  }

  /** The session context of a Slack request: its scope comes from the conversation's facts. */
  async #session(context: SlackContext): Promise<SessionContext> {
    let facts: ConversationFacts | undefined;
    try {
      facts = await this.#directory.lookup(context.channel);
    } catch (error) {
      // Unknown facts narrow the scope to this conversation: when in doubt, show less.
      this.#logger.warn({ err: error, channel: context.channel }, 'could not look up the conversation; searching it alone');
    }
    return { scope: scopeForConversation(context.tenant, context.channel, facts), conversation: context.channel, user: context.user };
  }

  async #say(respond: RespondFn, text: string): Promise<void> {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  }
}

function hasFilters(filters: SearchFilters, negativeTerms: readonly string[]): boolean {
  return Object.keys(filters).length > 0 || negativeTerms.length > 0;
}

/** Filters in Slack's mrkdwn: ids become mentions; user text is escaped. */
const SLACK_WORDING: FilterWording = {
  conversation: (id) => `<#${id}>`,
  user: (id) => `<@${id}>`,
  userText: (text, maxChars) => escapeAndTruncate(text, maxChars),
};
