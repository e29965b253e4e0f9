// migrateStore between real stores: the embedded SQLite store and QdrantStore on the fake
// Qdrant server. Copies vectors and payloads exactly, reports progress, and resumes from its
// checkpoint after an abort or a failed write.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindimageError, StoreError } from '../errors.js';
import { createSilentLogger } from '../../logger.js';
import { FakeQdrantServer } from '../../../test/fakes/qdrant/fake-qdrant-server.js';
import { openQdrantStore, type QdrantStore } from './qdrant/qdrant-store.js';
import { openSqliteVectorStore, type SqliteVectorStore } from './sqlite-vector-store.js';
import {
  migrateStore,
  readMigrationCheckpoint,
  type MigrationProgress,
} from './store-migration.js';
import { uuid } from './vector-store.contract.js';
import type { PointInput, VectorStore } from './vector-store.js';

const logger = createSilentLogger();
const QUICK = { attempts: 3, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 100 };

let dir: string;
let fake: FakeQdrantServer;
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'findimage-migrate-'));
  fake = await FakeQdrantServer.start();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

async function sqlite(name: string, dimension = 4): Promise<SqliteVectorStore> {
  const store = await openSqliteVectorStore({ path: join(dir, `${name}.sqlite`), dimension, logger });
  closers.push(() => store.close());
  return store;
}

async function qdrant(dimension = 4, prefix = 'findimage'): Promise<QdrantStore> {
  const store = await openQdrantStore({
    url: fake.url,
    modelId: 'clip-vit-b32',
    dimension,
    onDisk: false,
    quantization: false,
    logger,
    collectionPrefix: prefix,
    retry: QUICK,
    startupRetry: QUICK,
  });
  closers.push(() => store.close());
  return store;
}

/** Point n with a distinct vector and a payload using every optional field (two shares) on odd n. */
function point(n: number): PointInput {
  const angle = n / 10;
  return {
    id: uuid(n),
    vector: Float32Array.from([Math.cos(angle), Math.sin(angle), 0, 0]),
    payload: {
      tenant: n % 3 === 0 ? 'T2' : 'T1',
      source: n % 2 === 0 ? 'slack' : 'local',
      filename: `image-${n}.png`,
      contentHash: n.toString(16).padStart(64, '0'),
      modelId: 'clip-vit-b32',
      createdAt: new Date(Date.UTC(2026, 0, n)).toISOString(),
      width: 100 + n,
      height: 200 + n,
      shares:
        n % 2 === 1
          ? [
              {
                conversation: `C${n}`,
                isPublic: n % 4 === 1,
                sharedAt: new Date(Date.UTC(2026, 0, n)).toISOString(),
                uploader: `U${n}`,
                messageId: `M${n}`,
                fileId: `F${n}`,
                permalink: `https://x/${n}`,
              },
              { conversation: `D${n}`, isPublic: false, sharedAt: new Date(Date.UTC(2026, 1, n)).toISOString() },
            ]
          : [],
      ...(n % 2 === 1 ? { path: `/p/${n}.png` } : {}),
    },
  };
}

const SEVEN = [5, 3, 7, 1, 6, 2, 4].map(point);

/** Every point of a store with its vector, in id order. */
async function everything(store: VectorStore): Promise<Array<{ id: string; payload: unknown; vector: number[] }>> {
  const ids = SEVEN.map((p) => p.id).concat(uuid(99));
  const all = [
    ...(await store.get(ids, { tenant: 'T1', withVector: true })),
    ...(await store.get(ids, { tenant: 'T2', withVector: true })),
  ];
  return all
    .map((p) => ({ id: p.id, payload: p.payload, vector: Array.from(p.vector ?? []) }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

describe('migrateStore', () => {
  it('copies every vector and payload from the embedded store to Qdrant, and back, without change', async () => {
    const embedded = await sqlite('source');
    await embedded.upsert(SEVEN);
    const remote = await qdrant();
    const checkpointPath = join(dir, 'migrate.json');

    const there = await migrateStore({ from: embedded, to: remote, checkpointPath, batchSize: 3, logger });
    expect(there).toEqual({ read: 7, written: 7, resumed: false, batches: 3 });
    expect(await everything(remote)).toEqual(await everything(embedded));
    await expect(readFile(checkpointPath)).rejects.toMatchObject({ code: 'ENOENT' });

    const back = await sqlite('back');
    await migrateStore({ from: remote, to: back, checkpointPath, batchSize: 2, logger });
    expect(await everything(back)).toEqual(await everything(embedded));
    expect(await back.stats()).toEqual(await embedded.stats());
  });

  it('reports progress after each batch', async () => {
    const from = await sqlite('source');
    await from.upsert(SEVEN);
    const progress: MigrationProgress[] = [];
    await migrateStore({ from, to: await sqlite('target'), checkpointPath: join(dir, 'c.json'), batchSize: 3, onProgress: (p) => progress.push(p), logger });
    expect(progress).toEqual([
      { read: 3, written: 3, total: 7, resumed: false, done: false },
      { read: 6, written: 6, total: 7, resumed: false, done: false },
      { read: 7, written: 7, total: 7, resumed: false, done: true },
    ]);
  });

  it('stops when aborted, leaves a checkpoint, and a rerun copies only the rest', async () => {
    const from = await sqlite('source');
    await from.upsert(SEVEN);
    const to = await qdrant();
    const checkpointPath = join(dir, 'migrate.json');
    const controller = new AbortController();
    const stopping = migrateStore({
      from,
      to,
      checkpointPath,
      batchSize: 2,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.read === 4) controller.abort();
      },
      logger,
    });
    await expect(stopping).rejects.toMatchObject({ code: 'aborted', message: 'Migration stopped after 4 of 7 points; run it again to continue from there.' });
    const saved = await readMigrationCheckpoint(checkpointPath);
    // The cursor is the source's own (SQLite's names the last id read).
    expect(saved).toMatchObject({ job: 'copy', cursor: expect.any(String), read: 4, written: 4, done: false });
    expect(await to.count()).toBe(4);

    const upsertsBefore = fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/points')).length;
    const progress: MigrationProgress[] = [];
    const rest = await migrateStore({ from, to, checkpointPath, batchSize: 2, onProgress: (p) => progress.push(p), logger });
    expect(rest).toEqual({ read: 7, written: 7, resumed: true, batches: 2 });
    expect(progress[0]).toEqual({ read: 6, written: 6, total: 7, resumed: true, done: false });
    const upserts = fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/points')).slice(upsertsBefore);
    expect(upserts.map((r) => (r.body as { points: Array<{ id: string }> }).points.map((p) => p.id))).toEqual([
      [uuid(5), uuid(6)],
      [uuid(7)],
    ]);
    expect(await everything(to)).toEqual(await everything(from));
  });

  it('keeps its place when the target fails mid-way, and resumes once it is back', async () => {
    const from = await sqlite('source');
    await from.upsert(SEVEN);
    const to = await qdrant();
    const checkpointPath = join(dir, 'migrate.json');
    let upserts = 0;
    fake.faults.inject({ kind: 'status', status: 503 }, { times: 50, match: (r) => r.method === 'PUT' && r.path.endsWith('/points') && ++upserts >= 2 });
    const error = await migrateStore({ from, to, checkpointPath, batchSize: 3, logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_unavailable');
    expect(await readMigrationCheckpoint(checkpointPath)).toMatchObject({ read: 3, written: 3, cursor: expect.any(String), done: false });

    fake.faults.clear();
    expect(await migrateStore({ from, to, checkpointPath, batchSize: 3, logger })).toEqual({ read: 7, written: 7, resumed: true, batches: 2 });
    expect(await everything(to)).toEqual(await everything(from));
  });

  it('writes what a transform returns, so re-indexing can re-embed and skip points', async () => {
    const from = await sqlite('source', 4);
    await from.upsert(SEVEN);
    const to = await sqlite('target', 2);
    const result = await migrateStore({
      from,
      to,
      checkpointPath: join(dir, 'reindex.json'),
      job: 'reindex into target',
      batchSize: 4,
      transform: async (points) =>
        points
          .filter((p) => p.id !== uuid(3))
          .map((p) => ({ id: p.id, vector: Float32Array.from([0, 1]), payload: { ...p.payload, modelId: 'tiny-test' } })),
      logger,
    });
    expect(result).toEqual({ read: 7, written: 6, resumed: false, batches: 2 });
    expect(await to.stats()).toEqual({ total: 6, bySource: { local: 3, slack: 3 }, byModel: { 'tiny-test': 6 } });
  });

  it('refuses to copy vectors between stores of different dimensions', async () => {
    const error = await migrateStore({ from: await sqlite('a', 4), to: await sqlite('b', 8), checkpointPath: join(dir, 'c.json'), logger }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'store_schema_mismatch' });
    expect((error as Error).message).toContain('Use `findimage reindex --model <id>` to re-embed instead.');
  });

  it('refuses a checkpoint of another job, and a damaged one, instead of starting over', async () => {
    const from = await sqlite('a');
    const to = await sqlite('b');
    const checkpointPath = join(dir, 'c.json');
    await writeFile(checkpointPath, JSON.stringify({ version: 1, job: 'reindex into x', cursor: null, read: 0, written: 0, done: false, updatedAt: '' }));
    await expect(migrateStore({ from, to, checkpointPath, logger })).rejects.toMatchObject({
      code: 'store_failed',
      message: `The checkpoint ${checkpointPath} belongs to another migration ("reindex into x", not "copy"). Finish that one, or delete the file to start this one.`,
    });
    await writeFile(checkpointPath, '{"version": 1, "job": "copy", "cur');
    const damaged = await migrateStore({ from, to, checkpointPath, logger }).catch((e: unknown) => e);
    expect(damaged).toBeInstanceOf(FindimageError);
    expect((damaged as Error).message).toMatch(/^The migration checkpoint .* is damaged \(it is not JSON\)/);
  });

  it('copies an empty store, reporting once', async () => {
    const progress: MigrationProgress[] = [];
    const result = await migrateStore({ from: await sqlite('a'), to: await qdrant(), checkpointPath: join(dir, 'c.json'), onProgress: (p) => progress.push(p), logger });
    expect(result).toEqual({ read: 0, written: 0, resumed: false, batches: 1 });
    expect(progress).toEqual([{ read: 0, written: 0, total: 0, resumed: false, done: true }]);
  });
});
