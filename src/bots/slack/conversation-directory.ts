// What the bot knows about Slack conversations: whether one is public, shared with another
// organisation, and whether the bot is in it (conversations.info, cached), and channel ids by name.
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { asSlackApiError } from './slack-api-error.js';

/** The facts about a conversation that decide what may be indexed from it and shown in it. */
export interface ConversationFacts {
  /** Channel id. */
  id: string;
  /** Channel name without "#", when Slack gave one. */
  name?: string;
  /** A public channel of the workspace: every full member can open it and see its files. */
  isPublic: boolean;
  /** Shared with people outside the workspace (Slack Connect or across an organisation). */
  isShared: boolean;
  /** Whether the bot is a member; undefined where Slack does not say (DMs). */
  isMember: boolean | undefined;
}

export interface ConversationDirectoryOptions {
  /** The Slack Web API client (conversations.info and conversations.list). */
  client: webApi.WebClient;
  /** Where a channel-name walk that gave up is logged. */
  logger: Logger;
  /** How long facts are trusted; defaults to CONVERSATION_FACTS_TTL_MS. */
  ttlMs?: number;
}

/**
 * Facts are cached for 5 minutes: visibility rarely changes, and a burst of uploads would
 * otherwise call conversations.info (Slack's tier 3, about 50 calls a minute) once per file.
 */
export const CONVERSATION_FACTS_TTL_MS = 5 * 60_000;
/** conversations.list pages read when resolving a channel name (1,000 channels a page). */
const MAX_LIST_PAGES = 10;

/** The fields findimage reads of Slack's conversation object (each as Slack documents it). */
interface ChannelObject {
  id?: string;
  name?: string;
  is_channel?: boolean;
  is_group?: boolean;
  is_im?: boolean;
  is_mpim?: boolean;
  is_private?: boolean;
  is_member?: boolean;
  is_ext_shared?: boolean;
  is_shared?: boolean;
  is_org_shared?: boolean;
  is_pending_ext_shared?: boolean;
}

/** Reads the facts out of a conversation object from conversations.info or .list. */
export function factsOf(channel: ChannelObject, id: string): ConversationFacts {
  const facts: ConversationFacts = {
    id,
    isPublic:
      channel.is_channel === true &&
      channel.is_private !== true &&
      channel.is_group !== true &&
      channel.is_im !== true &&
      channel.is_mpim !== true,
    isShared:
      channel.is_ext_shared === true ||
      channel.is_shared === true ||
      channel.is_org_shared === true ||
      channel.is_pending_ext_shared === true,
    isMember: channel.is_member,
  };
  if (channel.name !== undefined) facts.name = channel.name;
  return facts;
}

export class ConversationDirectory {
  readonly #client: webApi.WebClient;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { facts: ConversationFacts; expires: number }>();
  /**
   * Per conversation, how many times forget() was called. A lookup caches its answer only if
   * the count is what it was when the lookup started: an answer Slack gave before a conversion
   * may arrive after forget(), and must not put the old facts back for CONVERSATION_FACTS_TTL_MS.
   * Entries are never removed: a number per conversation that ever changed is small.
   */
  readonly #generations = new Map<string, number>();

  constructor(options: ConversationDirectoryOptions) {
    this.#client = options.client;
    this.#logger = options.logger;
    this.#ttlMs = options.ttlMs ?? CONVERSATION_FACTS_TTL_MS;
  }

  /** The facts about a conversation. Throws SlackApiError (channel_not_found, invalid_auth...). */
  async lookup(channel: string): Promise<ConversationFacts> {
    const cached = this.#cache.get(channel);
    if (cached !== undefined && cached.expires > Date.now()) return cached.facts;
    const generation = this.#generations.get(channel) ?? 0;
    try {
      const response = await this.#client.conversations.info({ channel });
      const facts = factsOf((response.channel ?? {}) as ChannelObject, channel);
      if ((this.#generations.get(channel) ?? 0) === generation) this.#cache.set(channel, { facts, expires: Date.now() + this.#ttlMs });
      return facts;
    } catch (error) {
      throw asSlackApiError(error, 'looking up the conversation');
    }
  }

  /** Forgets what is cached about a conversation (it was renamed, shared or converted). */
  forget(channel: string): void {
    this.#cache.delete(channel);
    this.#generations.set(channel, (this.#generations.get(channel) ?? 0) + 1);
  }

  /** The id of the channel named `name` (without "#") that the bot can see, or undefined. */
  async idForName(name: string): Promise<string | undefined> {
    const wanted = name.toLowerCase();
    // The forget() counts when the walk started (0 for a conversation never forgotten).
    const generations = new Map(this.#generations);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let response;
      try {
        response = await this.#client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 1000,
          ...(cursor === undefined ? {} : { cursor }),
        });
      } catch (error) {
        throw asSlackApiError(error, 'looking up the channel name');
      }
      for (const channel of (response.channels ?? []) as ChannelObject[]) {
        if (channel.id !== undefined && channel.name?.toLowerCase() === wanted) {
          // Same rule as lookup(): a list read before a forget() of this channel is not cached.
          if ((this.#generations.get(channel.id) ?? 0) === (generations.get(channel.id) ?? 0)) {
            this.#cache.set(channel.id, { facts: factsOf(channel, channel.id), expires: Date.now() + this.#ttlMs });
          }
          return channel.id;
        }
      }
      cursor = response.response_metadata?.next_cursor;
      if (cursor === undefined || cursor === '') return undefined;
    }
    this.#logger.warn({ name, pages: MAX_LIST_PAGES }, 'gave up resolving a channel name');
    return undefined;
  }
}
