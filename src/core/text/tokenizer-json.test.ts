// What every family's tokenizer shares: long text is cut without splitting a character, and ids
// outside the vocabulary are refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutText, loadTokenizerJson, vocabularyId, vocabularyIdRange } from './tokenizer-json.js';

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
      expect(() => vocabularyId(bad, 10)).toThrow(/not in its vocabulary of ids 0 to 9/);
    }
  });
});

describe('vocabularyIdRange', () => {
  it('spans every id up to the largest, even when a piece is listed twice and so counted once', async () => {
    // A Unigram vocabulary whose piece "s" sits at ids 3 and 5: the tokenizer's piece map holds 5
    // entries, but the ids run 0 to 5, and the model has an embedding row for each.
    const vocab = [['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['s', -1], ['\u2581', -2], ['s', -3]];
    const json = {
      version: '1.0',
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
      post_processor: null,
      decoder: null,
      model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
    };
    const dir = await mkdtemp(join(tmpdir(), 'findimage-vocab-'));
    try {
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
      const tokenizer = await loadTokenizerJson(join(dir, 'tokenizer.json'));
      expect(tokenizer.get_vocab(true).size).toBe(5);
      expect(vocabularyIdRange(tokenizer)).toBe(6);
      expect(vocabularyId(5, vocabularyIdRange(tokenizer))).toBe(5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
