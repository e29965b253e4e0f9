// Reads a model's tokenizer.json into @huggingface/tokenizers, with errors a user can act on:
// every family's tokenizer (CLIP's BPE, SigLIP's SentencePiece) starts from this file.
import { readFile } from 'node:fs/promises';
import { ModelError } from '../errors.js';

/**
 * The part of @huggingface/tokenizers' Tokenizer used here. The package's .d.ts files import
 * each other without ".js", which NodeNext cannot resolve, so its `Tokenizer` type is `any`;
 * this interface gives the calls real types.
 */
export interface HfTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens: boolean): Map<string, number>;
}

/** What the query tokenizers call: the ids of a text, and the token of an id. */
export type TokenEncoder = Pick<HfTokenizer, 'encode' | 'id_to_token'>;

/**
 * Reads the tokenizer.json at `path`. Throws ModelError `model_missing` when the file is absent
 * and `model_load_failed` when it cannot be read.
 */
export async function readTokenizerFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelError(
      missing ? 'model_missing' : 'model_load_failed',
      missing
        ? `The tokenizer file ${path} does not exist. Download the model again, or point FINDIMAGE_MODEL_DIR at a folder that holds tokenizer.json.`
        : `The tokenizer file ${path} could not be read: ${(error as Error).message}`,
      { cause: error, details: { path } },
    );
  }
}

/**
 * Parses a tokenizer.json's bytes (read from `path`) into @huggingface/tokenizers, and gives the
 * parsed JSON beside it. The package is imported here, on first use: a search whose tokenizer
 * comes from the cache (tokenizer-cache.ts) never loads it. Throws ModelError
 * `model_load_failed` when the bytes are not a tokenizer.json.
 */
export async function parseTokenizerJson(path: string, source: Buffer): Promise<{ json: object; tokenizer: HfTokenizer }> {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  try {
    const json = JSON.parse(source.toString('utf8')) as object;
    return { json, tokenizer: new Tokenizer(json, {}) as HfTokenizer };
  } catch (error) {
    throw new ModelError(
      'model_load_failed',
      `The tokenizer file ${path} is not a valid tokenizer.json (${(error as Error).message}). Download the model again.`,
      { cause: error, details: { path } },
    );
  }
}

/**
 * Loads the tokenizer.json at `path`. Throws ModelError `model_missing` when the file is absent
 * and `model_load_failed` when it cannot be read or is not a tokenizer.json.
 */
export async function loadTokenizerJson(path: string): Promise<HfTokenizer> {
  return (await parseTokenizerJson(path, await readTokenizerFile(path))).tokenizer;
}

/**
 * How many ids the tokenizer's vocabulary spans: one more than its largest id. This, not the
 * count of distinct pieces, is the bound: a vocabulary may hold a piece twice (each copy keeps its
 * own id, and the model its own embedding row), and get_vocab's map keeps only one of them, so
 * counting pieces would refuse the last ids (tiny-siglip's "9" was id 137 of 138).
 */
export function vocabularyIdRange(tokenizer: HfTokenizer): number {
  let largest = -1;
  for (const id of tokenizer.get_vocab(true).values()) largest = Math.max(largest, id);
  return largest + 1;
}

/**
 * `id` as a vocabulary index, or a ModelError: a tokenizer that yields ids outside its own
 * vocabulary (0 to idRange - 1, see vocabularyIdRange) would feed the model garbage.
 */
export function vocabularyId(id: unknown, idRange: number): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= idRange) {
    throw new ModelError(
      'model_load_failed',
      `The tokenizer produced the id ${String(id)}, which is not in its vocabulary of ids 0 to ${idRange - 1}. Download the model again.`,
      { details: { id: String(id) } },
    );
  }
  return id;
}

/** Throws a ModelError naming the first of `tokens` (name, id) that `tokenizer` lacks. */
export function requireSpecialTokens(
  tokenizer: TokenEncoder,
  path: string,
  tokens: ReadonlyArray<readonly [name: string, id: number]>,
): void {
  for (const [name, id] of tokens) {
    if (tokenizer.id_to_token(id) === undefined) {
      throw new ModelError(
        'model_load_failed',
        `The tokenizer file ${path} has no ${name} token with id ${id}; it does not belong to this model. Download the model again.`,
        { details: { path, token: name, id } },
      );
    }
  }
}

/** Cuts `text` to at most `max` UTF-16 code units without splitting a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  const isHighSurrogate = last >= 0xd800 && last <= 0xdbff;
  return text.slice(0, isHighSurrogate ? max - 1 : max);
}
