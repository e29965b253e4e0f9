// Python's whitespace, which CLIP's and SigLIP's reference clean-ups use, against JavaScript's.
import { describe, expect, it } from 'vitest';
import { pythonWhitespaceClean } from './python-whitespace.js';

describe('pythonWhitespaceClean', () => {
  it("treats what Python's str.split() treats as whitespace as whitespace", () => {
    expect(pythonWhitespaceClean('\u3000a\u001cb\u0085c\u00a0 d ')).toBe('a b c d');
  });

  it('counts U+001C-U+001F and U+0085 as spaces, which JavaScript does not', () => {
    expect(pythonWhitespaceClean('a\x1cb\x1dc\x1ed\x1fe\x85f')).toBe('a b c d e f');
  });

  it('keeps U+FEFF and U+200B, which Python does not count as spaces (JavaScript counts U+FEFF)', () => {
    expect(pythonWhitespaceClean('\ufeffcat dog\u200bcat')).toBe('\ufeffcat dog\u200bcat');
  });
});
