// Slack's side of the query syntax: turning the in: and from: values of a parsed query (escaped
// mentions like <#C123|design>, raw ids, or channel names) into Slack ids for SearchFilters.
import { InvalidQueryError } from '../../core/errors.js';
import type { ParsedQuery } from '../../core/search/query-syntax.js';
import type { SearchFilters } from '../../core/search/search-service.js';
import type { ConversationDirectory } from './conversation-directory.js';

const ESCAPED_CHANNEL = /^<#([A-Z0-9]+)(?:\|[^>]*)?>$/;
const RAW_CHANNEL_ID = /^#?([CG][A-Z0-9]{6,})$/;
const CHANNEL_NAME = /^#?([\p{Ll}\p{Lo}\p{N}._-]+)$/u;
const ESCAPED_USER = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;
const RAW_USER_ID = /^@?([UW][A-Z0-9]{6,})$/;

/** A channel reference: an id Slack already gave, or a name to look up. */
export type ChannelRef = { id: string } | { name: string };

/** Reads one in: value; undefined when it cannot be a channel. */
export function channelRefOf(value: string): ChannelRef | undefined {
  const id = ESCAPED_CHANNEL.exec(value)?.[1] ?? RAW_CHANNEL_ID.exec(value)?.[1];
  if (id !== undefined) return { id };
  const name = CHANNEL_NAME.exec(value.toLowerCase())?.[1];
  return name === undefined ? undefined : { name };
}

/** Reads one from: value; undefined unless it is a mention or a user id. */
export function userIdOf(value: string): string | undefined {
  return ESCAPED_USER.exec(value)?.[1] ?? RAW_USER_ID.exec(value)?.[1];
}

/**
 * The filters a parsed query asks for, with Slack ids. Throws InvalidQueryError naming any
 * channel or person that cannot be resolved, and saying how to pick one Slack can resolve.
 */
export async function resolveFilters(parsed: ParsedQuery, directory: ConversationDirectory): Promise<SearchFilters> {
  const filters: SearchFilters = {};
  if (parsed.channelRefs.length > 0) {
    const channels: string[] = [];
    for (const value of parsed.channelRefs) {
      const ref = channelRefOf(value);
      const id = ref === undefined ? undefined : 'id' in ref ? ref.id : await directory.idForName(ref.name);
      if (id === undefined) {
        throw new InvalidQueryError(
          `I can't find the channel in:${value}. Type # and pick the channel from Slack's list, and make sure I'm a member of it.`,
        );
      }
      channels.push(id);
    }
    filters.channels = channels;
  }
  if (parsed.userRefs.length > 0) {
    const users: string[] = [];
    for (const value of parsed.userRefs) {
      const id = userIdOf(value);
      if (id === undefined) {
        throw new InvalidQueryError(`I can't tell who from:${value} is. Type @ and pick the person from Slack's list.`);
      }
      users.push(id);
    }
    filters.uploaders = users;
  }
  if (parsed.after !== undefined) filters.after = parsed.after;
  if (parsed.before !== undefined) filters.before = parsed.before;
  return filters;
}
