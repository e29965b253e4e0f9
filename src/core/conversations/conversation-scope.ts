// Who may see what in a conversation: the search scope of a chat conversation, built only from
// the event (tenant and conversation) and the conversation's facts, never from the query text,
// and the test of whether an image (through any one of its shares) is visible in a scope.
import type { SearchScope } from '../search/search-service.js';
import type { ImagePayload, ImageShare } from '../store/vector-store.js';

/** What a platform knows about a conversation that decides what may be shown in it. */
export interface ConversationVisibility {
  /** Shared with people outside the tenant (Slack Connect, a DM with an outsider). */
  isShared: boolean;
}

/**
 * The scope of results shown in `conversation` of `tenant`. Everyone in the conversation may see
 * a result that is shared there, so it may only show images every member can see: the
 * conversation's own images, plus the tenant's public conversations. Two cases narrow it to the
 * conversation's own images:
 * - it is shared outside the tenant: outsiders cannot open our public channels;
 * - its facts are unknown (the platform's lookup failed): when in doubt, show less.
 */
export function scopeForConversation(
  tenant: string,
  conversation: string,
  facts: ConversationVisibility | undefined,
): SearchScope {
  const includePublic = facts !== undefined && !facts.isShared;
  return { tenant, channels: [conversation], includePublic };
}

/** Whether `share` may be shown under `scope` (tenant already checked). */
function shareIsVisible(share: ImageShare, scope: SearchScope): boolean {
  if (scope.channels === undefined) return true;
  if (scope.channels.includes(share.conversation)) return true;
  return scope.includePublic === true && share.isPublic;
}

/** The shares of an image visible under `scope`, those in the scope's own conversations first. */
export function visibleShares(payload: ImagePayload, scope: SearchScope): ImageShare[] {
  if (payload.tenant !== scope.tenant) return [];
  const own = scope.channels ?? [];
  const visible = payload.shares.filter((share) => shareIsVisible(share, scope));
  return [...visible.filter((s) => own.includes(s.conversation)), ...visible.filter((s) => !own.includes(s.conversation))];
}

/**
 * Whether an indexed image may be shown (or named) under `scope`: it is the scope's tenant's,
 * and one of its shares is visible (a folder image, with no shares, only under an unrestricted scope).
 */
export function isVisibleIn(payload: ImagePayload, scope: SearchScope): boolean {
  if (payload.tenant !== scope.tenant) return false;
  if (scope.channels === undefined) return true;
  return payload.shares.some((share) => shareIsVisible(share, scope));
}
