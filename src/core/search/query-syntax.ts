// The search box's little language, shared by every front end: a description plus filters
// (in:, from:, before:, after:, on:) and negative terms (-word). Platform ids are resolved later.
import { InvalidQueryError, QuerySyntaxError, type QuerySpan } from '../errors.js';

/** A query split into what to embed, what to filter on and what to avoid. */
export interface ParsedQuery {
  /** The description to embed, filters and negative terms removed, whitespace collapsed. */
  text: string;
  /** Values of `in:` as typed (`#design`, `<#C123|design>`); the platform resolves them. */
  channelRefs: string[];
  /** Values of `from:` as typed (`@ana`, `<@U123>`); the platform resolves them. */
  userRefs: string[];
  /** Only images shared at or after this instant (from `after:` or `on:`). */
  after?: Date;
  /** Only images shared strictly before this instant (from `before:` or `on:`). */
  before?: Date;
  /** Words or quoted phrases the results should not look like (`-dog`, `-"red car"`). */
  negativeTerms: string[];
  /** True when the description was cut to MAX_QUERY_TEXT_CHARS. */
  truncated: boolean;
}

/**
 * Longest description kept. CLIP reads 77 tokens (about 300 characters of English), so more text
 * cannot change the result; the cap keeps stored queries and log lines small.
 */
export const MAX_QUERY_TEXT_CHARS = 500;
/** Each negative term costs one text embedding on the interactive lane (about 40 ms on CPU). */
export const MAX_NEGATIVE_TERMS = 5;
/** Filters of one kind; more is almost certainly a paste accident and each costs a lookup. */
export const MAX_REFS_PER_FILTER = 10;

const DAY_MS = 86_400_000;
/** A token is a `<...>` platform escape (possibly prefixed), a quoted negative, or a word. */
const TOKEN = /\S*<[^>]*>\S*|-"[^"]*"?|\S+/g;
const FILTER = /^(in|from|before|after|on):(.*)$/is;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses a query. Dates are whole UTC days and, as in Slack's own search, exclusive:
 * `after:2026-01-10` starts on the 11th, `before:2026-01-10` ends on the 9th, `on:` is that day.
 * Throws InvalidQueryError, with a message saying how to fix it, for a malformed filter, an
 * impossible date range, too many negative terms, or filters with no description.
 */
export function parseQuery(input: string): ParsedQuery {
  const words: string[] = [];
  const parsed: ParsedQuery = { text: '', channelRefs: [], userRefs: [], negativeTerms: [], truncated: false };
  // Where each limited kind of token was typed, so an error can point at the one too many.
  const spans: TokenSpans = { negative: [], in: [], from: [], date: [] };
  for (const match of input.matchAll(TOKEN)) {
    const token = match[0];
    const span = { start: match.index, end: match.index + token.length };
    const filter = FILTER.exec(token);
    if (filter !== null) {
      const key = (filter[1] ?? '').toLowerCase();
      try {
        applyFilter(parsed, key, filter[2] ?? '');
      } catch (error) {
        if (error instanceof InvalidQueryError) throw new QuerySyntaxError(error.message, span);
        throw error;
      }
      (key === 'in' ? spans.in : key === 'from' ? spans.from : spans.date).push(span);
    } else if (token.length > 1 && token.startsWith('-') && token[1] !== '-') {
      const term = token.slice(1).replace(/^"|"$/g, '').trim();
      if (term !== '') {
        parsed.negativeTerms.push(term);
        spans.negative.push(span);
      }
    } else {
      words.push(token);
    }
  }
  checkLimits(parsed, spans);
  const text = words.join(' ');
  const chars = Array.from(text);
  parsed.truncated = chars.length > MAX_QUERY_TEXT_CHARS;
  parsed.text = parsed.truncated ? chars.slice(0, MAX_QUERY_TEXT_CHARS).join('').trimEnd() : text;
  if (parsed.text === '') {
    throw new InvalidQueryError(
      hasFilters(parsed)
        ? 'Describe the image as well as filtering it, for example: a red car in:#design after:2026-01-01'
        : 'Describe the image you are looking for, for example: a whiteboard sketch of the login page',
    );
  }
  return parsed;
}

function applyFilter(parsed: ParsedQuery, key: string, value: string): void {
  if (value === '') throw new InvalidQueryError(`${key}: needs a value, for example ${example(key)}.`);
  switch (key) {
    case 'in':
      parsed.channelRefs.push(value);
      return;
    case 'from':
      parsed.userRefs.push(value);
      return;
    case 'before': {
      const day = parseDay(key, value);
      if (parsed.before === undefined || day < parsed.before) parsed.before = day;
      return;
    }
    case 'after': {
      const next = new Date(parseDay(key, value).getTime() + DAY_MS);
      if (parsed.after === undefined || next > parsed.after) parsed.after = next;
      return;
    }
    default: {
      const day = parseDay(key, value);
      const next = new Date(day.getTime() + DAY_MS);
      if (parsed.after === undefined || day > parsed.after) parsed.after = day;
      if (parsed.before === undefined || next < parsed.before) parsed.before = next;
    }
  }
}

function parseDay(key: string, value: string): Date {
  const match = ISO_DAY.exec(value);
  const day = match === null ? undefined : new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches days that do not exist.
  if (day === undefined || day.toISOString().slice(0, 10) !== value) {
    throw new InvalidQueryError(`${key}:${value} is not a date. Write dates as YYYY-MM-DD, for example ${example(key)}.`);
  }
  return day;
}

/** Where the tokens that limits count were typed, in order. */
interface TokenSpans {
  negative: QuerySpan[];
  in: QuerySpan[];
  from: QuerySpan[];
  /** before:, after: and on: */
  date: QuerySpan[];
}

/** A span covering the first to the last of `spans` (all of them are at fault together). */
function covering(spans: QuerySpan[]): QuerySpan {
  return { start: spans[0]?.start ?? 0, end: spans[spans.length - 1]?.end ?? 0 };
}

function checkLimits(parsed: ParsedQuery, spans: TokenSpans): void {
  if (parsed.after !== undefined && parsed.before !== undefined && parsed.after >= parsed.before) {
    throw new QuerySyntaxError('No day matches those dates: the after: date must come before the before: date.', covering(spans.date));
  }
  if (parsed.negativeTerms.length > MAX_NEGATIVE_TERMS) {
    throw new QuerySyntaxError(`Use at most ${MAX_NEGATIVE_TERMS} -terms in one search.`, covering(spans.negative.slice(MAX_NEGATIVE_TERMS)));
  }
  if (parsed.channelRefs.length > MAX_REFS_PER_FILTER || parsed.userRefs.length > MAX_REFS_PER_FILTER) {
    const extra = parsed.channelRefs.length > MAX_REFS_PER_FILTER ? spans.in : spans.from;
    throw new QuerySyntaxError(`Use at most ${MAX_REFS_PER_FILTER} in: and ${MAX_REFS_PER_FILTER} from: filters in one search.`, covering(extra.slice(MAX_REFS_PER_FILTER)));
  }
}

function hasFilters(parsed: ParsedQuery): boolean {
  return (
    parsed.channelRefs.length > 0 ||
    parsed.userRefs.length > 0 ||
    parsed.after !== undefined ||
    parsed.before !== undefined ||
    parsed.negativeTerms.length > 0
  );
}

function example(key: string): string {
  switch (key) {
    case 'in':
      return 'in:#design';
    case 'from':
      return 'from:@ana';
    default:
      return `${key}:2026-01-31`;
  }
}
