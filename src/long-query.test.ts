// Long queries (16k, 100k and 1M characters) through the core with the tiny model: the tokenizer,
// ClipEmbedder on the worker pool, and SearchService. Once in this process, and once in a child
// process whose command line holds the query, with CI unset and with CI=true: ONNX Runtime 1.29's
// telemetry read /proc/self/cmdline into a recursive regex and overflowed the worker's stack, but
// only when no CI variable was set.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ClipTokenizer } from './core/text/clip-tokenizer.js';
import { openFindimage, type Findimage } from './findimage.js';
import { createSilentLogger } from './logger.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./testing/search-from-command-line.ts', import.meta.url));
const TOKENIZER_JSON = fileURLToPath(new URL('../models/tiny-test/tokenizer.json', import.meta.url));
const CLIP_TEXT = { contextLength: 77, bosId: 49406, eosId: 49407, padId: 49407 };

/** Linux refuses one argument over 128 KiB (MAX_ARG_STRLEN), so a long query is split in words. */
const MAX_ARGUMENT_CHARS = 100_000;
/** A child loads tsx and the tiny model, then embeds once. */
const CHILD_TIMEOUT_MS = 60_000;

const QUERIES: Array<{ name: string; text: string }> = [
  // One 16,000-character word: the report's reproduction, and BPE's worst case for one word.
  { name: '16k characters, one word', text: 'a'.repeat(16_000) },
  { name: '100k characters of words', text: 'a red square on a white table '.repeat(3_334).slice(0, 100_000).trim() },
  { name: '1M characters of words', text: 'a blue photo of a cat '.repeat(45_455).slice(0, 1_000_000).trim() },
];

const CI_MODES: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'CI unset', env: {} },
  { name: 'CI=true', env: { CI: 'true' } },
];

/** Splits text at spaces into command-line arguments of at most MAX_ARGUMENT_CHARS each. */
function asArguments(text: string): string[] {
  const args: string[] = [];
  let rest = text;
  while (rest.length > MAX_ARGUMENT_CHARS) {
    const cut = rest.lastIndexOf(' ', MAX_ARGUMENT_CHARS);
    // A single word longer than an argument cannot be passed; none of QUERIES has one.
    if (cut <= 0) throw new Error('a word is longer than one command-line argument may be');
    args.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  args.push(rest);
  return args;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the core in a fresh process, the query on its command line, with only the given env. */
function searchInChild(dir: string, text: string, extraEnv: Record<string, string>): Promise<ChildResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    FINDIMAGE_MODEL: 'tiny-test',
    // Its own data folder: this process holds the store in `data` open.
    FINDIMAGE_DATA: join(dir, 'child-data'),
    FINDIMAGE_CACHE: join(dir, 'cache'),
    FINDIMAGE_DEVICE: 'cpu',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, ...asArguments(text)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe('a long query through the core', () => {
  let dir: string;
  let findimage: Findimage;
  let tokenizer: ClipTokenizer;
  /** Each query's vector as this process computed it, to compare with the child's. */
  const vectors = new Map<string, Float32Array>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-long-query-'));
    const config = loadConfig({
      FINDIMAGE_MODEL: 'tiny-test',
      FINDIMAGE_DATA: join(dir, 'data'),
      FINDIMAGE_CACHE: join(dir, 'cache'),
      FINDIMAGE_DEVICE: 'cpu',
    });
    findimage = await openFindimage({ config, logger: createSilentLogger() });
    tokenizer = await ClipTokenizer.fromFile(TOKENIZER_JSON, CLIP_TEXT);
  });
  afterAll(async () => {
    await findimage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('in this process', () => {
    it.each(QUERIES)('$name: tokenizes to one full row ending in end-of-text', ({ text }) => {
      const row = Array.from(tokenizer.encode(text), Number);
      expect(row).toHaveLength(77);
      expect(row[0]).toBe(CLIP_TEXT.bosId);
      expect(row[76]).toBe(CLIP_TEXT.eosId);
      // 75 content ids, none of them end-of-text: the query filled the row and was cut.
      expect(row.slice(1, 76)).not.toContain(CLIP_TEXT.eosId);
    });

    it.each(QUERIES)('$name: ClipEmbedder gives a unit vector and SearchService answers', async ({ text }) => {
      const vector = await findimage.embedder.embedQuery(text);
      expect(vector).toHaveLength(findimage.embedder.dimension);
      expect(vector.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      vectors.set(text, vector);
      const results = await findimage.search.searchText({ text, scope: { tenant: 'local' }, limit: 5 });
      expect(results.hits).toEqual([]);
    });
  });

  describe.each(CI_MODES)('in a child process with the query on its command line, $name', ({ env }) => {
    it.each(QUERIES)(
      '$name: exits 0 with the same vector as this process',
      async ({ text }) => {
        const result = await searchInChild(dir, text, env);
        expect({ code: result.code, signal: result.signal }, result.stderr.slice(-2_000)).toEqual({ code: 0, signal: null });
        const answer = JSON.parse(result.stdout) as { chars: number; vector: number[]; hits: number };
        expect(answer.chars).toBe(text.length);
        expect(answer.hits).toBe(0);
        const expected = vectors.get(text) ?? (await findimage.embedder.embedQuery(text));
        expect(maxDifference(answer.vector, expected)).toBeLessThan(1e-5);
      },
      CHILD_TIMEOUT_MS,
    );
  });
});
