// The search in the address bar: every search (a description, "more like this" on an image, a
// dropped image's saved search), its page and its own settings is a URL, so Back, Forward, a
// reload and a shared link all show the same results. Paging and new searches push an entry;
// learning the search's id (qid, which keeps its votes and a dropped image's results) replaces it.
import { urlOf, type SearchState } from './search-address.js';


/** Adds a history entry for a new search or page (Back returns to the one before). */
export function pushState(state: SearchState): void {
  const url = urlOf(state);
  if (url !== location.pathname + location.search) history.pushState(null, '', url);
}

/** Rewrites the current entry (the search's id became known). */
export function replaceState(state: SearchState): void {
  history.replaceState(null, '', urlOf(state));
}
