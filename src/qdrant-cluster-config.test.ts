// QDRANT_SHARDS, QDRANT_REPLICAS and QDRANT_WRITE_CONSISTENCY reach Qdrant: the composition root
// (openStore, openLabelStore; migrate and reindex open through them or spread config.qdrant)
// creates the image and label collections with them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FakeQdrantServer } from '../test/fakes/qdrant/fake-qdrant-server.js';
import { loadConfig } from './config.js';
import { getModelSpec } from './core/models/model-registry.js';
import { openLabelStore, openStore } from './findimage.js';
import { createSilentLogger } from './logger.js';

const logger = createSilentLogger();
let fake: FakeQdrantServer;
let dir: string;

beforeEach(async () => {
  fake = await FakeQdrantServer.start({ peers: 3 });
  dir = await mkdtemp(join(tmpdir(), 'findimage-cluster-config-'));
});

afterEach(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function layoutOf(collection: string): Record<string, unknown> {
  const { shard_number, replication_factor, write_consistency_factor } = fake.collection(collection)?.info().config.params ?? {};
  return { shard_number, replication_factor, write_consistency_factor };
}

it('creates the image and the label collections with the configured shards, replicas and write consistency', async () => {
  const config = loadConfig({
    QDRANT_URL: fake.url,
    QDRANT_SHARDS: '6',
    QDRANT_REPLICAS: '2',
    QDRANT_WRITE_CONSISTENCY: '2',
    FINDIMAGE_MODEL: 'tiny-test',
    FINDIMAGE_DATA: dir,
  });
  const store = await openStore(config, getModelSpec('tiny-test'), logger);
  const labels = await openLabelStore(config, logger);
  try {
    expect(layoutOf('findimage')).toEqual({ shard_number: 6, replication_factor: 2, write_consistency_factor: 2 });
    expect(layoutOf('findimage_labels')).toEqual({ shard_number: 6, replication_factor: 2, write_consistency_factor: 2 });
  } finally {
    await labels.close();
    await store.close();
  }
});

it('leaves the shard count to the cluster and keeps one copy when only QDRANT_URL is set', async () => {
  const config = loadConfig({ QDRANT_URL: fake.url, FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_DATA: dir });
  const store = await openStore(config, getModelSpec('tiny-test'), logger);
  const labels = await openLabelStore(config, logger);
  try {
    expect(layoutOf('findimage')).toEqual({ shard_number: 3, replication_factor: 1, write_consistency_factor: 1 });
    expect(layoutOf('findimage_labels')).toEqual({ shard_number: 3, replication_factor: 1, write_consistency_factor: 1 });
  } finally {
    await labels.close();
    await store.close();
  }
});
