// Who may see what in a conversation: the search scope of a chat conversation, built only from
// the event (tenant and conversation) and the conversation's facts, never from the query text,
// and which of an image's shares may be shown in a scope. Whether the image itself may be read
// is the store's decision (VectorStore.get takes the scope).
import type { SearchScope } from '../search/search-service.js';
import type { ImagePayload, ImageShare } from '../store/vector-store.js';

/** What a platform knows about a conversation that decides what may be shown in it. */
export interface ConversationVisibility {
  /** Shared with people outside the tenant (Slack Connect, a DM with an outsider). */
  isShared: boolean;
  /**
   * For a thread that is a conversation of its own (Discord), the conversation it hangs off.
   * Everyone in a thread can read its parent, so the parent's images are shown in the thread.
   * Absent for a conversation that is not a thread. A thread whose parent is not known has
   * unknown facts (the adapter passes undefined), never facts without a parent.
   */
  parent?: string;
}

/**
 * The scope of results shown in `conversation` of `tenant`, the one rule every chat platform
 * follows. Everyone in the conversation may see a result that is shared there, so it may only
 * show images every member can see: the conversation's own images (a thread's parent's too),
 * plus the tenant's public conversations. Two cases narrow it to the conversation's own images
 * (with a thread's parent's):
 * - it is shared outside the tenant: outsiders cannot open our public channels;
 * - its facts are unknown (the platform's lookup failed, or a thread's parent is not known):
 *   when in doubt, show less. Then the conversation alone, not even a parent.
 */
export function scopeForConversation(
  tenant: string,
  conversation: string,
  facts: ConversationVisibility | undefined,
): SearchScope {
  if (facts === undefined) return { tenant, channels: [conversation], includePublic: false };
  const channels = facts.parent === undefined || facts.parent === conversation ? [conversation] : [conversation, facts.parent];
  return { tenant, channels, includePublic: !facts.isShared };
}

/**
 * The scope of a front end whose every user may see the whole tenant (the command line, the
 * local web app): every image of `tenant`, in any conversation or none (folder images have no
 * shares), and never another tenant's.
 */
export function scopeForTenant(tenant: string): SearchScope {
  return { tenant };
}

/** Whether `share` may be shown under `scope` (tenant already checked). */
function shareIsVisible(share: ImageShare, scope: SearchScope): boolean {
  if (scope.channels === undefined) return true;
  if (scope.channels.includes(share.conversation)) return true;
  return scope.includePublic === true && share.isPublic;
}

/**
 * The shares of an image visible under `scope`, those in the scope's own conversations first:
 * the first is the one a result links to. Another tenant's image has none.
 */
export function visibleShares(payload: ImagePayload, scope: SearchScope): ImageShare[] {
  if (payload.tenant !== scope.tenant) return [];
  const own = scope.channels ?? [];
  const visible = payload.shares.filter((share) => shareIsVisible(share, scope));
  return [...visible.filter((s) => own.includes(s.conversation)), ...visible.filter((s) => !own.includes(s.conversation))];
}
