// The VectorStore contract against a real Qdrant server, when QDRANT_URL is set (and
// QDRANT_API_KEY, if it needs one). Without it the suite is skipped and says so. Every test
// uses collections of its own (findimage_live_<random>) and deletes them afterwards. Against a
// cluster (the fleet profile's qdrant-1 is on 127.0.0.1:16333), QDRANT_SHARDS, QDRANT_REPLICAS
// and QDRANT_WRITE_CONSISTENCY are checked on a new collection too:
//   QDRANT_URL=http://localhost:6333 npx vitest run src/core/store/qdrant/qdrant-live.test.ts
//   QDRANT_URL=http://localhost:16333 QDRANT_REPLICAS=2 npx vitest run src/core/store/qdrant/qdrant-live.test.ts
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QdrantClient } from '@qdrant/js-client-rest';
import { createSilentLogger } from '../../../logger.js';
import { describeVectorStoreContract, uuid } from '../vector-store.contract.js';
import { openQdrantStore, type QdrantStore } from './qdrant-store.js';

const logger = createSilentLogger();

/** The server is expected up already (docker compose waits for its healthcheck): fail fast. */
const QUICK_START = { attempts: 3, baseDelayMs: 500, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

/** The server and collection settings, from the variables findimage reads for them. */
interface LiveSettings {
  url: string;
  apiKey?: string;
  onDisk: boolean;
  quantization: boolean;
  /** QDRANT_SHARDS, QDRANT_REPLICAS and QDRANT_WRITE_CONSISTENCY, when set. */
  shards?: number;
  replicas?: number;
  writeConsistency?: number;
}

/** A whole number from the environment, or undefined when unset or blank. */
function countOf(value: string | undefined): number | undefined {
  const text = value?.trim() ?? '';
  return text === '' ? undefined : Number.parseInt(text, 10);
}

/**
 * Read from the environment here rather than through src/config.ts: a test in core knows no more
 * of the application than core does (the architecture test holds core to that). Empty means unset,
 * as in config.ts, because docker compose passes qdrant.env's blank lines as "".
 */
function liveSettings(env: NodeJS.ProcessEnv): LiveSettings | undefined {
  const url = env.QDRANT_URL?.trim() ?? '';
  if (url === '') return undefined;
  const apiKey = env.QDRANT_API_KEY?.trim() ?? '';
  const layout = {
    shards: countOf(env.QDRANT_SHARDS),
    replicas: countOf(env.QDRANT_REPLICAS),
    writeConsistency: countOf(env.QDRANT_WRITE_CONSISTENCY),
  };
  return {
    url,
    ...(apiKey === '' ? {} : { apiKey }),
    onDisk: env.QDRANT_ON_DISK === 'true',
    quantization: env.QDRANT_QUANTIZATION === 'int8',
    ...Object.fromEntries(Object.entries(layout).filter(([, v]) => v !== undefined)),
  };
}

const live = liveSettings(process.env);
if (live === undefined) {
  console.info(
    'qdrant-live.test.ts: skipped because QDRANT_URL is not set. To run it against a real server: ' +
      'docker compose up -d qdrant && QDRANT_URL=http://localhost:6333 npx vitest run src/core/store/qdrant/qdrant-live.test.ts',
  );
}

/** Opens a store in collections of its own; cleanup deletes them and their alias. */
async function openLive(dimension: number, modelId = 'clip-vit-b32'): Promise<{ store: QdrantStore; cleanup: () => Promise<void> }> {
  const settings = live as LiveSettings;
  const prefix = `findimage_live_${randomBytes(4).toString('hex')}`;
  const store = await openQdrantStore({ ...settings, modelId, dimension, logger, collectionPrefix: prefix, startupRetry: QUICK_START });
  const client = new QdrantClient({
    url: settings.url,
    headers: settings.apiKey === undefined ? {} : { 'api-key': settings.apiKey },
    checkCompatibility: false,
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: prefix } }] });
      await client.deleteCollection(store.collection);
    },
  };
}

describe.skipIf(live === undefined)('QdrantStore on a real Qdrant server (QDRANT_URL)', () => {
  describeVectorStoreContract('QdrantStore on a real Qdrant server', (dimension) => openLive(dimension));

  it('keeps the model id in the collection metadata and refuses the collection to another model', async () => {
    const { store, cleanup } = await openLive(4, 'model-a');
    try {
      await store.upsert([
        {
          id: uuid(1),
          vector: Float32Array.from([1, 0, 0, 0]),
          payload: {
            tenant: 'T1',
            source: 'local',
            filename: 'a.png',
            contentHash: 'e'.repeat(64),
            modelId: 'model-a',
            createdAt: '2026-06-01T00:00:00Z',
            width: 1,
            height: 1,
            shares: [],
          },
        },
      ]);
      const prefix = store.collection.replace(/_model-a$/, '');
      const settings = live as LiveSettings;
      await expect(
        openQdrantStore({ ...settings, modelId: 'model-b', dimension: 4, logger, collectionPrefix: prefix, startupRetry: QUICK_START }),
      ).rejects.toMatchObject({ code: 'store_schema_mismatch' });
    } finally {
      await cleanup();
    }
  });

  it('creates a collection with the configured shards, replicas and write consistency, and Qdrant\'s defaults for the rest', async () => {
    const settings = live as LiveSettings;
    const client = new QdrantClient({
      url: settings.url,
      headers: settings.apiKey === undefined ? {} : { 'api-key': settings.apiKey },
      checkCompatibility: false,
    });
    // Qdrant's default shard count: one per peer of a cluster, 1 on a single server.
    const cluster = (await client.api().clusterStatus({})).data.result;
    const peers = cluster?.status === 'enabled' ? Object.keys(cluster.peers).length : 1;
    const { store, cleanup } = await openLive(4);
    try {
      const params = (await client.getCollection(store.collection)).config.params;
      expect({
        shard_number: params.shard_number,
        replication_factor: params.replication_factor,
        write_consistency_factor: params.write_consistency_factor,
      }).toEqual({
        shard_number: settings.shards ?? peers,
        replication_factor: settings.replicas ?? 1,
        write_consistency_factor: settings.writeConsistency ?? 1,
      });
    } finally {
      await cleanup();
    }
  });
});
