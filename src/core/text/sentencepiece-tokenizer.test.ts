// SigLIP's SentencePiece rows, checked against ids looked up by hand in the tokenizer.json that
// ships with tiny-siglip (not through the tokenizer library): pieces, </s> (1), then </s> padding
// to 64, lowercase and no punctuation, truncation that keeps the end-of-text id.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import type { TextPreprocessing } from '../models/model-spec.js';
import { SentencePieceTokenizer, canonicalizeSiglipText } from './sentencepiece-tokenizer.js';

const TOKENIZER_JSON = fileURLToPath(new URL('../../../models/tiny-siglip/tokenizer.json', import.meta.url));
const SIGLIP_TEXT: TextPreprocessing = { contextLength: 64, eosId: 1, padId: 1, canonicalize: true };
const EOS = 1;

/** Piece -> id, read straight from the file's Unigram vocabulary (its row number). */
const vocab = new Map<string, number>(
  (JSON.parse(readFileSync(TOKENIZER_JSON, 'utf8')) as { model: { vocab: Array<[string, number]> } }).model.vocab.map(
    ([piece], id) => [piece, id],
  ),
);
const id = (piece: string): number => {
  const found = vocab.get(piece);
  if (found === undefined) throw new Error(`no piece ${piece}`);
  return found;
};

function row(pieces: string[], length = 64): bigint[] {
  const ids = [...pieces.map(id), EOS];
  while (ids.length < length) ids.push(EOS);
  return ids.map(BigInt);
}

let tokenizer: SentencePieceTokenizer;
beforeAll(async () => {
  tokenizer = await SentencePieceTokenizer.fromFile(TOKENIZER_JSON, SIGLIP_TEXT);
});

describe('SentencePieceTokenizer (SigLIP)', () => {
  it('gives the pieces, then </s>, then </s> padding to 64, with no start token', () => {
    expect([...tokenizer.encode('a photo of a cat')]).toEqual(row(['▁a', '▁photo', '▁of', '▁a', '▁cat']));
    expect(id('▁a')).toBe(3);
    expect(id('▁cat')).toBe(15);
  });

  it('lowercases, drops ASCII punctuation and collapses spaces first, as SiglipTokenizer does', () => {
    expect(canonicalizeSiglipText('  A Photo, of "A" CAT!  ')).toBe('a photo of a cat');
    expect([...tokenizer.encode('  A Photo, of "A" CAT!  ')]).toEqual(row(['▁a', '▁photo', '▁of', '▁a', '▁cat']));
  });

  it('spells unknown words with smaller pieces and keeps CJK pieces', () => {
    expect([...tokenizer.encode('zebra')]).toEqual(row(['▁z', 'e', 'b', 'r', 'a']));
    expect([...tokenizer.encode('猫の写真')]).toEqual(row(['▁', '猫', 'の', '写真']));
  });

  it('cannot be ended early by a typed </s>: punctuation goes, and any end or pad id typed is dropped', () => {
    expect([...tokenizer.encode('</s> cat')]).toEqual(row(['▁s', '▁cat']));
    const raw = { ...SIGLIP_TEXT, canonicalize: false };
    return SentencePieceTokenizer.fromFile(TOKENIZER_JSON, raw).then((plain) => {
      expect([...plain.encode('</s> cat')]).toEqual(row(['▁cat']));
    });
  });

  it('spells digits, "9" included, the last piece of the vocabulary', () => {
    const pieces = (JSON.parse(readFileSync(TOKENIZER_JSON, 'utf8')) as { model: { vocab: Array<[string, number]> } }).model.vocab;
    expect(id('9')).toBe(pieces.length - 1);
    expect(new Set(pieces.map(([piece]) => piece)).size).toBe(pieces.length);
    expect([...tokenizer.encode('9 cats in 2019')]).toEqual(
      row(['▁9', '▁cats', '▁in', '▁2', '0', '1', '9']),
    );
  });

  it('truncates long text to 63 pieces and still ends with </s>', () => {
    const encoded = [...tokenizer.encode('cat '.repeat(100))];
    expect(encoded).toHaveLength(64);
    expect(encoded.slice(0, 63)).toEqual(Array(63).fill(BigInt(id('▁cat'))));
    expect(encoded[63]).toBe(BigInt(EOS));
  });

  it('refuses a tokenizer without the end-of-text id the model names', async () => {
    const error = await SentencePieceTokenizer.fromFile(TOKENIZER_JSON, { ...SIGLIP_TEXT, eosId: 99_999 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toContain('has no end-of-text token with id 99999');
  });
});
