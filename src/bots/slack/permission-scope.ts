// Who may see what: the search scope of a Slack conversation, built only from the event (team
// and channel) and the conversation's facts, never from the query text.
import type { SearchScope } from '../../core/search/search-service.js';
import type { ImagePayload } from '../../core/store/vector-store.js';
import type { ConversationFacts } from './conversation-directory.js';

/**
 * The scope of results posted in `channel` of team `tenant`. Everyone in the conversation sees
 * them, so they may only show images every member can see: the conversation's own images, plus
 * the workspace's public channels. Two cases narrow it to the conversation's own images:
 * - it is shared outside the workspace (Slack Connect): outsiders cannot open our public channels;
 * - its facts are unknown (conversations.info failed): when in doubt, show less.
 */
export function scopeForConversation(tenant: string, channel: string, facts: ConversationFacts | undefined): SearchScope {
  const includePublic = facts !== undefined && !facts.isShared;
  return { tenant, channels: [channel], includePublic };
}

/** Whether an image from a conversation with these facts may be shown in other conversations. */
export function isPublicSource(facts: ConversationFacts | undefined): boolean {
  return facts?.isPublic === true;
}

/** Whether an indexed image may be shown (or named) under `scope`. */
export function isVisibleIn(payload: ImagePayload, scope: SearchScope): boolean {
  if (payload.tenant !== scope.tenant) return false;
  if (scope.channels === undefined) return true;
  if (payload.channel !== undefined && scope.channels.includes(payload.channel)) return true;
  return scope.includePublic === true && payload.channelIsPublic === true;
}
