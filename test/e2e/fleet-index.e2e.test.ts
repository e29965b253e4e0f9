// `findimage index` in fleet mode through the real binaries: a real redis-server, two
// `findimage worker` processes and the fake Qdrant. The index run hands 128 images to the fleet's
// queue; one worker is killed with -9 midway; its jobs go back to the queue after its lease, and
// every image is stored exactly once; a poison image fails on every worker and is listed as
// skipped, as on one machine. The other worker stops on SIGTERM with exit 0.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { waitUntil } from '../../src/core/testing/wait-until.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { cliEnv, failuresIn, runCli, watchCli, type WatchedCli } from './cli-process.js';

const IMAGES = 128;
const COLLECTION = 'findimage_tiny-test';

describe('findimage index with two workers, one killed -9 midway', () => {
  let home: string;
  let photos: string;
  let redis: TestRedisServer;
  let qdrant: FakeQdrantServer;
  const started: WatchedCli[] = [];

  const fleetEnv = (name: string) =>
    cliEnv(join(home, name), { QDRANT_URL: qdrant.url, REDIS_URL: redis.url, FINDIMAGE_FLEET_LEASE_MS: '2000', LOG_LEVEL: 'warn' });
  const points = () => qdrant.collection(COLLECTION)?.size ?? 0;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-fleet-index-'));
    [redis, qdrant] = await Promise.all([TestRedisServer.start(), FakeQdrantServer.start()]);
    photos = join(home, 'photos');
    await mkdir(photos);
    // A poison image among them: it fails on every worker that tries it, and is skipped.
    await writeFile(join(photos, 'poison.png'), Buffer.from('\x89PNG\r\n\x1a\n this is no image at all'));
    // Each process its own home and data folder, as on its own machine.
    for (const name of ['a', 'b', 'cli', 'c']) await mkdir(join(home, name));
    for (let i = 0; i < IMAGES; i++) {
      const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: i * 2 };
      await sharp({ create: { width: 32, height: 24, channels: 3, background } }).png().toFile(join(photos, `photo${i}.png`));
    }
  }, 60_000);
  afterAll(async () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([qdrant.stop(), redis.remove()]);
    await rm(home, { recursive: true, force: true });
  });

  it('stores every image exactly once, and the surviving worker stops cleanly on SIGTERM', async () => {
    const doomed = watchCli(['worker', '--concurrency', '4'], fleetEnv('a'));
    const survivor = watchCli(['worker', '--concurrency', '4'], fleetEnv('b'));
    started.push(doomed, survivor);
    await waitUntil(() => doomed.stderr.includes('Worker ready') && survivor.stderr.includes('Worker ready'), 'both workers ready', 60_000).catch(
      (error: unknown) => {
        // What each worker said, and whether it is still running, so a failure here can be read.
        const state = (w: WatchedCli) => `exit ${String(w.child.exitCode ?? w.child.signalCode ?? 'none yet')}; stderr:\n${w.stderr.slice(-2000)}`;
        throw new Error(`${(error as Error).message}\nworker a: ${state(doomed)}\nworker b: ${state(survivor)}`);
      },
    );

    const status = await runCli(['fleet', 'status', '--json'], fleetEnv('cli'));
    expect(JSON.parse(status.stdout)).toMatchObject({ workers: 2, waiting: 0, active: 0, failed: 0 });

    const indexing = runCli(['index', photos], fleetEnv('cli'));
    await waitUntil(() => points() >= IMAGES / 4, 'a quarter of the images stored', 60_000);
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toMatchObject({ signal: 'SIGKILL' });

    const result = await indexing;
    expect(result.stderr).toContain('Handing the images to 2 fleet workers');
    expect(failuresIn(result.stderr).filter((line) => !line.startsWith('Handing the images to'))).toEqual([]);
    expect(result.code).toBe(0);
    const summary = /Indexed (\d+) images?, (\d+) already indexed, 1 skipped\./.exec(result.stdout);
    expect(summary, result.stdout).not.toBeNull();
    // A job the killed worker had stored but not reported is found stored when it runs again.
    expect(Number(summary?.[1]) + Number(summary?.[2])).toBe(IMAGES);
    expect(points()).toBe(IMAGES);
    expect(result.stdout).toMatch(/skipped poison\.png: /);
    // fleet status shows the poison image's failure with its reason.
    const after = JSON.parse((await runCli(['fleet', 'status', '--json'], fleetEnv('cli'))).stdout) as { failed: number; lastFailures: Array<{ filename: string; reason: string }> };
    expect(after.failed).toBe(1);
    expect(after.lastFailures[0]).toMatchObject({ filename: 'poison.png', reason: expect.stringMatching(/^image_/) });
    // The killed worker held jobs: the survivor found them stalled and took them again.
    expect(survivor.stderr).toContain('an index job lost its worker; it is back in the queue');

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toEqual({ code: 0, signal: null });
    expect(survivor.stderr).toContain('finishing the jobs in hand');
  });

  it('refuses a worker without REDIS_URL, and an index run when Redis is unreachable', async () => {
    const noFleet = await runCli(['worker'], cliEnv(join(home, 'c'), { QDRANT_URL: qdrant.url }));
    expect(noFleet.code).toBe(2);
    expect(noFleet.stderr).toContain('set REDIS_URL (and QDRANT_URL) first');
    const noQdrant = await runCli(['worker'], cliEnv(join(home, 'c'), { REDIS_URL: redis.url }));
    expect(noQdrant.code).toBe(2);
    expect(noQdrant.stderr).toContain('set QDRANT_URL');
    const away = await runCli(['index', photos], cliEnv(join(home, 'c'), { QDRANT_URL: qdrant.url, REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(away.code).toBe(4);
    expect(away.stderr).toContain('Cannot reach Redis at 127.0.0.1:1');
  });
});
