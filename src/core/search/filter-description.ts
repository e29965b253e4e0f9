// The filters of a text search, said back to the user in one line ("Filters: in #design · from
// @ana · from 2026-01-01 · until 2026-01-31 · not like “cats”"). Which filters are described and
// how is the same on every platform; each chat adapter passes only its mention syntax and how
// it escapes text the user typed.
import { MAX_QUERY_TEXT_CHARS } from './query-syntax.js';
import type { SearchFilters } from './search-service.js';

/** How one platform writes the parts of the description that are ids or user text. */
export interface FilterWording {
  /** A conversation id as the platform shows it (a channel mention). */
  conversation(id: string): string;
  /** A user id as the platform shows it (a user mention that does not notify). */
  user(id: string): string;
  /** Text the user typed, escaped for the platform's markup and cut to `maxChars`. */
  userText(text: string, maxChars: number): string;
}

/** Characters of a "not like" term shown; the whole term is in the query the user typed. */
export const SHOWN_TERM_CHARS = 50;

/** The day an instant falls on, as YYYY-MM-DD (UTC, like the dates the user types). */
function day(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** The filters in words: one "Filters: ..." line, or no line when nothing narrows the search. */
export function describeFilters(filters: SearchFilters, negativeTerms: readonly string[], wording: FilterWording): string[] {
  const parts: string[] = [];
  if (filters.channels !== undefined) parts.push(`in ${filters.channels.map((c) => wording.conversation(c)).join(', ')}`);
  if (filters.uploaders !== undefined) parts.push(`from ${filters.uploaders.map((u) => wording.user(u)).join(', ')}`);
  if (filters.after !== undefined) parts.push(`from ${day(filters.after)}`);
  // `before` is exclusive (the instant after the last day), so the last day shown is the one before it.
  if (filters.before !== undefined) parts.push(`until ${day(new Date(filters.before.getTime() - 1))}`);
  if (negativeTerms.length > 0) parts.push(`not like ${negativeTerms.map((t) => `“${wording.userText(t, SHOWN_TERM_CHARS)}”`).join(', ')}`);
  return parts.length === 0 ? [] : [`Filters: ${parts.join(' · ')}`];
}

/** What queryNotes reads of a search (a QueryRecord fits). */
export interface NotedQuery {
  /** "text" for a description; image searches have no filters to tell. */
  kind: string;
  /** The filters the search ran with. */
  filters: SearchFilters;
  /** The "not like" terms. */
  negativeTerms: readonly string[];
}

/**
 * The notes a chat preview shows under its heading, the same on every platform: a text
 * search's filters in words, and, when `truncated`, that the description was cut.
 */
export function queryNotes(query: NotedQuery, wording: FilterWording, truncated = false): string[] {
  const notes = query.kind === 'text' ? describeFilters(query.filters, query.negativeTerms, wording) : [];
  if (truncated) notes.push(`Your description was shortened to its first ${MAX_QUERY_TEXT_CHARS} characters.`);
  return notes;
}
