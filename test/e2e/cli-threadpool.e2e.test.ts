// libuv's thread pool, where sharp decodes images, gets a thread per core (at least libuv's
// default 4) when the binary starts, unless the user set UV_THREADPOOL_SIZE: with the model on a
// GPU, images then decode on every core rather than on 4.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'findimage-threadpool-'));
/**
 * The core count the binary is made to see, above libuv's default of 4, so the test tells a pool
 * sized by the binary from the default on any machine (CI's has 2 cores).
 */
const CORES = 8;
/**
 * Loaded before the binary: reports CORES as the machine's cores, and when the process ends
 * prints UV_THREADPOOL_SIZE and how many of libuv's pool threads exist (named libuv-worker), read
 * without the pool.
 */
const probe = join(dir, 'probe.mjs');
writeFileSync(
  probe,
  `import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
os.availableParallelism = () => ${CORES};
syncBuiltinESMExports();
process.on('exit', () => {
  const workers = readdirSync('/proc/self/task').filter((task) => readFileSync('/proc/self/task/' + task + '/comm', 'utf8').startsWith('libuv-worker')).length;
  process.stderr.write('THREADPOOL ' + JSON.stringify({ size: process.env.UV_THREADPOOL_SIZE, workers }) + '\\n');
});
`,
);
const empty = join(dir, 'photos');
mkdirSync(empty);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `findimage index` on an empty folder (its walk uses the pool), and what the probe saw. */
function indexEmptyFolder(extra: Record<string, string>): Promise<{ size?: string; workers: number }> {
  const env = cliEnv(dir, extra);
  const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, BIN, 'index', empty], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      const line = stderr.split('\n').find((text) => text.startsWith('THREADPOOL '));
      if (line === undefined) reject(new Error(`no probe line in: ${stderr}`));
      else resolve(JSON.parse(line.slice('THREADPOOL '.length)) as { size?: string; workers: number });
    });
  });
}

describe.skipIf(process.platform !== 'linux')('libuv thread pool of the findimage binary', () => {
  it('has a thread per core, at least 4, when UV_THREADPOOL_SIZE is not set', async () => {
    expect(await indexEmptyFolder({})).toEqual({ size: String(CORES), workers: CORES });
  });

  it("keeps the user's UV_THREADPOOL_SIZE", async () => {
    expect(await indexEmptyFolder({ UV_THREADPOOL_SIZE: '5' })).toEqual({ size: '5', workers: 5 });
  });
});
