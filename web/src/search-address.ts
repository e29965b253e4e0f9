// What an address says to show, read and written without the browser (so it is unit-tested in
// Node): the search, its page and its own settings. A bad value in a typed or edited address is
// dropped or brought into range here, never sent: the server would answer 400, and a reload
// would repeat it, a dead end.
/** A search's own settings (left out: the server's). */
export interface Tuning {
  /** Relative cut-off, 0 to 1. */
  minScore?: number;
  /** Prompt template holding {} exactly once ("{}" alone: the words as typed). */
  template?: string;
}

/** Results per page: four rows of the grid on a laptop screen. */
export const PAGE_SIZE = 20;

/**
 * The server reads at most this many results of one search (MAX_QUERY_WINDOW in
 * src/core/store/point-validation.ts), so the last page starts PAGE_SIZE before it.
 */
const MAX_QUERY_WINDOW = 10_000;
/** The largest offset an address may ask for: the last whole page the server can answer. */
export const MAX_OFFSET = MAX_QUERY_WINDOW - PAGE_SIZE;

/** The server refuses a longer template (MAX_SEARCH_TEMPLATE_CHARS in src/core/text/prompt-templates.ts). */
export const MAX_TEMPLATE_CHARS = 200;
/** Where the description goes in a template. */
const PLACEHOLDER = '{}';

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
  const offset = pageOffset(params.get('offset'));
  const qidParam = params.get('qid');
  const qid = qidParam !== null && UUID.test(qidParam) ? qidParam : undefined;
  const tuning: Tuning = {};
  const min = params.get('min');
  if (min !== null && min !== '' && Number.isFinite(Number(min)) && Number(min) >= 0 && Number(min) <= 1) tuning.minScore = Number(min);
  const template = params.get('tpl');
  if (template !== null && usableTemplate(template)) tuning.template = template.trim();
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

/** An address's offset as the start of a page the server can answer: 0 for nonsense, else in 0..MAX_OFFSET and a multiple of PAGE_SIZE. */
function pageOffset(typed: string | null): number {
  const offset = Number(typed ?? 0);
  if (!Number.isFinite(offset) || offset <= 0) return 0;
  return Math.min(MAX_OFFSET, Math.floor(offset / PAGE_SIZE) * PAGE_SIZE);
}

/** Whether a template is one the server takes: {} exactly once, at most MAX_TEMPLATE_CHARS characters. */
function usableTemplate(typed: string): boolean {
  const template = typed.trim();
  return template.split(PLACEHOLDER).length === 2 && Array.from(template).length <= MAX_TEMPLATE_CHARS;
}
