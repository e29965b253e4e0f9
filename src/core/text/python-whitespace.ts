// Python's notion of whitespace, for the text clean-ups that reference tokenizers run in Python:
// CLIP's whitespace_clean (" ".join(text.split())) and SigLIP's canonicalize_text
// (re.sub(r"\s+", " ", text).strip()) both treat exactly str.isspace()'s characters as spaces.
// JavaScript's \s differs: it misses U+001C-U+001F and U+0085 and adds U+FEFF, which changed the
// ids of 6 of 396 SigLIP queries.

/** Python's str.isspace() characters: Unicode White_Space plus the separators U+001C-U+001F. */
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;
const PYTHON_WHITESPACE_AT_ENDS = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu;

/**
 * Python's `" ".join(text.split())`, which is also `re.sub(r"\s+", " ", text).strip()`: every run
 * of Python whitespace becomes one space, none is left at either end.
 */
export function pythonWhitespaceClean(text: string): string {
  return text.replace(PYTHON_WHITESPACE, ' ').replace(PYTHON_WHITESPACE_AT_ENDS, '');
}
