// The tokenizer cache: CLIP's tokenizer.json parsed once, then read back in its compact binary
// form, giving the same ids; a cache file that is damaged, made from another tokenizer.json or by
// another format version is ignored and rebuilt; writes leave no partial file behind.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import { ClipTokenizer } from './clip-tokenizer.js';
import { openBpeTokenizer, tokenizerCacheFile, type TokenizerCache } from './tokenizer-cache.js';

const CLIP_JSON = fileURLToPath(new URL('../../../models/tiny-test/tokenizer.json', import.meta.url));
const SIGLIP_JSON = fileURLToPath(new URL('../../../models/tiny-siglip/tokenizer.json', import.meta.url));
const REFERENCE = fileURLToPath(new URL('../../../test/fixtures/clip-tokenizer/reference-ids.json', import.meta.url));
const CLIP_TEXT = { contextLength: 77, bosId: 49406, eosId: 49407, padId: 0 };
const NO_SPECIALS = { add_special_tokens: false };

/** Log lines a test can look at, in the shape pino's child loggers are called. */
function recordingLogger(): { logger: TokenizerCache['logger']; lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (_fields: object, message: string) => lines.push({ level, message });
  return { logger: { info: at('info'), warn: at('warn') } as unknown as TokenizerCache['logger'], lines };
}

let dir: string;
let cacheDir: string;
let tokenizerPath: string;
let cacheFile: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'findimage-tokenizer-cache-'));
  cacheDir = join(dir, 'cache', 'tokenizers');
  tokenizerPath = join(dir, 'tokenizer.json');
  await copyFile(CLIP_JSON, tokenizerPath);
  cacheFile = tokenizerCacheFile(cacheDir, createHash('sha256').update(await readFile(tokenizerPath)).digest());
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the tokenizer cache', () => {
  it('parses tokenizer.json on the first start and writes the cache, named by its sha256; the next start reads the cache', async () => {
    const first = await openBpeTokenizer(tokenizerPath, { dir: cacheDir });
    expect(first.source).toBe('tokenizer.json');
    expect(await readdir(cacheDir)).toEqual([cacheFile.slice(cacheDir.length + 1)]);

    const second = await openBpeTokenizer(tokenizerPath, { dir: cacheDir });
    expect(second.source).toBe('cache');
    expect(second.idRange).toBe(first.idRange);
    for (const id of [0, 320, 49406, 49407]) expect(second.tokenizer.id_to_token(id)).toBe(first.tokenizer.id_to_token(id));
    expect(second.tokenizer.id_to_token(first.idRange)).toBeUndefined();
  });

  it("gives CLIP's reference ids for every reference query, from the cache as from tokenizer.json", async () => {
    const fixture = JSON.parse(await readFile(REFERENCE, 'utf8')) as { cases: Array<{ text: string; ids: number[] }> };
    const parsed = await ClipTokenizer.fromFile(tokenizerPath, CLIP_TEXT, { dir: cacheDir });
    const cached = await ClipTokenizer.fromFile(tokenizerPath, CLIP_TEXT, { dir: cacheDir });
    expect((await openBpeTokenizer(tokenizerPath, { dir: cacheDir })).source).toBe('cache');
    for (const { text, ids } of fixture.cases) {
      const row = [...cached.encode(text)].map(Number);
      expect(row.slice(0, ids.length), text).toEqual(ids);
      expect(row, text).toEqual([...parsed.encode(text)].map(Number));
    }
  });

  it('ignores a damaged cache file (a changed byte, a cut-off end) and writes a good one in its place', async () => {
    const reference = await openBpeTokenizer(tokenizerPath, { dir: cacheDir });
    const good = await readFile(cacheFile);
    const flipped = Buffer.from(good);
    const middle = Math.floor(flipped.length / 2);
    flipped.writeUInt8(flipped.readUInt8(middle) ^ 0x40, middle);
    for (const damaged of [flipped, good.subarray(0, good.length - 100), good.subarray(0, 20), Buffer.alloc(0)]) {
      await writeFile(cacheFile, damaged);
      const { logger, lines } = recordingLogger();
      const opened = await openBpeTokenizer(tokenizerPath, { dir: cacheDir, logger });
      expect(opened.source).toBe('tokenizer.json');
      expect(opened.tokenizer.encode('a photo of a cat', NO_SPECIALS).ids).toEqual(reference.tokenizer.encode('a photo of a cat', NO_SPECIALS).ids);
      expect(lines).toEqual([{ level: 'info', message: 'tokenizer cache ignored and rebuilt' }]);
      expect((await readFile(cacheFile)).equals(good)).toBe(true);
    }
  });

  it('ignores a cache file made from another tokenizer.json, even under this one\'s name, and rebuilds it', async () => {
    await openBpeTokenizer(tokenizerPath, { dir: cacheDir });
    const good = await readFile(cacheFile);
    // Another tokenizer.json: the same vocabulary with one merge fewer, so its compact form differs.
    const json = JSON.parse(await readFile(tokenizerPath, 'utf8')) as { model: { merges: unknown[] } };
    json.model.merges.pop();
    const otherPath = join(dir, 'other-tokenizer.json');
    await writeFile(otherPath, JSON.stringify(json));
    const other = await openBpeTokenizer(otherPath, { dir: cacheDir });
    expect(other.source).toBe('tokenizer.json');
    const otherFile = tokenizerCacheFile(cacheDir, createHash('sha256').update(await readFile(otherPath)).digest());
    expect(otherFile).not.toBe(cacheFile);

    await copyFile(otherFile, cacheFile);
    const { logger, lines } = recordingLogger();
    expect((await openBpeTokenizer(tokenizerPath, { dir: cacheDir, logger })).source).toBe('tokenizer.json');
    expect(lines.map((l) => l.message)).toEqual(['tokenizer cache ignored and rebuilt']);
    expect((await readFile(cacheFile)).equals(good)).toBe(true);
  });

  it('ignores a cache file of another format version and rebuilds it', async () => {
    await openBpeTokenizer(tokenizerPath, { dir: cacheDir });
    const good = await readFile(cacheFile);
    const older = Buffer.from(good);
    older.writeUInt32LE(older.readUInt32LE(4) + 1, 4);
    await writeFile(cacheFile, older);
    expect((await openBpeTokenizer(tokenizerPath, { dir: cacheDir })).source).toBe('tokenizer.json');
    expect((await readFile(cacheFile)).equals(good)).toBe(true);
  });

  it('writes through a private file renamed into place, leaving nothing else in the folder', async () => {
    // A leftover of a writer killed mid-write is never read as the cache.
    await mkdir(cacheDir, { recursive: true });
    await writeFile(`${cacheFile}.partial-1-deadbeef`, 'half a file');
    await Promise.all([openBpeTokenizer(tokenizerPath, { dir: cacheDir }), openBpeTokenizer(tokenizerPath, { dir: cacheDir })]);
    const names = await readdir(cacheDir);
    expect(names.sort()).toEqual([cacheFile.slice(cacheDir.length + 1), `${cacheFile.slice(cacheDir.length + 1)}.partial-1-deadbeef`].sort());
    expect((await openBpeTokenizer(tokenizerPath, { dir: cacheDir })).source).toBe('cache');
  });

  it('still opens the tokenizer when the cache cannot be written, and says so', async () => {
    await writeFile(join(dir, 'cache'), 'a file where the cache folder should be');
    const { logger, lines } = recordingLogger();
    const opened = await openBpeTokenizer(tokenizerPath, { dir: cacheDir, logger });
    expect(opened.source).toBe('tokenizer.json');
    expect(lines.map((l) => l.level + ': ' + l.message)).toEqual(['warn: tokenizer cache not written; the next start parses tokenizer.json again']);
  });

  it('writes no cache for a tokenizer of another kind (SigLIP\'s SentencePiece), which still opens', async () => {
    const opened = await openBpeTokenizer(SIGLIP_JSON, { dir: cacheDir });
    expect(opened.source).toBe('tokenizer.json');
    expect(opened.tokenizer.encode('a photo of a cat', NO_SPECIALS).ids.length).toBeGreaterThan(0);
    await expect(readdir(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a missing tokenizer.json with the same ModelError, cache or not', async () => {
    await expect(openBpeTokenizer(join(dir, 'missing.json'), { dir: cacheDir })).rejects.toMatchObject({ code: 'model_missing' });
    await expect(openBpeTokenizer(join(dir, 'missing.json'))).rejects.toBeInstanceOf(ModelError);
  });
});
