// The web app's place in SearchSessions: every search, page and vote of the page runs through
// the same session logic as Slack and Discord, with this context. The web app is a local front
// end: whoever can open it may see every image of the `local` tenant (the CLI's, and the page's
// uploads), in any conversation or none, and never a chat workspace's images.
import { scopeForTenant } from '../core/conversations/conversation-scope.js';
import type { SessionContext } from '../core/conversations/search-sessions.js';
import type { SearchScope } from '../core/search/search-service.js';
import { WEB_CONVERSATION } from './route-context.js';
import { WEB_TENANT } from './web-uploads.js';

/**
 * The only scope the web app searches and shows: the whole `local` tenant. It needs no channel
 * rule: the people who can reach the page (this machine, or the token's holders) are the
 * operators of this findimage, who indexed those images themselves.
 */
export const WEB_SCOPE: SearchScope = scopeForTenant(WEB_TENANT);

/** Who a search on the page is recorded as: searches are not signed; a name is typed only to vote. */
export const WEB_SEARCHER = 'web';

/** The session context of a request from the page; `user` is the voter's typed name for votes. */
export function webSession(user: string = WEB_SEARCHER): SessionContext {
  return { scope: WEB_SCOPE, conversation: WEB_CONVERSATION, user };
}
