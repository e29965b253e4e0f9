// A fleet replica (`findimage serve` with REDIS_URL) through the real binary, with a real
// redis-server and the fake Qdrant, while Redis fails under it: killed with -9, then restarted
// on its append-only file. Searches keep working; an upload made meanwhile waits in the
// replica's own durable queue and is indexed once Redis is back; /readyz says what is down;
// /metrics counts the fleet's jobs; SIGTERM stops the replica with exit 0.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { waitUntil } from '../../src/core/testing/wait-until.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { jpegOf, multipartOf } from '../web/web-harness.js';
import { cliEnv, runCli, startCli } from './cli-process.js';

const COLLECTION = 'findimage_tiny-test';

interface Readiness {
  status: string;
  down?: string[];
  reason?: string;
}

describe('a fleet replica while Redis is killed and restarted', () => {
  let home: string;
  let redis: TestRedisServer;
  let qdrant: FakeQdrantServer;
  let replica: ChildProcess;
  let stderr = '';
  let base: string;

  const env = () => cliEnv(home, { QDRANT_URL: qdrant.url, REDIS_URL: redis.url, FINDIMAGE_FLEET_LEASE_MS: '2000', FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
  const points = () => qdrant.collection(COLLECTION)?.size ?? 0;
  const readiness = async (): Promise<{ code: number; body: Readiness }> => {
    const response = await fetch(`${base}/readyz`);
    return { code: response.status, body: (await response.json()) as Readiness };
  };
  const upload = async (name: string, rgb: [number, number, number]) => {
    const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name, bytes: await jpegOf(rgb) }]) });
    return (await response.json()) as { files: Array<{ status: string }> };
  };
  const search = async () => {
    const response = await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}`);
    return { code: response.status, results: ((await response.json()) as { results?: unknown[] }).results ?? [] };
  };
  const pendingUploads = async () => ((await (await fetch(`${base}/api/stats`)).json()) as { queue: { pending: number } }).queue.pending;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-fleet-replica-'));
    [redis, qdrant] = await Promise.all([TestRedisServer.start(), FakeQdrantServer.start()]);
    replica = startCli(['serve'], env());
    replica.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    replica.stdout?.resume();
    const url = await waitUntil(() => /http:\/\/127\.0\.0\.1:\d+/.exec(stderr)?.[0], 'the web app address', 60_000);
    base = url;
    await waitUntil(async () => (await readiness()).code === 200, 'the replica ready', 60_000);
  }, 90_000);
  afterAll(async () => {
    if (replica.exitCode === null && replica.signalCode === null) replica.kill('SIGKILL');
    await Promise.all([qdrant.stop(), redis.remove()]);
    await rm(home, { recursive: true, force: true });
  });

  it('searches through an outage, keeps an upload until Redis is back, and stops cleanly', async () => {
    expect(await readiness()).toEqual({ code: 200, body: { status: 'ready', model: 'tiny-test' } });
    expect((await upload('red.jpg', [200, 30, 30])).files[0]?.status).toBe('indexed');
    expect(points()).toBe(1);

    await redis.kill();
    const degraded = await waitUntil(async () => {
      const ready = await readiness();
      return ready.body.status === 'degraded' ? ready : undefined;
    }, '/readyz to say Redis is down');
    // Still ready (searches work), saying what is down.
    expect(degraded.code).toBe(200);
    expect(degraded.body.down).toEqual(['redis']);
    expect(degraded.body.reason).toContain('uploads wait in this replica');
    const duringOutage = await search();
    expect(duringOutage.code).toBe(200);
    expect(duringOutage.results).toHaveLength(1);

    // The upload is kept on the replica's disk while its job cannot reach Redis.
    const answer = upload('blue.jpg', [30, 30, 200]);
    await waitUntil(async () => (await pendingUploads()) === 1, 'the upload in the local queue');
    expect(points()).toBe(1);

    await redis.restart();
    expect((await answer).files[0]?.status).toBe('indexed');
    expect(points()).toBe(2);
    expect(await pendingUploads()).toBe(0);
    await waitUntil(async () => (await readiness()).body.status === 'ready', '/readyz ready again');

    // Redis came back from its append-only file: the first job's record survived the kill.
    const status = await runCli(['fleet', 'status', '--json'], env());
    expect(JSON.parse(status.stdout)).toMatchObject({ workers: 1, waiting: 0, active: 0, failed: 0 });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/findimage_fleet_jobs_total\{outcome="indexed"\} 2/);
    expect(metrics).toMatch(/findimage_fleet_queue_jobs\{state="waiting"\} 0/);
    expect(metrics).toMatch(/findimage_fleet_job_duration_seconds_count\{outcome="indexed"\} 2/);
    expect(metrics).toMatch(/findimage_content_claims_total [1-9]/);

    replica.kill('SIGTERM');
    const exit = await new Promise<{ code: number | null }>((resolve) => replica.once('exit', (code) => resolve({ code })));
    expect(exit.code).toBe(0);
  });
});
