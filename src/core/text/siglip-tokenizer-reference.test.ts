// findimage's SigLIP rows against transformers' SiglipTokenizer, for queries holding the characters
// where Python's whitespace and JavaScript's differ (U+001C-U+001F and U+0085 are spaces to
// Python, U+FEFF is not). test/fixtures/siglip-tokenizer/reference-ids.json was written once by
// scripts/build-siglip-tokenizer-fixture.py over tiny-siglip's own vocabulary (no real SigLIP
// SentencePiece model can be had here): what is checked is the clean-up and the segmentation.
// The same queries also go through SigLIP's query clean-up first (normalizeSiglipQuery, what a
// search runs before the tokenizer), which must not change a single id; CLIP's would.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TextPreprocessing } from '../models/model-spec.js';
import { InvalidQueryError } from '../errors.js';
import { normalizeClipQuery, normalizeSiglipQuery } from './query-text.js';
import { SentencePieceTokenizer } from './sentencepiece-tokenizer.js';

const TOKENIZER_JSON = fileURLToPath(new URL('../../../models/tiny-siglip/tokenizer.json', import.meta.url));
const FIXTURE = new URL('../../../test/fixtures/siglip-tokenizer/reference-ids.json', import.meta.url);
const SIGLIP_TEXT: TextPreprocessing = { contextLength: 64, eosId: 1, padId: 1, canonicalize: true };

/** One query and the ids SiglipTokenizer gave it: its pieces, then </s>. */
interface ReferenceQuery {
  /** The query as typed. */
  text: string;
  /** SiglipTokenizer's input_ids, ending with </s> (1), unpadded. */
  ids: number[];
}

/** The query with every character outside printable ASCII written as \\uXXXX, for test names. */
function visible(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { queries: ReferenceQuery[] };
let tokenizer: SentencePieceTokenizer;

beforeAll(async () => {
  tokenizer = await SentencePieceTokenizer.fromFile(TOKENIZER_JSON, SIGLIP_TEXT);
});

describe('SentencePieceTokenizer against SiglipTokenizer (queries with Python-only whitespace)', () => {
  it('covers each character on which Python and JavaScript disagree', () => {
    const all = fixture.queries.map((query) => query.text).join('');
    for (const character of ['\x1c', '\x1d', '\x1e', '\x1f', '\x85', '\ufeff']) expect(all).toContain(character);
    // And the controls CLIP's clean-up deletes but SiglipTokenizer keeps.
    for (const character of ['\x00', '\x07', '\x1b', '\x7f', '\x80', '\x9f']) expect(all).toContain(character);
  });

  it.each(fixture.queries.map((query) => [visible(query.text), query] as const))(
    '"%s" gives the reference ids, then </s> padding to 64',
    (_name, query) => {
      const expected = [...query.ids];
      while (expected.length < 64) expected.push(SIGLIP_TEXT.padId);
      expect([...tokenizer.encode(query.text)].map(Number)).toEqual(expected);
    },
  );
});

/** The query's ids through a search's path: the family's clean-up, then the tokenizer; null when refused. */
function searchIds(text: string, normalize: (text: string) => string): number[] | null {
  let query: string;
  try {
    query = normalize(text);
  } catch (error) {
    if (error instanceof InvalidQueryError) return null;
    throw error;
  }
  return [...tokenizer.encode(query)].map(Number);
}

describe('a SigLIP search query against SiglipTokenizer (normalizeSiglipQuery, then the tokenizer)', () => {
  // Only invisible queries are refused (nothing to search for): here, a lone byte-order mark.
  const searchable = fixture.queries.filter((query) => {
    try {
      normalizeSiglipQuery(query.text);
      return true;
    } catch {
      return false;
    }
  });

  it('refuses only the queries with nothing visible in them', () => {
    expect(fixture.queries.filter((query) => !searchable.includes(query)).map((query) => query.text)).toEqual(['\ufeff']);
  });

  it.each(searchable.map((query) => [visible(query.text), query] as const))(
    '"%s" still gives the reference ids',
    (_name, query) => {
      const expected = [...query.ids];
      while (expected.length < 64) expected.push(SIGLIP_TEXT.padId);
      expect(searchIds(query.text, normalizeSiglipQuery)).toEqual(expected);
    },
  );

  it("differs from CLIP's clean-up, which would have changed the ids of these queries", () => {
    const changedByClip = searchable.filter((query) => {
      const ids = searchIds(query.text, normalizeClipQuery);
      return ids === null || ids.slice(0, query.ids.length).join() !== query.ids.join();
    });
    expect(changedByClip.length).toBeGreaterThanOrEqual(10);
  });
});
