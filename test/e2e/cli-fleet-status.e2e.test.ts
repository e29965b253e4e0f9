// `findimage fleet status` through the real binary against a real redis-server: queue depths,
// the processes alive and the last failures with their reasons, as a table and as JSON (workers a
// number); exit 2 when fleet mode is off, exit 4 at once when Redis cannot be reached, with no
// password in the message. It loads no model and no vector store client.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexQueueName, QUEUE_PREFIX } from '../../src/core/fleet/index-queue-names.js';
import { closeRedis, openRedis } from '../../src/core/fleet/redis-connection.js';
import { WorkerRegistry } from '../../src/core/fleet/worker-registry.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { waitUntil } from '../../src/core/testing/wait-until.js';
import { createSilentLogger } from '../../src/logger.js';
import { BIN, cliEnv, runCli, type CliResult } from './cli-process.js';

const RECORDER = fileURLToPath(new URL('./import-recorder.mjs', import.meta.url));
/** Fleet status reads Redis only: a Qdrant that does not exist must not matter. */
const NO_QDRANT = 'http://127.0.0.1:1';
/** A file name that would clear the screen if printed raw. */
const HOSTILE_NAME = 'evil\u001b[2J.png';

/** Runs the CLI recording the packages it imports (import-recorder.mjs). */
async function runRecorded(args: string[], env: NodeJS.ProcessEnv, imports: string): Promise<CliResult & { packages: Set<string> }> {
  const child = spawn(process.execPath, ['--import', RECORDER, BIN, ...args], {
    env: { ...env, FINDIMAGE_TEST_IMPORTS: imports },
    cwd: env.HOME,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const urls = (await readFile(imports, 'utf8')).split('\n');
  const packages = new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));
  return { code, stdout, stderr, packages };
}

describe('findimage fleet status', () => {
  let home: string;
  let server: TestRedisServer;
  let quick: Redis;
  let registry: WorkerRegistry;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-fleet-status-'));
    server = await TestRedisServer.start();
    quick = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
    await waitUntil(() => quick.status === 'ready', 'the connection');

    // Three images failed for good in a worker, two wait, and one GPU worker is alive.
    const queue = new Queue(indexQueueName('tiny-test'), { connection: openRedis({ url: server.url, role: 'queue', logger: createSilentLogger() }), prefix: QUEUE_PREFIX });
    for (const filename of ['cat.png', HOSTILE_NAME]) {
      await queue.add('index', { image: { tenant: 'T1', source: 'local', filename, createdAt: '2026-12-07T10:00:00.000Z' } }, { attempts: 3 });
    }
    const worker = new Worker(
      indexQueueName('tiny-test'),
      async () => {
        throw new UnrecoverableError('not an image');
      },
      { connection: openRedis({ url: server.url, role: 'queue', logger: createSilentLogger() }), prefix: QUEUE_PREFIX },
    );
    await waitUntil(async () => (await queue.getJobCounts('failed')).failed === 2, 'the poison images to fail');
    await worker.close();
    for (const filename of ['dog.jpg', 'bird.webp']) {
      await queue.add('index', { image: { tenant: 'T1', source: 'local', filename, createdAt: '2026-12-07T10:00:00.000Z' } });
    }
    await queue.close();
    registry = new WorkerRegistry({ redis: quick, leaseMs: 60_000, logger: createSilentLogger() });
    registry.join({ host: 'gpu-box', pid: 4242, device: 'cuda:0', role: 'worker' });
    await waitUntil(async () => (await registry.alive()).length === 1, 'the worker to be listed');
  });

  afterAll(async () => {
    await registry.stop();
    await closeRedis(quick);
    await server.remove();
    await rm(home, { recursive: true, force: true });
  });

  it('prints queue depths, the workers alive and the last failures as JSON, without loading a model or a store client', async () => {
    const result = await runRecorded(['fleet', 'status', '--json'], cliEnv(home, { REDIS_URL: server.url, QDRANT_URL: NO_QDRANT }), join(home, 'imports-json.txt'));

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as Record<string, unknown> & { workerList: Array<Record<string, unknown>>; lastFailures: Array<Record<string, unknown>> };
    expect(status).toMatchObject({ workers: 1, waiting: 2, active: 0, failed: 2 });
    expect(typeof status.workers).toBe('number');
    expect(status.workerList).toEqual([expect.objectContaining({ host: 'gpu-box', pid: 4242, device: 'cuda:0', role: 'worker', jobsPerSecond: 0 })]);
    expect(status.lastFailures.map((f) => [f.filename, f.tenant, f.reason])).toEqual([
      [HOSTILE_NAME, 'T1', 'not an image'],
      ['cat.png', 'T1', 'not an image'],
    ]);
    expect(['onnxruntime-node', '@qdrant/js-client-rest', 'sharp'].filter((name) => result.packages.has(name))).toEqual([]);
  });

  it('prints a short table a person can read, with no raw control characters from the jobs', async () => {
    const result = await runCli(['fleet', 'status'], cliEnv(home, { REDIS_URL: server.url, QDRANT_URL: NO_QDRANT }));

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('index-tiny-test: 2 waiting, 0 active, 2 failed');
    expect(result.stdout).toMatch(/HOST\s+PID\s+DEVICE\s+ROLE\s+JOBS\/S\s+DONE\s+FAILED/);
    expect(result.stdout).toMatch(/gpu-box\s+4242\s+cuda:0\s+worker\s+0\.0\s+0\s+0/);
    expect(result.stdout).toMatch(/cat\.png \(T1\): not an image/);
    expect(result.stdout).toContain('evil\\x1b[2J.png (T1): not an image');
    expect(result.stdout).not.toContain('\u001b');
  });

  it('exits 2 and says how to turn fleet mode on when REDIS_URL is not set', async () => {
    const result = await runCli(['fleet', 'status'], cliEnv(home));

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Fleet mode is off/);
    expect(result.stderr).toMatch(/set REDIS_URL/);
    expect(result.stderr).toMatch(/QDRANT_URL/);
  });

  it('exits 4 when Redis cannot be reached, naming its address but never its password', async () => {
    const gone = await TestRedisServer.start({ appendOnly: false });
    await gone.remove();
    const url = `redis://findimage:hunter2-secret@127.0.0.1:${gone.port}`;

    const result = await runCli(['fleet', 'status', '--json'], cliEnv(home, { REDIS_URL: url, QDRANT_URL: NO_QDRANT }));

    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Cannot reach Redis at redis://127.0.0.1:${gone.port}`);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exits 4 and asks for the right password when Redis refuses the one in REDIS_URL, without printing it', async () => {
    const guarded = await TestRedisServer.start({ appendOnly: false });
    try {
      const admin = openRedis({ url: guarded.url, role: 'quick', logger: createSilentLogger() });
      await waitUntil(() => admin.status === 'ready', 'the admin connection');
      await admin.config('SET', 'requirepass', 'the-right-one');
      admin.disconnect();

      const result = await runCli(['fleet', 'status'], cliEnv(home, { REDIS_URL: `redis://:wrong-pass-123@127.0.0.1:${guarded.port}`, QDRANT_URL: NO_QDRANT }));

      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`Redis at redis://127.0.0.1:${guarded.port} refused findimage's credentials`);
      expect(result.stderr).toContain('Put the right user and password in REDIS_URL');
      expect(result.stderr).not.toContain('wrong-pass-123');
    } finally {
      await guarded.kill();
      await guarded.remove();
    }
  });
});
