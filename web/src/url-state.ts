// The search in the address bar: every search (a description, "more like this" on an image, a
// dropped image's saved search), its page and its own settings is a URL, so Back, Forward, a
// reload and a shared link all show the same results. Paging and new searches push an entry;
// learning the search's id (qid, which keeps its votes and a dropped image's results) replaces it.
import type { Tuning } from './api.js';

/** What the address says to show. */
export type SearchState =
  /** A description: `?q=` with its filters, the server's search id once known. */
  | { kind: 'text'; q: string; offset: number; qid?: string; tuning: Tuning }
  /** "More like this" on an indexed image: `?like=<image id>`. */
  | { kind: 'like'; id: string; offset: number; qid?: string; tuning: Tuning }
  /** A search that only the server can replay (a dropped image's): `?qid=` alone. */
  | { kind: 'saved'; qid: string; offset: number; tuning: Tuning }
  /** Nothing searched yet. */
  | { kind: 'none' };

/** Ids are UUIDs; anything else in the address is ignored rather than sent. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the state from a URL's query string. Malformed parts are dropped, never fatal. */
export function stateFromUrl(search: string): SearchState {
  const params = new URLSearchParams(search);
  const offsetNumber = Number(params.get('offset') ?? 0);
  const offset = Number.isInteger(offsetNumber) && offsetNumber > 0 ? offsetNumber : 0;
  const qidParam = params.get('qid');
  const qid = qidParam !== null && UUID.test(qidParam) ? qidParam : undefined;
  const tuning: Tuning = {};
  const min = params.get('min');
  if (min !== null && min !== '' && Number.isFinite(Number(min)) && Number(min) >= 0 && Number(min) <= 1) tuning.minScore = Number(min);
  const template = params.get('tpl');
  if (template !== null && template !== '') tuning.template = template;
  const q = params.get('q');
  if (q !== null && q.trim() !== '') return { kind: 'text', q, offset, tuning, ...(qid === undefined ? {} : { qid }) };
  const like = params.get('like');
  if (like !== null && UUID.test(like)) return { kind: 'like', id: like, offset, tuning, ...(qid === undefined ? {} : { qid }) };
  if (qid !== undefined) return { kind: 'saved', qid, offset, tuning };
  return { kind: 'none' };
}

/** The path and query string of a state (`/` for none). */
export function urlOf(state: SearchState): string {
  if (state.kind === 'none') return '/';
  const params = new URLSearchParams();
  if (state.kind === 'text') params.set('q', state.q);
  if (state.kind === 'like') params.set('like', state.id);
  if (state.kind === 'saved' || state.qid !== undefined) params.set('qid', state.qid as string);
  if (state.offset > 0) params.set('offset', String(state.offset));
  if (state.tuning.minScore !== undefined) params.set('min', String(state.tuning.minScore));
  if (state.tuning.template !== undefined) params.set('tpl', state.tuning.template);
  return `/?${params}`;
}

/** Adds a history entry for a new search or page (Back returns to the one before). */
export function pushState(state: SearchState): void {
  const url = urlOf(state);
  if (url !== location.pathname + location.search) history.pushState(null, '', url);
}

/** Rewrites the current entry (the search's id became known). */
export function replaceState(state: SearchState): void {
  history.replaceState(null, '', urlOf(state));
}
