// `findimage ... | head -1` through the real binary: a reader that closes the pipe before the
// output is written. Node ignores SIGPIPE, so each write then fails with EPIPE; findimage must end
// quietly with exit code 0 (src/cli/closed-output.ts), not print a stack trace.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { cliEnv, startCli } from './cli-process.js';

/** Runs findimage with its stdout closed by the reader at once; resolves to its code and stderr. */
function runWithClosedStdout(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = startCli(args, env);
  // The reader goes away before the command has loaded, as `head` does after its line.
  child.stdout?.destroy();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
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
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  for (const args of [['search', 'a', 'red', 'car', '--json'], ['labels', 'export'], ['stats'], ['--help']]) {
    it(`exits with 0 and no stack trace: findimage ${args.join(' ')} | head -1`, async () => {
      const result = await runWithClosedStdout(args, cliEnv(home));
      expect(result.stderr).not.toContain('EPIPE');
      expect(result.stderr).not.toContain('    at ');
      expect(result.code).toBe(0);
    });
  }
});
