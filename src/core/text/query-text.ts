// Cleans what a person typed into a search query before prompt templates and tokenisation, per
// model family, so "  red\n\n car " and "red car" are one query; never empty. Each family's
// clean-up only does what that family's reference tokenizer does anyway, so the model sees the
// same ids with or without it:
// - CLIP (normalizeClipQuery): control characters dropped as ftfy drops them, whitespace collapsed.
//   HTML entities are left to CLIP's clean-up (clip-text-clean.ts, run by the tokenizer), which
//   decodes them as the reference does, exactly once more than any transport (Slack's &amp;,
//   &lt;, &gt;) already did.
// - SigLIP (normalizeSiglipQuery): SiglipTokenizer runs no ftfy, so nothing is dropped; only runs
//   of Python whitespace (U+001C-U+001F and U+0085 included, U+FEFF not) become one space.
import { InvalidQueryError } from '../errors.js';
import { ANSI_ESCAPE, FTFY_CONTROL_CHARACTERS } from './clip-text-clean.js';
import { pythonWhitespaceClean } from './python-whitespace.js';

/** A family's query clean-up: returns the cleaned query, or throws InvalidQueryError when empty. */
export type QueryNormalizer = (text: string) => string;

/** Whitespace runs. Controls that are whitespace to Python but removed by ftfy are gone by then. */
const WHITESPACE = /\s+/gu;
/** Text made only of invisible format characters (zero-width space, joiners) says nothing. */
const INVISIBLE_ONLY = /^\p{Cf}*$/u;
/**
 * Text made only of control and format characters says nothing either. CLIP's clean-up reads C1
 * controls as Windows-1252 letters ("\x80" is "€"), so only SigLIP's refusal counts them.
 */
const CONTROLS_ONLY = /^[\p{Cc}\p{Cf}]*$/u;

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

function emptyQuery(): InvalidQueryError {
  return new InvalidQueryError(
    'The search query is empty. Describe the image you are looking for, for example "a red bicycle".',
  );
}

/**
 * CLIP's query clean-up: control characters dropped, trimmed, whitespace runs collapsed to single
 * spaces. Throws InvalidQueryError when nothing visible is left.
 */
export function normalizeClipQuery(text: string): string {
  const query = collapseWhitespace(text);
  if (INVISIBLE_ONLY.test(query)) throw emptyQuery();
  return query;
}

/**
 * SigLIP's query clean-up: runs of Python whitespace made one space, the ends trimmed, nothing
 * else touched (SiglipTokenizer keeps control characters and the byte-order mark, so findimage
 * does too). Throws InvalidQueryError when only control and format characters are left.
 */
export function normalizeSiglipQuery(text: string): string {
  const query = pythonWhitespaceClean(text);
  if (CONTROLS_ONLY.test(query)) throw emptyQuery();
  return query;
}
