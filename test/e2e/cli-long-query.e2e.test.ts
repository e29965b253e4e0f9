// Long queries through the real binary: 16k, 100k and 1M characters on the command line, with the
// CI variable unset (a user's terminal) and set (how CI runs). onnxruntime-node 1.29 reads
// /proc/self/cmdline into a recursive std::regex when its telemetry starts, and skips that when
// CI is set; so a test run only under CI=true would never see the crash a user gets.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from './cli-process.js';

/**
 * Linux refuses a single argument longer than MAX_ARG_STRLEN (32 pages, 128 KiB) with E2BIG, so
 * a million characters travel as several arguments, which `search <text...>` joins with spaces.
 */
const MAX_ARGUMENT_CHARS = 100_000;

/** One CLI run loads the tiny model in a worker; a million-character JSON answer is printed. */
const RUN_TIMEOUT_MS = 60_000;

/** The arguments a shell would pass for `chars` characters of query: words, spaces between. */
function queryArguments(chars: number, word: string): string[] {
  const args: string[] = [];
  let left = chars;
  while (left > 0) {
    // Each argument but the last is followed by the space the CLI joins them with.
    const size = Math.min(MAX_ARGUMENT_CHARS, left);
    args.push(word.repeat(Math.ceil(size / word.length)).slice(0, size).trim());
    left -= size + 1;
  }
  return args;
}

const CASES: Array<{ name: string; args: () => string[] }> = [
  // The report's reproduction: 16,000 "a"s in one argument, one word with no spaces.
  { name: '16k characters, one word', args: () => ['a'.repeat(16_000)] },
  { name: '100k characters of words', args: () => queryArguments(100_000, 'a red square ') },
  { name: '1M characters of words in ten arguments', args: () => queryArguments(1_000_000, 'a blue photo ') },
];

const CI_MODES: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'CI unset', env: {} },
  { name: 'CI=true', env: { CI: 'true' } },
];

describe('findimage search with a long query', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-long-query-'));
    const photos = join(home, 'photos');
    await mkdir(photos, { recursive: true });
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 220, g: 20, b: 20 } } })
      .png()
      .toFile(join(photos, 'red.png'));
    await sharp({ create: { width: 48, height: 64, channels: 3, background: { r: 20, g: 20, b: 220 } } })
      .png()
      .toFile(join(photos, 'blue.png'));
    const indexed = await runCli(['index', photos], cliEnv(home));
    expect(indexed.code, indexed.stderr).toBe(0);
  }, RUN_TIMEOUT_MS);
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('the cliEnv child environment leaves CI out unless asked', () => {
    // Guards the "CI unset" cases: if the parent's CI leaked into the child, they would test nothing.
    expect(cliEnv(home)).not.toHaveProperty('CI');
  });

  describe.each(CI_MODES)('$name', ({ env }) => {
    it.each(CASES)(
      '$name: answers with ranked results and exits 0',
      async ({ args }) => {
        const query = args();
        const result = await runCli(['search', ...query, '--json'], cliEnv(home, { ...env, FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
        // A crash in the embedding worker shows here as code null (killed by SIGSEGV; 139 in a shell).
        expect(result.code, result.stderr.slice(-2_000)).toBe(0);
        const body = JSON.parse(result.stdout) as { query: string; results: Array<{ score: number }> };
        expect(body.query).toBe(query.join(' '));
        expect(body.results).toHaveLength(2);
        for (const hit of body.results) expect(Number.isFinite(hit.score)).toBe(true);
      },
      RUN_TIMEOUT_MS,
    );
  });
});
