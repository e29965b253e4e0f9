// `findimage ... | head -1` through the real binary: a reader that closes the pipe before the
// output is written. Node ignores SIGPIPE, so each write then fails with EPIPE; findimage must end
// quietly with 141, as a Unix tool killed by SIGPIPE does (src/cli/closed-output.ts), not print a
// stack trace and not report success for a run it did not finish. That holds for serve's log
// stream on stderr too, which pino writes on its own.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { pngOf } from '../slack/slack-harness.js';
import { cliEnv, startCli } from './cli-process.js';

/** 128 + SIGPIPE: what a shell reports for a command whose reader went away. */
const EXIT_SIGPIPE = 141;

/**
 * Resolves to a child's exit status as a shell reports it: its code, or 128 + the signal's number
 * when a signal ended it (findimage ends by SIGPIPE itself, so a shell sees 141).
 */
function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(signal === null ? code : 128 + osConstants.signals[signal]));
  });
}

/** Runs findimage with its stdout closed by the reader at once; resolves to its code and stderr. */
function runWithClosedStdout(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = startCli(args, env);
  // The reader goes away before the command has loaded, as `head` does after its line.
  child.stdout?.destroy();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return exitOf(child).then((code) => ({ code, stderr }));
}

describe('findimage writing into a closed pipe', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-epipe-'));
    // Labels, so that `labels export` has lines to write.
    const labels = await openSqliteLabelStore({ path: join(home, 'data', 'labels.sqlite'), logger: createSilentLogger() });
    for (let i = 0; i < 3; i++) {
      await labels.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'a dog', imageId: `img-${i}`, user: 'U1', value: 1, createdAt: new Date() });
    }
    await labels.close();
    // Images, so that `index` has work to cut off.
    await mkdir(join(home, 'photos'));
    await writeFile(join(home, 'photos', 'red.png'), await pngOf('red', 16));
    await writeFile(join(home, 'photos', 'blue.png'), await pngOf('blue', 16));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  for (const args of [['index', 'photos'], ['search', 'a', 'red', 'car', '--json'], ['labels', 'export'], ['stats'], ['--help']]) {
    it(`exits with 141 and no stack trace: findimage ${args.join(' ')} | head -1`, async () => {
      const result = await runWithClosedStdout(args, cliEnv(home));
      expect(result.stderr).not.toContain('EPIPE');
      expect(result.stderr).not.toContain('    at ');
      expect(result.code).toBe(EXIT_SIGPIPE);
    });
  }

  it('ends serve with 141, not a crash, when its stderr is closed: findimage serve 2>&1 | head -1', async () => {
    // No bot configured: serve runs the web app, logs at info and tells its address on stderr.
    const child = startCli(['serve'], cliEnv(home, { LOG_LEVEL: 'info' }));
    child.stderr?.destroy();
    try {
      // A crash on EPIPE would end it with 1; with process.exit() it hung in Node's teardown.
      expect(await exitOf(child)).toBe(EXIT_SIGPIPE);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ends the process with 141 when only the log stream (pino on fd 2) finds stderr closed', async () => {
    // Only the logger writes, and nothing else ends the process: without the EPIPE passed on from
    // pino's stream, pino would go silent and this would run until the test times out.
    const script = [
      // The sources (through tsx): the bundle keeps these two inside its chunks.
      `import { exitQuietlyWhenOutputCloses } from ${JSON.stringify(new URL('../../src/cli/closed-output.ts', import.meta.url).href)};`,
      `import { createLogger } from ${JSON.stringify(new URL('../../src/logger.ts', import.meta.url).href)};`,
      'exitQuietlyWhenOutputCloses();',
      "createLogger({ level: 'info', pretty: false }).info('a log line into a closed pipe');",
      'setInterval(() => {}, 1 << 30);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.destroy();
    try {
      expect(await exitOf(child)).toBe(EXIT_SIGPIPE);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
