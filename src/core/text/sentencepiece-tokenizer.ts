// Turns a line of text into one row of SentencePiece token ids for a SigLIP-family text tower:
// the text's pieces, end-of-text, then padding to exactly contextLength ids (SigLIP was trained
// on rows padded to the maximum length, 64). There is no start-of-text token. With `canonicalize`
// the text is first lowercased and stripped of ASCII punctuation, as transformers'
// SiglipTokenizer does before SentencePiece (the hub's tokenizer.json leaves that out).
import { cutText, loadTokenizerJson, requireSpecialTokens, vocabularyId, vocabularyIdRange, type HfTokenizer } from './tokenizer-json.js';
import type { QueryTokenizer } from '../embedding/clip-embedder.js';
import { ModelError } from '../errors.js';
import type { TextPreprocessing } from '../models/model-spec.js';
import { MAX_TOKENIZED_CHARS } from './clip-tokenizer.js';
import { pythonWhitespaceClean } from './python-whitespace.js';

/** Python's string.punctuation, which SiglipTokenizer.canonicalize_text removes. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** Text that must give at least one piece when the file loads. */
const PROBE_TEXT = 'a photo of a cat';

/**
 * SigLIP's text clean-up (SiglipTokenizer.canonicalize_text): lowercase, no ASCII punctuation,
 * runs of whitespace to one space, trimmed, with Python's whitespace (python-whitespace.ts), not
 * JavaScript's.
 */
export function canonicalizeSiglipText(text: string): string {
  return pythonWhitespaceClean(text.toLowerCase().replace(ASCII_PUNCTUATION, ''));
}

/** A SentencePiece (Unigram) tokenizer from a tokenizer.json, producing fixed-length rows. */
export class SentencePieceTokenizer implements QueryTokenizer {
  /** Ids per row: content, end-of-text, then padding. */
  readonly contextLength: number;
  readonly #tokenizer: HfTokenizer;
  readonly #text: TextPreprocessing;
  readonly #idRange: number;

  private constructor(tokenizer: HfTokenizer, text: TextPreprocessing) {
    this.#tokenizer = tokenizer;
    this.#text = text;
    this.contextLength = text.contextLength;
    this.#idRange = vocabularyIdRange(tokenizer);
  }

  /**
   * Loads a tokenizer.json and checks it against the model's text settings: the end and padding
   * ids exist and plain English gives pieces. Throws ModelError ("model_missing" when the file is
   * absent, "model_load_failed" when it is not a usable tokenizer).
   */
  static async fromFile(path: string, text: TextPreprocessing): Promise<SentencePieceTokenizer> {
    if (!Number.isInteger(text.contextLength) || text.contextLength < 1) {
      throw new ModelError(
        'model_load_failed',
        `The model's context length ${text.contextLength} cannot hold the end-of-text token.`,
        { details: { contextLength: text.contextLength } },
      );
    }
    const tokenizer = await loadTokenizerJson(path);
    const result = new SentencePieceTokenizer(tokenizer, text);
    result.#check(path);
    return result;
  }

  /**
   * Returns exactly contextLength ids: the text's pieces (at most contextLength - 1), eosId, then
   * padId. End-of-text or padding pieces typed into the text are dropped, so they cannot end the
   * row early.
   */
  encode(text: string): BigInt64Array {
    const { contextLength, eosId, padId } = this.#text;
    const cleaned = this.#text.canonicalize === true ? canonicalizeSiglipText(text) : text;
    const cut = cutText(cleaned, MAX_TOKENIZED_CHARS);
    const ids = this.#tokenizer
      .encode(cut, { add_special_tokens: false })
      .ids.filter((id) => id !== eosId && id !== padId);
    const content = ids.slice(0, contextLength - 1);
    const row = new BigInt64Array(contextLength).fill(BigInt(padId));
    content.forEach((id, i) => {
      row[i] = BigInt(vocabularyId(id, this.#idRange));
    });
    row[content.length] = BigInt(eosId);
    return row;
  }

  #check(path: string): void {
    const { eosId, padId } = this.#text;
    requireSpecialTokens(this.#tokenizer, path, [
      ['end-of-text', eosId],
      ['padding', padId],
    ]);
    try {
      const row = this.encode(PROBE_TEXT);
      if (row[0] === BigInt(eosId)) throw new Error(`"${PROBE_TEXT}" gave no pieces`);
    } catch (error) {
      throw new ModelError(
        'model_load_failed',
        `The tokenizer file ${path} cannot encode text: ${(error as Error).message}. Download the model again.`,
        { cause: error, details: { path } },
      );
    }
  }
}
