// Cleans what a person typed into a search query: control characters dropped, trimmed, whitespace
// collapsed, never empty. Runs before prompt templates and tokenisation, so "  red\n\n car " and
// "red car" are one query. It only does what CLIP's reference clean-up (clip-text-clean.ts, run
// by the tokenizer) would do anyway, so the model sees the same ids with or without it; HTML
// entities are left to that clean-up, which decodes them as the reference does, exactly once
// more than any transport (Slack's &amp;, &lt;, &gt;) already did.
import { InvalidQueryError } from '../errors.js';
import { ANSI_ESCAPE, FTFY_CONTROL_CHARACTERS } from './clip-text-clean.js';

/** Whitespace runs. Controls that are whitespace to Python but removed by ftfy are gone by then. */
const WHITESPACE = /\s+/gu;
/** Text made only of invisible format characters (zero-width space, joiners) says nothing. */
const INVISIBLE_ONLY = /^\p{Cf}*$/u;

/**
 * Drops terminal escapes ("\x1b[31m") and the control characters ftfy removes (NUL, BEL, ESC,
 * DEL, the byte-order mark, ...): deleted, not spaced, as the reference deletes them. C1 controls
 * (U+0080-U+009F) stay for the tokenizer, which reads them as Windows-1252 like ftfy.
 */
export function dropControlCharacters(text: string): string {
  return text.replace(ANSI_ESCAPE, '').replace(FTFY_CONTROL_CHARACTERS, '');
}

/** Control characters dropped, any run of whitespace made one space, the ends trimmed. */
export function collapseWhitespace(text: string): string {
  return dropControlCharacters(text).replace(WHITESPACE, ' ').trim();
}

/**
 * Returns the query with control characters dropped, trimmed, whitespace runs collapsed to
 * single spaces. Throws InvalidQueryError when nothing visible is left.
 */
export function normalizeQuery(text: string): string {
  const query = collapseWhitespace(text);
  if (INVISIBLE_ONLY.test(query)) {
    throw new InvalidQueryError(
      'The search query is empty. Describe the image you are looking for, for example "a red bicycle".',
    );
  }
  return query;
}
