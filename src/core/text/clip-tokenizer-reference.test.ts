// ClipTokenizer against CLIP's reference tokenizer: ~200 queries as people type them (curly
// quotes, full-width forms, ligatures, HTML entities, control characters, many scripts) with the
// ids open_clip's SimpleTokenizer gives, committed in test/fixtures/clip-tokenizer by
// scripts/clip-text-reference.py. Python never runs here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidQueryError } from '../errors.js';
import type { TextPreprocessing } from '../models/model-spec.js';
import { ClipTokenizer } from './clip-tokenizer.js';
import { PromptTemplates } from './prompt-templates.js';
import { normalizeClipQuery } from './query-text.js';

const TOKENIZER_JSON = fileURLToPath(new URL('../../../models/tiny-test/tokenizer.json', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clip-tokenizer/reference-ids.json', import.meta.url));
/** Padding with 0, as the reference does, so the row's content ends where the 0s start. */
const ZERO_PADDED: TextPreprocessing = { contextLength: 77, bosId: 49406, eosId: 49407, padId: 0 };

interface ReferenceCase {
  /** The query as typed. */
  text: string;
  /** The reference's 77-id row for the query, trailing padding left off. */
  ids: number[];
  /** The same for the query inside the prompt template. */
  promptIds: number[];
}

interface ReferenceFixture {
  promptTemplate: string;
  cases: ReferenceCase[];
}

/** The fixture's queries that normalizeClipQuery refuses: empty, blank, controls, zero-width spaces. */
const REFUSED = ['', '   ', '\u0000\u0007', '\u200b\u200b'];

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as ReferenceFixture;

/** The row without its trailing padding (the reference's ids never end in 0: the end id is last). */
function content(row: BigInt64Array): number[] {
  const ids = Array.from(row, Number);
  let end = ids.length;
  while (end > 0 && ids[end - 1] === 0) end--;
  return ids.slice(0, end);
}

let tokenizer: ClipTokenizer;
let templates: PromptTemplates;

beforeAll(async () => {
  tokenizer = await ClipTokenizer.fromFile(TOKENIZER_JSON, ZERO_PADDED);
  templates = new PromptTemplates([fixture.promptTemplate], normalizeClipQuery);
});

describe('ClipTokenizer against the reference tokenizer', () => {
  it('has the ~200 committed queries', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(190);
  });

  it.each(fixture.cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))(
    'gives the reference ids for %s',
    (_name, reference) => {
      expect(content(tokenizer.encode(reference.text))).toEqual(reference.ids);
    },
  );

  it.each(fixture.cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))(
    'gives the reference ids for %s inside the prompt template, after query clean-up',
    (_name, reference) => {
      let prompt: string;
      try {
        [prompt] = templates.expand(reference.text) as [string];
      } catch (error) {
        // Refused before the template: the reference would embed an empty or invisible query.
        expect(error).toBeInstanceOf(InvalidQueryError);
        expect(REFUSED).toContain(reference.text);
        return;
      }
      expect(content(tokenizer.encode(prompt))).toEqual(reference.promptIds);
    },
  );

  it('refuses only the queries with nothing visible in them', () => {
    const refused = fixture.cases
      .map((c) => c.text)
      .filter((text) => {
        try {
          templates.expand(text);
          return false;
        } catch {
          return true;
        }
      });
    expect(refused).toEqual(REFUSED);
  });
});
