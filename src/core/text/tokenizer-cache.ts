// The tokenizer cache: a CLIP tokenizer.json in CompactBpe's binary form, kept in a folder beside
// the graph cache (<FINDIMAGE_CACHE>/tokenizers), so that a cold search reads a few milliseconds
// of typed arrays instead of parsing 1.5 MB of JSON (about 180 ms, issue 18). A cache file is
// named by the tokenizer.json's sha256 and the format version, and its header repeats both and a
// checksum: a file made from other bytes, by another version, or damaged is ignored and
// rebuilt. It is written atomically (a private temporary file renamed into place), so a reader
// sees a whole file or none. A cache that cannot be read or written only costs the parse.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { COMPACT_BPE_FORMAT_VERSION, CompactBpe } from './compact-bpe.js';
import { parseTokenizerJson, readTokenizerFile, vocabularyIdRange, type HfTokenizer, type TokenEncoder } from './tokenizer-json.js';

/** Where the cache lives, and where its problems are told. */
export interface TokenizerCache {
  /** The cache folder (created on the first write). */
  dir: string;
  /** Told (at info or warn) when a cache file is ignored or cannot be written. */
  logger?: Logger;
}

/** A tokenizer ready to encode, and where it came from. */
interface OpenedTokenizer {
  tokenizer: TokenEncoder;
  /** One more than the largest id of the vocabulary (vocabularyIdRange). */
  idRange: number;
  /** "cache" when read from the cache file, "tokenizer.json" when parsed. */
  source: 'cache' | 'tokenizer.json';
}

/**
 * Texts the compact form must encode exactly as @huggingface/tokenizers does before it is written:
 * ASCII, contractions, case, every kind of whitespace the normalizer folds (and U+FEFF, which it
 * does not), full-width forms, ligatures, combining marks, many scripts, emoji, digits,
 * punctuation, the special tokens typed as text, and a long word.
 */
const AGREEMENT_PROBES = [
  'a photo of a cat',
  "It's a DOG'S life, isn't it? We'll see, they'd say, I'm sure you've",
  'tabs\tand\nnew\u0085lines\u00a0no-break\u3000ideographic\u2028line  spaces',
  'byte\ufefforder mark',
  'Ｆｕｌｌ－ｗｉｄｔｈ ﬁne ligatures, e\u0301 and é, Å and Å',
  'Ωμέγα кириллица עברית العربية हिन्दी ไทย 한국어 猫の写真 中文',
  '🐱🎉 👩‍👩‍👧 🇫🇷',
  'numbers 1234567890 3.14 1,000 ½ ²',
  'punctuation!!! ...?? (brackets) [x] {y} <z> @#$%^&*_+=~`|\\/',
  '<|startoftext|> and <|endoftext|> typed in',
  'supercalifragilisticexpialidocious'.repeat(4),
];

/** The cache file for a tokenizer.json with this sha256. */
export function tokenizerCacheFile(dir: string, sha256: Uint8Array): string {
  return join(dir, `${Buffer.from(sha256).toString('hex')}.v${COMPACT_BPE_FORMAT_VERSION}.bpe`);
}

/**
 * Opens the BPE tokenizer in the tokenizer.json at `path`: from the cache when it holds this
 * file's compact form, else by parsing the file, then writing the compact form for the next
 * start (only for CLIP's kind of tokenizer, and only when it encodes the probes as the parsed one
 * does). Throws ModelError as readTokenizerFile and parseTokenizerJson do.
 */
export async function openBpeTokenizer(path: string, cache?: TokenizerCache): Promise<OpenedTokenizer> {
  const source = await readTokenizerFile(path);
  if (cache === undefined) return parsed((await parseTokenizerJson(path, source)).tokenizer);
  const sha256 = createHash('sha256').update(source).digest();
  const file = tokenizerCacheFile(cache.dir, sha256);
  const cached = await readCompact(file, sha256, cache.logger);
  if (cached !== undefined) return { tokenizer: cached, idRange: cached.idRange, source: 'cache' };

  const { json, tokenizer } = await parseTokenizerJson(path, source);
  const compact = CompactBpe.fromTokenizerJson(json, sha256);
  if (compact !== undefined) {
    const disagreement = firstDisagreement(CompactBpe.fromBytes(compact, sha256), tokenizer);
    if (disagreement === undefined) {
      await writeAtomically(file, compact, cache.logger);
    } else {
      cache.logger?.warn({ path, text: disagreement }, 'tokenizer not cached: its compact form encodes a probe text differently');
    }
  }
  return parsed(tokenizer);
}

function parsed(tokenizer: HfTokenizer): OpenedTokenizer {
  return { tokenizer, idRange: vocabularyIdRange(tokenizer), source: 'tokenizer.json' };
}

/** The cached compact form, or undefined when there is none or it is not usable (told why). */
async function readCompact(file: string, sha256: Uint8Array, logger: Logger | undefined): Promise<CompactBpe | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    // Absent (or its folder is): the first start, or a cache folder that is not one.
    const absent = ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');
    if (!absent) logger?.warn({ err: error, file }, 'tokenizer cache unreadable; parsing tokenizer.json');
    return undefined;
  }
  try {
    return CompactBpe.fromBytes(bytes, sha256);
  } catch (error) {
    logger?.info({ file, reason: (error as Error).message }, 'tokenizer cache ignored and rebuilt');
    return undefined;
  }
}

/** The first probe text the two tokenizers encode differently, or undefined. */
function firstDisagreement(compact: TokenEncoder, reference: TokenEncoder): string | undefined {
  const options = { add_special_tokens: false };
  return AGREEMENT_PROBES.find((text) => compact.encode(text, options).ids.join() !== reference.encode(text, options).ids.join());
}

/** Writes `bytes` to a private file beside `file` and renames it into place; failures are told, not thrown. */
async function writeAtomically(file: string, bytes: Uint8Array, logger: Logger | undefined): Promise<void> {
  const temporary = `${file}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    logger?.warn({ err: error, file }, 'tokenizer cache not written; the next start parses tokenizer.json again');
  }
}
