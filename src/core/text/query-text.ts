// Cleans what a person typed into a search query: trimmed, whitespace collapsed, never empty.
// Runs before prompt templates and tokenisation, so "  red\n\n car " and "red car" are one query.
import { InvalidQueryError } from '../errors.js';

/** Whitespace and control characters (NUL, escape, ...): none of them describes an image. */
const SPACE_OR_CONTROL = /[\s\p{Cc}]+/gu;
/** Text made only of invisible format characters (zero-width space, joiners) says nothing. */
const INVISIBLE_ONLY = /^\p{Cf}*$/u;

/** Any run of whitespace or control characters becomes one space; the ends are trimmed. */
export function collapseWhitespace(text: string): string {
  return text.replace(SPACE_OR_CONTROL, ' ').trim();
}

/**
 * Returns the query trimmed, with whitespace runs collapsed to single spaces.
 * Throws InvalidQueryError when nothing visible is left.
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
