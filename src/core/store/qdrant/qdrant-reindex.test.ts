// Re-indexing on the fake Qdrant server: a new collection for the new model, filled by the
// caller's re-embedding, the alias moved in one atomic request, and an interrupted run resumed
// into the same collection.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Schemas } from '@qdrant/js-client-rest';
import { createSilentLogger } from '../../../logger.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { readMigrationCheckpoint } from '../store-migration.js';
import { uuid } from '../vector-store.contract.js';
import type { PointInput, StoredPoint } from '../vector-store.js';
import { openQdrantStore, type QdrantStoreOptions } from './qdrant-store.js';
import { prepareQdrantReindex, reindexQdrant, type ReindexQdrantOptions } from './qdrant-reindex.js';

const logger = createSilentLogger();
const QUICK = { attempts: 3, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 100 };

let fake: FakeQdrantServer;
let dir: string;

beforeEach(async () => {
  fake = await FakeQdrantServer.start();
  dir = await mkdtemp(join(tmpdir(), 'findimage-reindex-'));
});

afterEach(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function storeOptions(modelId: string, dimension: number): QdrantStoreOptions {
  return { url: fake.url, modelId, dimension, onDisk: false, quantization: false, logger, retry: QUICK, startupRetry: QUICK };
}

function oldPoint(n: number): PointInput {
  return {
    id: uuid(n),
    vector: Float32Array.from([1, n, 0, 0]),
    payload: {
      tenant: 'T1',
      source: 'local',
      filename: `${n}.png`,
      contentHash: String(n).padStart(64, '0'),
      modelId: 'model-a',
      createdAt: '2026-05-01T00:00:00.000Z',
      width: 4,
      height: 4,
      path: `/photos/${n}.png`,
      shares: [],
    },
  };
}

/** Stands in for the CLI's re-embedding: an 8-d vector from the image path, payload marked model-b. */
async function reembed(points: StoredPoint[]): Promise<PointInput[]> {
  return points.map((p) => {
    const n = Number.parseInt(p.payload.path?.match(/(\d+)\.png$/)?.[1] ?? '0', 10);
    const vector = new Float32Array(8);
    vector[n % 8] = 1;
    return { id: p.id, vector, payload: { ...p.payload, modelId: 'model-b' } };
  });
}

async function seedLive(count: number): Promise<void> {
  const store = await openQdrantStore(storeOptions('model-a', 4));
  await store.upsert(Array.from({ length: count }, (_, i) => oldPoint(i + 1)));
  await store.close();
}

function reindexOptions(overrides: Partial<ReindexQdrantOptions> = {}): ReindexQdrantOptions {
  return {
    url: fake.url,
    modelId: 'model-b',
    dimension: 8,
    onDisk: false,
    quantization: false,
    logger,
    retry: QUICK,
    startupRetry: QUICK,
    checkpointPath: join(dir, 'reindex.json'),
    reembed,
    batchSize: 2,
    ...overrides,
  };
}

describe('reindexQdrant', () => {
  it('re-embeds into a collection for the new model and moves the alias in one request', async () => {
    await seedLive(5);
    const result = await reindexQdrant(reindexOptions());
    expect(result).toEqual({ collection: 'findimage_model-b', previous: 'findimage_model-a', read: 5, written: 5, resumed: false });

    expect(fake.aliasTarget('findimage')).toBe('findimage_model-b');
    expect(fake.collection('findimage_model-a')?.size).toBe(5);
    const moves = fake.requests.filter((r) => r.path === '/collections/aliases').map((r) => r.body as Schemas['ChangeAliasesOperation']);
    expect(moves.at(-1)).toEqual({
      actions: [
        { delete_alias: { alias_name: 'findimage' } },
        { create_alias: { collection_name: 'findimage_model-b', alias_name: 'findimage' } },
      ],
    });
    await expect(readMigrationCheckpoint(join(dir, 'reindex.json'))).resolves.toBeUndefined();

    const reopened = await openQdrantStore(storeOptions('model-b', 8));
    expect(await reopened.stats()).toEqual({ total: 5, bySource: { local: 5 }, byModel: { 'model-b': 5 } });
    const [hit] = await reopened.query(Float32Array.from([0, 0, 0, 1, 0, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 });
    expect(hit?.id).toBe(uuid(3));
    await reopened.close();
    await expect(openQdrantStore(storeOptions('model-a', 4))).rejects.toMatchObject({ code: 'store_schema_mismatch' });
  });

  it('resumes an interrupted run into the same collection, re-embedding only what is left', async () => {
    await seedLive(5);
    const controller = new AbortController();
    const embedded: string[] = [];
    const counting = async (points: StoredPoint[]): Promise<PointInput[]> => {
      embedded.push(...points.map((p) => p.id));
      return reembed(points);
    };
    const first = reindexQdrant(
      reindexOptions({ reembed: counting, signal: controller.signal, onProgress: (p) => p.read === 2 && controller.abort() }),
    );
    await expect(first).rejects.toMatchObject({ code: 'aborted' });
    expect(fake.aliasTarget('findimage')).toBe('findimage_model-a');
    expect(await readMigrationCheckpoint(join(dir, 'reindex.json'))).toMatchObject({ job: 'reindex into findimage_model-b', read: 2 });

    const second = await reindexQdrant(reindexOptions({ reembed: counting }));
    expect(second).toMatchObject({ collection: 'findimage_model-b', read: 5, written: 5, resumed: true });
    expect(embedded).toEqual([1, 2, 3, 4, 5].map(uuid));
    expect(fake.aliasTarget('findimage')).toBe('findimage_model-b');
    expect(fake.collection('findimage_model-b')?.size).toBe(5);
  });

  it('rebuilds the live model into a new, time-stamped collection', async () => {
    await seedLive(3);
    const result = await reindexQdrant(
      reindexOptions({ modelId: 'model-a', dimension: 4, reembed: async (points) => points.map((p) => ({ id: p.id, vector: p.vector as Float32Array, payload: p.payload })) }),
    );
    expect(result.collection).toMatch(/^findimage_model-a_\d{8}T\d{6}Z$/);
    expect(result.previous).toBe('findimage_model-a');
    expect(fake.aliasTarget('findimage')).toBe(result.collection);
    expect(fake.collection(result.collection)?.size).toBe(3);
  });

  it('makes the collection and the alias when nothing was indexed yet', async () => {
    const result = await reindexQdrant(reindexOptions());
    expect(result).toEqual({ collection: 'findimage_model-b', previous: undefined, read: 0, written: 0, resumed: false });
    expect(fake.aliasTarget('findimage')).toBe('findimage_model-b');
  });

  it('leaves the live collection untouched until commit', async () => {
    await seedLive(2);
    const plan = await prepareQdrantReindex(reindexOptions());
    expect(plan.source?.collection).toBe('findimage_model-a');
    expect(plan.source?.modelId).toBe('model-a');
    expect(plan.source?.dimension).toBe(4);
    expect(plan.target.collection).toBe('findimage_model-b');
    const source = plan.source;
    if (source === undefined) throw new Error('expected a live collection to re-index from');
    await plan.target.upsert(await reembed(await source.get([uuid(1), uuid(2)], { tenant: 'T1' })));
    expect(fake.aliasTarget('findimage')).toBe('findimage_model-a');
    await plan.commit();
    expect(fake.aliasTarget('findimage')).toBe('findimage_model-b');
    await plan.close();
  });
});
