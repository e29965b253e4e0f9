// CLIP's byte-level BPE tokenizer in a compact binary form that loads without parsing: the
// tokenizer.json's vocabulary and merges as typed arrays over one buffer, searched in place.
// Parsing the 1.5 MB tokenizer.json into @huggingface/tokenizers took about 180 ms of every cold
// search (issue 18); this form is read from a cache file (tokenizer-cache.ts) in a few
// milliseconds and encodes a query with the same ids. Only the pipeline CLIP's tokenizer.json
// uses is supported (its normalizer, pre-tokenizer and BPE settings, checked one by one); any
// other tokenizer keeps the parsed tokenizer.json.
import { crc32 } from 'node:zlib';

/** Bumped whenever the layout below changes: a file of another version is never read. */
export const COMPACT_BPE_FORMAT_VERSION = 1;
/** The file's first bytes: "findimage BPE". */
const MAGIC = 0x50_42_49_46; // "FIBP" little-endian
/** magic, version, metadata length, checksum, then the source's sha256. */
const HEADER_BYTES = 16 + 32;
/** Byte values: each has a symbol of its own, and one with the end-of-word suffix. */
const BYTE_VALUES = 256;

/** CLIP's pre-tokenizer pattern in its tokenizer.json, the only one this form reproduces. */
const CLIP_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
/**
 * The same as @huggingface/tokenizers compiles it: Oniguruma's \s is Unicode White_Space (U+0085
 * is one, U+FEFF is not), where JavaScript's \s differs.
 */
const CLIP_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\p{White_Space}\p{L}\p{N}]+/gu;
/** CLIP's normalizer: NFC, runs of whitespace to one space, lowercase. */
const CLIP_NORMALIZER = {
  type: 'Sequence',
  normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
};
/** The normalizer's \s+, compiled the same way. */
const WHITESPACE_RUNS = /\p{White_Space}+/gu;

/** GPT-2's byte-to-character table, which ByteLevel pre-tokenizers use: printable bytes as themselves. */
const BYTE_CHARS: readonly string[] = (() => {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const chars: string[] = [];
  let next = 0;
  for (let b = 0; b < BYTE_VALUES; b++) chars.push(String.fromCodePoint(printable(b) ? b : BYTE_VALUES + next++));
  return chars;
})();

/** What is kept as JSON in the file: the small parts. */
interface CompactMeta {
  /** Ids of the tokenizer's added tokens, by their text (matched in normalized text). */
  addedTokens: Array<[content: string, id: number]>;
  /** One more than the largest id. */
  idRange: number;
  /** Merges in the table. */
  merges: number;
}

/** The parts of a tokenizer.json this form reads; anything else is checked to be absent or default. */
interface TokenizerJson {
  normalizer?: unknown;
  pre_tokenizer?: { type?: string; pretokenizers?: Array<Record<string, unknown>> };
  added_tokens?: Array<{ id: number; content: string; normalized?: boolean; lstrip?: boolean; rstrip?: boolean; single_word?: boolean }>;
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    merges?: Array<string | [string, string]>;
    end_of_word_suffix?: string | null;
    continuing_subword_suffix?: string | null;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
    dropout?: number | null;
  };
}

/** Deep equality of JSON values. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether `json` uses exactly CLIP's pipeline, which CompactBpe reproduces. */
function isClipPipeline(json: TokenizerJson): boolean {
  const model = json.model;
  const steps = json.pre_tokenizer?.pretokenizers;
  if (model?.type !== 'BPE' || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) return false;
  if (model.byte_fallback === true || model.ignore_merges === true || (model.dropout ?? null) !== null) return false;
  if ((model.continuing_subword_suffix ?? null) !== null) return false;
  if (!sameJson(json.normalizer, CLIP_NORMALIZER)) return false;
  if (json.pre_tokenizer?.type !== 'Sequence' || steps?.length !== 2) return false;
  const [split, byteLevel] = steps as [Record<string, unknown>, Record<string, unknown>];
  if (split.type !== 'Split' || !sameJson(split.pattern, { Regex: CLIP_SPLIT_PATTERN }) || split.invert !== true) return false;
  if (byteLevel.type !== 'ByteLevel' || byteLevel.use_regex !== false || byteLevel.add_prefix_space === true) return false;
  return (json.added_tokens ?? []).every((t) => t.normalized === true && t.lstrip !== true && t.rstrip !== true && t.single_word !== true);
}

/** Escapes `text` for a RegExp. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A CLIP BPE tokenizer over one buffer: the first-symbol table, the merges sorted by pair, and
 * the token strings (for id_to_token), all read in place.
 */
export class CompactBpe {
  /** One more than the largest id. */
  readonly idRange: number;
  readonly #meta: CompactMeta;
  /** [b] the id of byte b's symbol, [256 + b] with the end-of-word suffix. */
  readonly #firstSymbols: Int32Array;
  /** Each merge's pair as left * 2^21 + right (ids stay below 2^21), ascending. */
  readonly #pairKeys: Float64Array;
  /** For the merge at the same index: its rank (its line in the merges), then the merged id. */
  readonly #rankAndMerged: Int32Array;
  /** Where each id's token text starts in #text; id i spans offsets i to i + 1. */
  readonly #textOffsets: Uint32Array;
  readonly #text: Uint8Array;
  readonly #added: RegExp | undefined;
  readonly #addedIds: Map<string, number>;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();

  private constructor(bytes: Uint8Array, meta: CompactMeta, metaEnd: number) {
    this.#meta = meta;
    this.idRange = meta.idRange;
    const buffer = bytes.buffer as ArrayBuffer;
    let at = bytes.byteOffset + align(metaEnd, 8);
    this.#pairKeys = new Float64Array(buffer, at, meta.merges);
    at += this.#pairKeys.byteLength;
    this.#rankAndMerged = new Int32Array(buffer, at, meta.merges * 2);
    at += this.#rankAndMerged.byteLength;
    this.#firstSymbols = new Int32Array(buffer, at, BYTE_VALUES * 2);
    at += this.#firstSymbols.byteLength;
    this.#textOffsets = new Uint32Array(buffer, at, meta.idRange + 1);
    at += this.#textOffsets.byteLength - bytes.byteOffset;
    const textEnd = at + (this.#textOffsets[meta.idRange] as number);
    if (textEnd !== bytes.byteLength) throw new Error(`the file holds ${bytes.byteLength} bytes, its layout ${textEnd}`);
    this.#text = bytes.subarray(at, textEnd);
    this.#addedIds = new Map(meta.addedTokens);
    const longestFirst = meta.addedTokens.map(([content]) => content).sort((a, b) => b.length - a.length);
    this.#added = longestFirst.length === 0 ? undefined : new RegExp(`(${longestFirst.map(escapeRegExp).join('|')})`, 'u');
  }

  /**
   * The compact form of a parsed tokenizer.json, or undefined when the tokenizer is not CLIP's
   * kind (another normalizer, pre-tokenizer or model) or its tables are not self-consistent (a
   * merge whose parts or result are not in the vocabulary, a byte without a symbol).
   */
  static fromTokenizerJson(json: unknown, sourceSha256: Uint8Array): Uint8Array | undefined {
    const parsed = json as TokenizerJson;
    if (typeof json !== 'object' || json === null || !isClipPipeline(parsed)) return undefined;
    const model = parsed.model as Required<NonNullable<TokenizerJson['model']>>;
    const suffix = model.end_of_word_suffix ?? '';
    const vocab = new Map<string, number>(Object.entries(model.vocab));
    const addedTokens: Array<[string, number]> = (parsed.added_tokens ?? []).map((t) => [t.content, t.id]);
    let idRange = 0;
    for (const id of vocab.values()) idRange = Math.max(idRange, id + 1);
    for (const [, id] of addedTokens) idRange = Math.max(idRange, id + 1);

    const firstSymbols = new Int32Array(BYTE_VALUES * 2);
    for (let b = 0; b < BYTE_VALUES; b++) {
      const plain = vocab.get(BYTE_CHARS[b] as string);
      const last = vocab.get(`${BYTE_CHARS[b] as string}${suffix}`);
      if (plain === undefined || last === undefined) return undefined;
      firstSymbols[b] = plain;
      firstSymbols[BYTE_VALUES + b] = last;
    }
    const merges: Array<{ key: number; rank: number; merged: number }> = [];
    const seen = new Set<number>();
    for (const [rank, merge] of model.merges.entries()) {
      const [left, right] = Array.isArray(merge) ? merge : (merge.split(' ', 2) as [string, string]);
      const leftId = vocab.get(left);
      const rightId = vocab.get(right);
      const merged = vocab.get(`${left}${right}`);
      if (leftId === undefined || rightId === undefined || merged === undefined) return undefined;
      const key = pairKey(leftId, rightId);
      // @huggingface/tokenizers keeps a repeated pair's last rank (a Map set twice); so does this.
      if (seen.has(key)) {
        const earlier = merges.findIndex((m) => m.key === key);
        merges.splice(earlier, 1);
      }
      seen.add(key);
      merges.push({ key, rank, merged });
    }
    merges.sort((a, b) => a.key - b.key);

    const texts: Uint8Array[] = [];
    const textOffsets = new Uint32Array(idRange + 1);
    const byId = new Array<string | undefined>(idRange);
    for (const [token, id] of vocab) byId[id] = token;
    for (const [content, id] of addedTokens) byId[id] ??= content;
    const encoder = new TextEncoder();
    let textLength = 0;
    for (let id = 0; id < idRange; id++) {
      const bytes = encoder.encode(byId[id] ?? '');
      texts.push(bytes);
      textLength += bytes.byteLength;
      textOffsets[id + 1] = textLength;
    }

    const meta: CompactMeta = { addedTokens, idRange, merges: merges.length };
    const metaBytes = encoder.encode(JSON.stringify(meta));
    const metaEnd = HEADER_BYTES + metaBytes.byteLength;
    const tablesAt = align(metaEnd, 8);
    const size = tablesAt + merges.length * 16 + firstSymbols.byteLength + textOffsets.byteLength + textLength;
    const out = new Uint8Array(size);
    const header = new DataView(out.buffer);
    header.setUint32(0, MAGIC, true);
    header.setUint32(4, COMPACT_BPE_FORMAT_VERSION, true);
    header.setUint32(8, metaBytes.byteLength, true);
    out.set(sourceSha256.subarray(0, 32), 16);
    out.set(metaBytes, HEADER_BYTES);
    let at = tablesAt;
    const keys = new Float64Array(out.buffer, at, merges.length);
    at += keys.byteLength;
    const rankAndMerged = new Int32Array(out.buffer, at, merges.length * 2);
    at += rankAndMerged.byteLength;
    merges.forEach((m, i) => {
      keys[i] = m.key;
      rankAndMerged[2 * i] = m.rank;
      rankAndMerged[2 * i + 1] = m.merged;
    });
    out.set(new Uint8Array(firstSymbols.buffer), at);
    at += firstSymbols.byteLength;
    out.set(new Uint8Array(textOffsets.buffer), at);
    at += textOffsets.byteLength;
    for (const bytes of texts) {
      out.set(bytes, at);
      at += bytes.byteLength;
    }
    // The checksum covers everything after itself, so a flipped bit anywhere is noticed.
    header.setUint32(12, crc32(out.subarray(16)), true);
    return out;
  }

  /**
   * Reads a compact form made from the tokenizer.json whose sha256 is `sourceSha256`. Throws
   * (a plain Error saying what is wrong) when the bytes are not this format's current version,
   * belong to another tokenizer.json, or are damaged: the caller then rebuilds them.
   */
  static fromBytes(bytes: Uint8Array, sourceSha256: Uint8Array): CompactBpe {
    if (bytes.byteLength < HEADER_BYTES) throw new Error(`only ${bytes.byteLength} bytes`);
    const header = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
    if (header.getUint32(0, true) !== MAGIC) throw new Error('not a findimage tokenizer cache');
    const version = header.getUint32(4, true);
    if (version !== COMPACT_BPE_FORMAT_VERSION) throw new Error(`format version ${version}, not ${COMPACT_BPE_FORMAT_VERSION}`);
    if (!Buffer.from(bytes.subarray(16, HEADER_BYTES)).equals(Buffer.from(sourceSha256))) throw new Error('made from another tokenizer.json');
    if (header.getUint32(12, true) !== crc32(bytes.subarray(16))) throw new Error('checksum mismatch');
    const metaEnd = HEADER_BYTES + header.getUint32(8, true);
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES, metaEnd))) as CompactMeta;
    // Typed arrays need their alignment: a buffer that starts unaligned is copied once.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    return new CompactBpe(aligned, meta, metaEnd);
  }

  /** The ids of `text`, as @huggingface/tokenizers gives them for CLIP's tokenizer.json. */
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] } {
    void options; // CLIP's post-processor adds nothing when asked not to; the caller adds its own.
    const normalized = text.normalize('NFC').replace(WHITESPACE_RUNS, ' ').toLowerCase();
    const ids: number[] = [];
    const sections = this.#added === undefined ? [normalized] : normalized.split(this.#added);
    for (const section of sections) {
      const added = this.#addedIds.get(section);
      if (added !== undefined) {
        ids.push(added);
        continue;
      }
      for (const piece of section.match(CLIP_SPLIT) ?? []) this.#encodeWord(piece, ids);
    }
    return { ids };
  }

  /** The token with id `id`, or undefined when there is none. */
  id_to_token(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.idRange) return undefined;
    const start = this.#textOffsets[id] as number;
    const end = this.#textOffsets[id + 1] as number;
    return end === start ? undefined : this.#decoder.decode(this.#text.subarray(start, end));
  }

  /**
   * BPE over one pre-tokenized word: its UTF-8 bytes as first symbols (the last one with the
   * end-of-word suffix), then, as long as some neighbouring pair is a merge, the pair with the
   * lowest rank (the leftmost of equals) becomes its merged symbol. @huggingface/tokenizers gets
   * the same result with a priority queue.
   */
  #encodeWord(word: string, out: number[]): void {
    const bytes = this.#encoder.encode(word);
    const symbols: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      symbols.push(this.#firstSymbols[(i === bytes.length - 1 ? BYTE_VALUES : 0) + (bytes[i] as number)] as number);
    }
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      let bestMerged = 0;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const found = this.#findMerge(symbols[i] as number, symbols[i + 1] as number);
        if (found >= 0 && (this.#rankAndMerged[2 * found] as number) < bestRank) {
          best = i;
          bestRank = this.#rankAndMerged[2 * found] as number;
          bestMerged = this.#rankAndMerged[2 * found + 1] as number;
        }
      }
      if (best < 0) break;
      symbols.splice(best, 2, bestMerged);
    }
    for (const symbol of symbols) out.push(symbol);
  }

  /** The index of the merge of `left` then `right`, or -1: a binary search of the sorted pairs. */
  #findMerge(left: number, right: number): number {
    const key = pairKey(left, right);
    let low = 0;
    let high = this.#meta.merges - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const at = this.#pairKeys[mid] as number;
      if (at === key) return mid;
      if (at < key) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }
}

/** One number for a pair of ids (each below 2^21, far above any vocabulary's size). */
function pairKey(left: number, right: number): number {
  return left * 2 ** 21 + right;
}

function align(offset: number, to: number): number {
  return Math.ceil(offset / to) * to;
}
