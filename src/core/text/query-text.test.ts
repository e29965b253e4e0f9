// Query clean-up per model family: what reaches the prompt templates and the tokenizer.
import { describe, expect, it } from 'vitest';
import { InvalidQueryError } from '../errors.js';
import { collapseWhitespace, normalizeClipQuery, normalizeSiglipQuery, type QueryNormalizer } from './query-text.js';

function refusal(text: string, normalize: QueryNormalizer = normalizeClipQuery): unknown {
  try {
    normalize(text);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('normalizeClipQuery', () => {
  it('trims the query and collapses tabs, newlines and no-break spaces to single spaces', () => {
    expect(normalizeClipQuery('  red \t\n\n  car\u00a0\u00a0 at night  ')).toBe('red car at night');
  });

  it('drops control characters, as CLIP\'s reference clean-up (ftfy) deletes them', () => {
    expect(normalizeClipQuery('red\u0000car\u001b')).toBe('redcar');
    expect(normalizeClipQuery('red\u0007 car\u007f\ufeff')).toBe('red car');
  });

  it('drops terminal colour escapes whole, not only their escape character', () => {
    expect(normalizeClipQuery('\u001b[31mred\u001b[0m car')).toBe('red car');
  });

  it('collapses the separators U+001C-U+001F and vertical tab away, as ftfy removes them', () => {
    expect(normalizeClipQuery('red\u001ccar\u000b')).toBe('redcar');
  });

  it('keeps C1 controls for the tokenizer, which reads them as Windows-1252 like ftfy', () => {
    expect(normalizeClipQuery('next\u0085line')).toBe('next\u0085line');
  });

  it('leaves HTML entities alone: the tokenizer decodes them as the reference does', () => {
    expect(normalizeClipQuery('R&amp;D &lt;team&gt;')).toBe('R&amp;D &lt;team&gt;');
  });

  it('keeps emoji sequences joined by zero-width joiners intact', () => {
    expect(normalizeClipQuery(' 👨‍👩‍👧 family ')).toBe('👨‍👩‍👧 family');
  });

  it('keeps letters of every script and their case (the tokenizer lowercases)', () => {
    expect(normalizeClipQuery('東京タワー  at Dusk')).toBe('東京タワー at Dusk');
  });

  for (const [name, text] of [
    ['an empty query', ''],
    ['a whitespace-only query', ' \n\t\u00a0 '],
    ['a query of zero-width spaces', '\u200b\u200b'],
    ['a query of control characters', '\u0000\u0007'],
  ] as const) {
    it(`refuses ${name} with a message that says what to type`, () => {
      const error = refusal(text);
      expect(error).toBeInstanceOf(InvalidQueryError);
      expect((error as InvalidQueryError).code).toBe('query_invalid');
      expect((error as InvalidQueryError).message).toBe(
        'The search query is empty. Describe the image you are looking for, for example "a red bicycle".',
      );
    });
  }
});

describe('normalizeSiglipQuery', () => {
  it('collapses runs of Python whitespace, U+001C-U+001F and U+0085 included, as SiglipTokenizer does', () => {
    expect(normalizeSiglipQuery('  red \t\n\n  car\u00a0\u00a0 at night  ')).toBe('red car at night');
    expect(normalizeSiglipQuery('red\u001ccar\u001d\u001e\u001fnow\u0085then')).toBe('red car now then');
  });

  it('keeps the byte-order mark, which is not whitespace to Python (JavaScript\'s \\s says it is)', () => {
    expect(normalizeSiglipQuery('red \ufeff car')).toBe('red \ufeff car');
    expect(normalizeSiglipQuery('\ufeffcat')).toBe('\ufeffcat');
  });

  it('drops no control character: SiglipTokenizer runs no ftfy', () => {
    expect(normalizeSiglipQuery('red\u0000car\u0007')).toBe('red\u0000car\u0007');
    expect(normalizeSiglipQuery('\u001b[31mred\u001b[0m car')).toBe('\u001b[31mred\u001b[0m car');
  });

  it('leaves case, punctuation and HTML entities to the tokenizer\'s own clean-up', () => {
    expect(normalizeSiglipQuery('R&amp;D  Team!')).toBe('R&amp;D Team!');
  });

  for (const [name, text] of [
    ['an empty query', ''],
    ['a query of Python whitespace', ' \u001c\u0085\u3000 '],
    ['a query of byte-order marks and zero-width spaces', '\ufeff\u200b'],
    ['a query of control characters', '\u0000\u0007\u0080'],
  ] as const) {
    it(`refuses ${name}`, () => {
      expect(refusal(text, normalizeSiglipQuery)).toBeInstanceOf(InvalidQueryError);
    });
  }
});

describe('collapseWhitespace', () => {
  it('returns an empty string for whitespace without failing', () => {
    expect(collapseWhitespace(' \n ')).toBe('');
  });
});
