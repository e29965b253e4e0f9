// The cluster layout of collections findimage creates in Qdrant: a new image collection, a
// re-index target and the label collection get the configured shard_number, replication_factor
// and write_consistency_factor; unset shards leave Qdrant's default (one per peer); an existing
// collection is never changed, and its other layout is logged at info.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Schemas } from '@qdrant/js-client-rest';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { openQdrantLabelStore } from '../../labels/qdrant-label-store.js';
import { captureLog } from '../../testing/wait-until.js';
import { createSilentLogger } from '../../../logger.js';
import { openQdrantStore, type QdrantStoreOptions } from './qdrant-store.js';
import { prepareQdrantReindex } from './qdrant-reindex.js';

const logger = createSilentLogger();
const QUICK = { attempts: 3, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 100 };
const KEPT_LAYOUT = /QDRANT_SHARDS, QDRANT_REPLICAS and QDRANT_WRITE_CONSISTENCY apply to new collections/;

let fake: FakeQdrantServer;

beforeEach(async () => {
  // Three peers: as in a cluster, a collection created without shard_number gets one per peer.
  fake = await FakeQdrantServer.start({ peers: 3 });
});

afterEach(async () => {
  await fake.stop();
});

function storeOptions(overrides: Partial<QdrantStoreOptions> = {}): QdrantStoreOptions {
  return { url: fake.url, modelId: 'model-a', dimension: 4, onDisk: false, quantization: false, logger, retry: QUICK, startupRetry: QUICK, ...overrides };
}

/** The bodies of every PUT /collections/{name} (collection creations) the fake received. */
function creations(): Array<{ path: string; body: Schemas['CreateCollection'] }> {
  return fake.requests
    .filter((r) => r.method === 'PUT' && /^\/collections\/[^/]+$/.test(r.path))
    .map((r) => ({ path: r.path, body: r.body as Schemas['CreateCollection'] }));
}

function layoutOf(collection: string): Record<string, unknown> | undefined {
  const params = fake.collection(collection)?.info().config.params;
  if (params === undefined) return undefined;
  const { shard_number, replication_factor, write_consistency_factor } = params;
  return { shard_number, replication_factor, write_consistency_factor };
}

describe('a new image collection', () => {
  it('is created with the configured shards, replicas and write consistency', async () => {
    const store = await openQdrantStore(storeOptions({ shards: 6, replicas: 2, writeConsistency: 2 }));
    expect(creations()).toHaveLength(1);
    expect(creations()[0]?.body).toMatchObject({ shard_number: 6, replication_factor: 2, write_consistency_factor: 2 });
    expect(layoutOf(store.collection)).toEqual({ shard_number: 6, replication_factor: 2, write_consistency_factor: 2 });
    await store.close();
  });

  it('leaves shard_number to Qdrant when QDRANT_SHARDS is unset: one shard per peer of the cluster', async () => {
    const store = await openQdrantStore(storeOptions({ replicas: 2, writeConsistency: 1 }));
    expect(creations()[0]?.body).not.toHaveProperty('shard_number');
    expect(layoutOf(store.collection)).toEqual({ shard_number: 3, replication_factor: 2, write_consistency_factor: 1 });
    await store.close();
  });

  it('sends none of them when no layout is given, so Qdrant applies its own defaults', async () => {
    const store = await openQdrantStore(storeOptions());
    const body = creations()[0]?.body;
    for (const field of ['shard_number', 'replication_factor', 'write_consistency_factor']) expect(body).not.toHaveProperty(field);
    expect(layoutOf(store.collection)).toEqual({ shard_number: 3, replication_factor: 1, write_consistency_factor: 1 });
    await store.close();
  });
});

describe('an existing collection', () => {
  it('keeps its layout: nothing is sent to change it, and the difference is logged at info', async () => {
    const first = await openQdrantStore(storeOptions({ replicas: 1 }));
    await first.close();
    const before = fake.requests.length;
    const log = captureLog('info');
    const again = await openQdrantStore(storeOptions({ shards: 6, replicas: 2, writeConsistency: 2, logger: log.logger }));
    const changes = fake.requests.slice(before).filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && /^\/collections\/[^/]+$/.test(r.path)));
    expect(changes).toEqual([]);
    expect(layoutOf(again.collection)).toEqual({ shard_number: 3, replication_factor: 1, write_consistency_factor: 1 });
    const line = log.lines.find((l) => KEPT_LAYOUT.test(String(l.msg)));
    expect(line?.level).toBe(30);
    expect(line?.differences).toEqual([
      { param: 'shard_number', found: 3, wanted: 6 },
      { param: 'replication_factor', found: 1, wanted: 2 },
      { param: 'write_consistency_factor', found: 1, wanted: 2 },
    ]);
    await again.close();
  });

  it('logs nothing about the layout when it matches the configuration', async () => {
    await (await openQdrantStore(storeOptions({ replicas: 2 }))).close();
    const log = captureLog('info');
    const again = await openQdrantStore(storeOptions({ replicas: 2, logger: log.logger }));
    expect(log.lines.filter((l) => KEPT_LAYOUT.test(String(l.msg)))).toEqual([]);
    await again.close();
  });
});

describe('a re-index target collection', () => {
  it('is created with the configured layout, whatever the live collection has', async () => {
    const live = await openQdrantStore(storeOptions());
    await live.close();
    const dir = await mkdtemp(join(tmpdir(), 'findimage-layout-'));
    try {
      const plan = await prepareQdrantReindex({
        ...storeOptions({ modelId: 'model-b', dimension: 8 }),
        shards: 4,
        replicas: 3,
        writeConsistency: 2,
        checkpointPath: join(dir, 'reindex.json'),
      });
      expect(layoutOf(plan.target.collection)).toEqual({ shard_number: 4, replication_factor: 3, write_consistency_factor: 2 });
      await plan.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the label collection', () => {
  it('is created with the configured layout', async () => {
    const labels = await openQdrantLabelStore({ url: fake.url, logger, retry: QUICK, shards: 2, replicas: 2, writeConsistency: 2 });
    expect(layoutOf('findimage_labels')).toEqual({ shard_number: 2, replication_factor: 2, write_consistency_factor: 2 });
    await labels.close();
  });

  it('keeps the layout it has when reopened with another, and says so at info', async () => {
    await (await openQdrantLabelStore({ url: fake.url, logger, retry: QUICK })).close();
    const log = captureLog('info');
    const labels = await openQdrantLabelStore({ url: fake.url, logger: log.logger, retry: QUICK, replicas: 3 });
    expect(layoutOf('findimage_labels')).toEqual({ shard_number: 3, replication_factor: 1, write_consistency_factor: 1 });
    expect(log.lines.find((l) => KEPT_LAYOUT.test(String(l.msg)))?.differences).toEqual([{ param: 'replication_factor', found: 1, wanted: 3 }]);
    await labels.close();
  });
});
