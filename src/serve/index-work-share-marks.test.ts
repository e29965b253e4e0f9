// The fleet as findimage composes it, on a real redis-server: a replica opened with REDIS_URL
// marks each deletion in Redis before applying it, and the index work it starts (as `findimage
// worker` does) reads those marks, so an upload another replica sent for a message this one
// deleted is withdrawn instead of indexed. (The store is the embedded one here, shared by the
// "replicas" of one test process; a real fleet shares Qdrant.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../config.js';
import { FleetIndexing } from '../core/fleet/fleet-indexing.js';
import { UploadQueue, type UploadOutcome } from '../core/indexing/upload-queue.js';
import { TestRedisServer } from '../core/testing/redis-server.js';
import { waitUntil } from '../core/testing/wait-until.js';
import { openFindimage, type Findimage } from '../findimage.js';
import { createSilentLogger } from '../logger.js';
import { startIndexWork, type IndexWork } from './index-work.js';

const logger = createSilentLogger();

describe('fleet index work composed by findimage', () => {
  let redis: TestRedisServer;
  let dir: string;
  let config: Config & { fleet: NonNullable<Config['fleet']> };
  let replicaA: Findimage | undefined;
  let work: IndexWork | undefined;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'findimage-index-work-'));
    // Fleet mode on the embedded store: loadConfig refuses REDIS_URL without QDRANT_URL, which a
    // test here cannot run, so the fleet settings are added by hand.
    const base = loadConfig({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_DATA: join(dir, 'data'), FINDIMAGE_CACHE: join(dir, 'cache'), FINDIMAGE_DEVICE: 'cpu' });
    config = { ...base, fleet: { redisUrl: redis.url, leaseMs: 2_000, replicaJobs: 1 } };
  });
  afterAll(async () => {
    await work?.close();
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    await replicaA?.close();
    await redis.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('withdraws an upload sent by replica B for a message replica A deleted, once a worker takes it', async () => {
    const a = await openFindimage({ config, logger });
    replicaA = a;
    // Replica B: its own queue file, handing uploads to the same fleet queue.
    const fleetB = new FleetIndexing({ redisUrl: redis.url, modelId: a.model.id, logger });
    const queueB = new UploadQueue({ path: join(dir, 'b-uploads.sqlite'), indexer: fleetB, logger, retryDelayMs: 5, maxRetryDelayMs: 20 });
    closers.push(async () => {
      const stopping = queueB.stop();
      await fleetB.close();
      await stopping;
    });
    const outcomes: UploadOutcome[] = [];
    queueB.onOutcome((outcome) => outcomes.push(outcome));
    queueB.start();
    queueB.enqueue({
      bytes: await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c00' } }).png().toBuffer(),
      filename: 'red.png',
      tenant: 'T1',
      source: 'slack',
      share: { conversation: 'C1', isPublic: true, sharedAt: '2026-01-02T03:04:05.000Z', messageId: 'M1' },
    });
    await waitUntil(() => fleetB.waiting === 1, 'B\'s job in Redis');

    a.uploads.recordShareUpdate({ kind: 'message_deleted', tenant: 'T1', conversation: 'C1', messageId: 'M1' });
    await waitUntil(() => a.uploads.pendingShareUpdates() === 0, 'A to apply the deletion');
    work = await startIndexWork({ config, findimage: a, concurrency: 1, logger, role: 'worker' });

    await waitUntil(() => outcomes.length === 1, 'B\'s outcome');
    expect(outcomes[0]).toMatchObject({ status: 'withdrawn' });
    expect(await a.store.count({ tenant: 'T1' })).toBe(0);
  });
});
