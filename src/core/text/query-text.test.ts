// Query clean-up: what reaches the prompt templates and the tokenizer.
import { describe, expect, it } from 'vitest';
import { InvalidQueryError } from '../errors.js';
import { collapseWhitespace, normalizeQuery } from './query-text.js';

function refusal(text: string): unknown {
  try {
    normalizeQuery(text);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('normalizeQuery', () => {
  it('trims the query and collapses tabs, newlines and no-break spaces to single spaces', () => {
    expect(normalizeQuery('  red \t\n\n  car\u00a0\u00a0 at night  ')).toBe('red car at night');
  });

  it('drops control characters, as CLIP\'s reference clean-up (ftfy) deletes them', () => {
    expect(normalizeQuery('red\u0000car\u001b')).toBe('redcar');
    expect(normalizeQuery('red\u0007 car\u007f\ufeff')).toBe('red car');
  });

  it('drops terminal colour escapes whole, not only their escape character', () => {
    expect(normalizeQuery('\u001b[31mred\u001b[0m car')).toBe('red car');
  });

  it('collapses the separators U+001C-U+001F and vertical tab away, as ftfy removes them', () => {
    expect(normalizeQuery('red\u001ccar\u000b')).toBe('redcar');
  });

  it('keeps C1 controls for the tokenizer, which reads them as Windows-1252 like ftfy', () => {
    expect(normalizeQuery('next\u0085line')).toBe('next\u0085line');
  });

  it('leaves HTML entities alone: the tokenizer decodes them as the reference does', () => {
    expect(normalizeQuery('R&amp;D &lt;team&gt;')).toBe('R&amp;D &lt;team&gt;');
  });

  it('keeps emoji sequences joined by zero-width joiners intact', () => {
    expect(normalizeQuery(' 👨‍👩‍👧 family ')).toBe('👨‍👩‍👧 family');
  });

  it('keeps letters of every script and their case (the tokenizer lowercases)', () => {
    expect(normalizeQuery('東京タワー  at Dusk')).toBe('東京タワー at Dusk');
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

describe('collapseWhitespace', () => {
  it('returns an empty string for whitespace without failing', () => {
    expect(collapseWhitespace(' \n ')).toBe('');
  });
});
