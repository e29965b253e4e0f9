// What every family's tokenizer shares: long text is cut without splitting a character, and ids
// outside the vocabulary are refused.
import { describe, expect, it } from 'vitest';
import { cutText, vocabularyId } from './tokenizer-json.js';

describe('cutText', () => {
  it('keeps text within the limit as it is', () => {
    expect(cutText('a photo', 7)).toBe('a photo');
  });

  it('cuts at the limit', () => {
    expect(cutText('abcdef', 4)).toBe('abcd');
  });

  it('never leaves half of a surrogate pair', () => {
    // '🐱' is two code units; a cut between them would leave a lone high surrogate.
    expect(cutText('abc🐱', 4)).toBe('abc');
    expect(cutText('abc🐱d', 5)).toBe('abc🐱');
  });
});

describe('vocabularyId', () => {
  it('passes ids of the vocabulary and refuses others with a ModelError', () => {
    expect(vocabularyId(0, 10)).toBe(0);
    expect(vocabularyId(9, 10)).toBe(9);
    for (const bad of [10, -1, 1.5, '3', undefined]) {
      expect(() => vocabularyId(bad, 10)).toThrow(/not in its vocabulary of 10/);
    }
  });
});
