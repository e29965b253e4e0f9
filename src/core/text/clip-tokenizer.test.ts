// ClipTokenizer against the real CLIP vocabulary in models/tiny-test/tokenizer.json.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import type { TextPreprocessing } from '../models/model-spec.js';
import { ClipTokenizer, MAX_TOKENIZED_CHARS } from './clip-tokenizer.js';

const TOKENIZER_JSON = fileURLToPath(
  new URL('../../../models/tiny-test/tokenizer.json', import.meta.url),
);
const BOS = 49406;
const EOS = 49407;
/** CLIP ViT-B/32 as the Hugging Face tokenizer feeds it: padding with the end-of-text id. */
const CLIP_TEXT: TextPreprocessing = { contextLength: 77, bosId: BOS, eosId: EOS, padId: EOS };
/** Padding with 0 (as OpenAI's own code does) tells padding apart from the end-of-text id. */
const ZERO_PADDED: TextPreprocessing = { ...CLIP_TEXT, padId: 0 };
/** "a photo of a cat" in CLIP's vocabulary. */
const A_PHOTO_OF_A_CAT = [320, 1125, 539, 320, 2368];

function row(content: number[], text: TextPreprocessing = CLIP_TEXT): number[] {
  const ids = [text.bosId ?? BOS, ...content, text.eosId];
  while (ids.length < text.contextLength) ids.push(text.padId);
  return ids;
}

let clip: ClipTokenizer;
let zeroPadded: ClipTokenizer;

beforeAll(async () => {
  clip = await ClipTokenizer.fromFile(TOKENIZER_JSON, CLIP_TEXT);
  zeroPadded = await ClipTokenizer.fromFile(TOKENIZER_JSON, ZERO_PADDED);
});

describe('ClipTokenizer.encode', () => {
  it('gives CLIP\'s reference ids for "a photo of a cat", padded with 49407 to 77 ids', () => {
    const ids = clip.encode('a photo of a cat');
    expect(ids).toBeInstanceOf(BigInt64Array);
    expect(Array.from(ids, Number)).toEqual(row(A_PHOTO_OF_A_CAT));
    expect(clip.contextLength).toBe(77);
  });

  it('pads with the configured padding id after the end-of-text id', () => {
    const ids = Array.from(zeroPadded.encode('a photo of a cat'), Number);
    expect(ids.slice(0, 7)).toEqual([BOS, ...A_PHOTO_OF_A_CAT, EOS]);
    expect(ids.slice(7)).toEqual(new Array(70).fill(0));
  });

  it('lowercases and collapses whitespace like CLIP', () => {
    const ids = clip.encode('  A   PHOTO\n\tof a\u00a0CAT  ');
    expect(Array.from(ids, Number)).toEqual(row(A_PHOTO_OF_A_CAT));
  });

  it('truncates a 5,000-character query to exactly 77 ids whose last one is end-of-text', () => {
    const query = 'a photo of a cat '.repeat(300).slice(0, 5000);
    expect(query.length).toBe(5000);
    const ids = Array.from(zeroPadded.encode(query), Number);
    expect(ids).toHaveLength(77);
    // 75 content ids are 15 whole repetitions of the 5 ids of "a photo of a cat".
    const content = Array.from({ length: 15 }, () => A_PHOTO_OF_A_CAT).flat();
    expect(ids).toEqual([BOS, ...content, EOS]);
    expect(ids).not.toContain(0);
  });

  it('truncates to a shorter context and still ends with end-of-text', async () => {
    const short = await ClipTokenizer.fromFile(TOKENIZER_JSON, { ...ZERO_PADDED, contextLength: 8 });
    const ids = Array.from(short.encode('a photo of a cat on a sofa'), Number);
    expect(ids).toEqual([BOS, 320, 1125, 539, 320, 2368, 525, EOS]);
  });

  it('encodes a query cut at MAX_TOKENIZED_CHARS the same as the whole query', () => {
    const words = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(' ');
    expect(words.length).toBeGreaterThan(MAX_TOKENIZED_CHARS * 4);
    expect(Array.from(clip.encode(words), Number)).toEqual(
      Array.from(clip.encode(words.slice(0, MAX_TOKENIZED_CHARS)), Number),
    );
  });

  it('encodes a 1,000,000-character single-word query by cutting it first', () => {
    // Byte-pair encoding one 1,000,000-letter word would take seconds; only the first
    // MAX_TOKENIZED_CHARS characters are encoded, which the ids show. (Speed is for benches.)
    const word = 'supercalifragilistic'.repeat(50_000);
    const ids = clip.encode(word);
    expect(ids).toHaveLength(77);
    expect(Number(ids[76])).toBe(EOS);
    expect(Array.from(ids, Number)).toEqual(Array.from(clip.encode(word.slice(0, MAX_TOKENIZED_CHARS)), Number));
  });

  it('gives real CLIP ids for an emoji query', () => {
    const ids = Array.from(clip.encode('🐱 on a sofa'), Number);
    expect(ids.slice(0, 6)).toEqual([BOS, 22979, 525, 320, 15723, EOS]);
  });

  it('gives real CLIP ids for Japanese and Chinese queries', () => {
    expect(Array.from(clip.encode('猫の写真'), Number).slice(0, 9)).toEqual([
      BOS, 163, 234, 104, 21575, 44653, 33440, 509, EOS,
    ]);
    const tower = Array.from(clip.encode('東京タワー'), Number);
    expect(tower.slice(0, 9)).toEqual([BOS, 48338, 21078, 105, 34941, 2429, 107, 30391, EOS]);
  });

  it('tokenizes special tokens typed into the text as plain characters, so end-of-text only ends the content', () => {
    const typed = Array.from(zeroPadded.encode('a photo <|endoftext|> of a <|STARTOFTEXT|>cat'), Number);
    const content = typed.slice(1, typed.indexOf(EOS));
    expect(content).not.toContain(BOS);
    expect(content.length).toBeGreaterThan(A_PHOTO_OF_A_CAT.length);
    // "<|", "endoftext", "|>" as the reference splits them: the same ids wherever they appear.
    expect(Array.from(zeroPadded.encode('<|endoftext|>'), Number).slice(0, 5)).toEqual(
      Array.from(zeroPadded.encode('<| endoftext |>'), Number).slice(0, 5),
    );
  });

  it('encodes empty text as start and end of text without failing', () => {
    expect(Array.from(zeroPadded.encode(''), Number)).toEqual(row([], ZERO_PADDED));
  });

  it('gives different rows for different texts', () => {
    expect(Array.from(clip.encode('a photo of a dog'), Number)).toEqual(
      row([320, 1125, 539, 320, 1929]),
    );
  });
});

describe('ClipTokenizer.fromFile', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-tokenizer-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a missing file with model_missing and says how to fix it', async () => {
    const path = join(dir, 'absent.json');
    const error = await ClipTokenizer.fromFile(path, CLIP_TEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_missing');
    expect((error as ModelError).message).toContain(path);
    expect((error as ModelError).message).toContain('Download the model again');
  });

  it('refuses a file that is not JSON with model_load_failed', async () => {
    const path = join(dir, 'truncated.json');
    await writeFile(path, '{"version":"1.0","model":{"type":"BPE"');
    const error = await ClipTokenizer.fromFile(path, CLIP_TEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_load_failed');
  });

  it('refuses JSON that is not a tokenizer with model_load_failed', async () => {
    const path = join(dir, 'other.json');
    await writeFile(path, JSON.stringify({ hello: 'world' }));
    const error = await ClipTokenizer.fromFile(path, CLIP_TEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_load_failed');
  });

  it('refuses a tokenizer whose vocabulary lacks the model\'s start-of-text id', async () => {
    const error = await ClipTokenizer.fromFile(TOKENIZER_JSON, { ...CLIP_TEXT, bosId: 60_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_load_failed');
    expect((error as ModelError).message).toContain('start-of-text token with id 60000');
  });

  it('refuses a context too short to hold the start and end tokens', async () => {
    const error = await ClipTokenizer.fromFile(TOKENIZER_JSON, { ...CLIP_TEXT, contextLength: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_load_failed');
  });
});
