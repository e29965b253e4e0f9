// SqliteVectorStore: the shared VectorStore contract on a temp folder, plus what only an embedded
// store must do: survive close and reopen, kill -9 mid-write, and explain an unusable folder.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { createSilentLogger } from '../../logger.js';
import { openSqliteVectorStore, SqliteVectorStore } from './sqlite-vector-store.js';
import { durabilityNumberOf, durabilityPoint } from './testing/durability-points.js';
import { describeVectorStoreContract, uuid } from './vector-store.contract.js';
import type { ImagePayload, PointInput } from './vector-store.js';

const logger = createSilentLogger();

/**
 * Search knobs that put the suite's 3,000 points behind the partition index: an index from 500
 * rows, every filter through it, probing a tenth of the matching rows and the lists within the
 * default margin.
 */
const INDEX_ON_SMALL_DATA = {
  indexMinRows: 500,
  exactBelowRows: 0,
  probeFraction: 0.1,
  minProbeRows: 100,
  maxLists: 64,
  // Never fall back to the exact scan, however many lists the margin takes in.
  maxProbeShare: 1,
};

describeVectorStoreContract('SqliteVectorStore', async (dimension, options) => {
  const dir = await mkdtemp(join(tmpdir(), 'findimage-store-'));
  const store = await openSqliteVectorStore({
    path: join(dir, 'vectors.sqlite'),
    dimension,
    logger,
    ...(options?.forceIndex === true ? { search: INDEX_ON_SMALL_DATA } : {}),
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

function payload(overrides: Partial<ImagePayload> = {}): ImagePayload {
  return {
    tenant: 'T1',
    source: 'local',
    filename: 'a.png',
    contentHash: 'b'.repeat(64),
    modelId: 'tiny-test',
    createdAt: '2026-02-03T04:05:06.789Z',
    width: 2,
    height: 3,
    shares: [],
    ...overrides,
  };
}

describe('SqliteVectorStore on disk', () => {
  let dir: string;
  const opened: SqliteVectorStore[] = [];

  async function open(path: string, dimension: number): Promise<SqliteVectorStore> {
    const store = await openSqliteVectorStore({ path, dimension, logger });
    opened.push(store);
    return store;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-store-'));
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drops the per-tenant indexes older files carry, which no statement reads, and keeps every point', async () => {
    const path = join(dir, 'vectors.sqlite');
    const points = Array.from({ length: 20 }, (_, n) => durabilityPoint(n, 8));
    const first = await open(path, 8);
    await first.upsert(points);
    await first.close();
    const indexes = (db: Database.Database) =>
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'points'`).pluck().all();
    // As a file written before this version looks: both indexes present.
    const older = new Database(path);
    older.exec(`CREATE INDEX points_tenant_source ON points (tenant, source);
      CREATE INDEX points_tenant_created ON points (tenant, created_at);`);
    expect(indexes(older)).toContain('points_tenant_created');
    older.close();

    const second = await open(path, 8);
    expect(await second.count()).toBe(20);
    await second.close();
    const after = new Database(path, { readonly: true });
    // Only the primary key's own index is left.
    expect(indexes(after)).toEqual(['sqlite_autoindex_points_1']);
    after.close();
  });

  it('keeps every point, bit for bit, across close and reopen', async () => {
    const path = join(dir, 'nested', 'deeper', 'vectors.sqlite');
    const points = Array.from({ length: 50 }, (_, n) => durabilityPoint(n, 16));
    const first = await open(path, 16);
    await first.upsert(points);
    await first.delete([points[7]!.id], { tenant: 'durability' });
    await first.close();

    const second = await open(path, 16);
    expect(await second.count()).toBe(49);
    const stored = await second.get(
      points.map((p) => p.id),
      { tenant: 'durability', withVector: true },
    );
    expect(stored).toHaveLength(49);
    for (const point of stored) {
      const original = durabilityPoint(durabilityNumberOf(point.id), 16);
      expect(point.payload).toEqual(original.payload);
      expect(Array.from(point.vector!)).toEqual(Array.from(original.vector));
    }
    const [best] = await second.query(points[3]!.vector, {
      filter: { tenant: 'durability' },
      limit: 1,
    });
    expect(best?.id).toBe(points[3]!.id);
    expect(best?.score).toBeCloseTo(1, 5);
  });

  it('refuses a folder it cannot create, naming it and FINDIMAGE_DATA', async () => {
    // Root can write anywhere, but no one can make a folder under a regular file.
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, 'x');
    const folder = join(blocker, 'data');
    const error = await openSqliteVectorStore({
      path: join(folder, 'v.sqlite'),
      dimension: 4,
      logger,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_unwritable');
    expect((error as StoreError).message).toContain(folder);
    expect((error as StoreError).message).toContain('FINDIMAGE_DATA');
  });

  it('refuses to open a store made for another vector length', async () => {
    const path = join(dir, 'v.sqlite');
    await (await open(path, 8)).close();
    await expect(open(path, 4)).rejects.toMatchObject({
      code: 'store_schema_mismatch',
      message: expect.stringContaining('8-dimension'),
    });
  });

  it('refuses a file that is not a store, saying what to do', async () => {
    const path = join(dir, 'v.sqlite');
    await writeFile(
      path,
      'this is not a database, just some text long enough to look like one'.repeat(20),
    );
    await expect(open(path, 4)).rejects.toMatchObject({
      code: 'store_failed',
      message: expect.stringContaining('is not a findimage vector store'),
    });
  });

  it('sees points written through another connection to the same file, as by another process', async () => {
    const path = join(dir, 'v.sqlite');
    const bot = await open(path, 4);
    const cli = await open(path, 4);
    const vector = Float32Array.from([0, 1, 0, 0]);
    await bot.query(vector, { filter: { tenant: 'T1' }, limit: 1 });

    await cli.upsert([{ id: uuid(1), vector, payload: payload() }]);
    const hits = await bot.query(vector, { filter: { tenant: 'T1' }, limit: 5 });
    expect(hits.map((h) => h.id)).toEqual([uuid(1)]);

    await bot.upsert([{ id: uuid(2), vector, payload: payload() }]);
    expect(await cli.deleteByFilter({ tenant: 'T1' })).toBe(2);
    expect(await bot.count({ tenant: 'T1' })).toBe(0);
    expect(await bot.query(vector, { filter: { tenant: 'T1' }, limit: 5 })).toEqual([]);
  });

  it('adds and removes shares from the file, not from a stale copy, across connections', async () => {
    const path = join(dir, 'v.sqlite');
    const bot = await open(path, 4);
    const cli = await open(path, 4);
    const vector = Float32Array.from([0, 1, 0, 0]);
    const first = { conversation: 'C1', isPublic: false, sharedAt: '2026-01-01T00:00:00.000Z' };
    await bot.upsert([{ id: uuid(1), vector, payload: payload({ shares: [first] }) }]);
    // cli has loaded the point with one share; bot then adds a second share.
    expect(await cli.count({ tenant: 'T1' })).toBe(1);
    const second = { ...first, conversation: 'C2', messageId: 'M2' };
    const third = { ...first, conversation: 'C3', isPublic: true };
    expect(await bot.addShares('T1', uuid(1), [second])).toBe(true);
    expect(await cli.addShares('T1', uuid(1), [third])).toBe(true);
    const [stored] = await bot.get([uuid(1)], { tenant: 'T1' });
    expect(stored?.payload.shares).toEqual([first, second, third]);
    const publicScope = { conversations: [], includePublic: true };
    expect(await bot.count({ tenant: 'T1', scope: publicScope })).toBe(1);

    expect(
      await bot.removeShares({ tenant: 'T1', share: { conversations: ['C1', 'C3'] } }),
    ).toEqual({ shares: 2, points: 0 });
    expect(await cli.count({ tenant: 'T1', scope: publicScope })).toBe(0);
    expect(await cli.removeShares({ tenant: 'T1', share: { messageId: 'M2' } })).toEqual({
      shares: 0,
      points: 1,
    });
    expect(await bot.count()).toBe(0);
  });

  it('makes a conversation private for another connection, after a reopen, and through the partition index', async () => {
    const path = join(dir, 'v.sqlite');
    const bot = await openSqliteVectorStore({ path, dimension: 4, logger, search: INDEX_ON_SMALL_DATA });
    opened.push(bot);
    const cli = await open(path, 4);
    // 600 public images in C1 and 600 in C2: enough rows for the index, and each conversation
    // too large a share of the rows for the per-conversation lists, so the probe path is used.
    const points: PointInput[] = Array.from({ length: 1200 }, (_, n) => ({
      id: uuid(n + 1),
      vector: Float32Array.from([Math.cos(n), Math.sin(n), 0.5, 0]).map((x) => x / Math.hypot(Math.cos(n), Math.sin(n), 0.5)),
      payload: payload({ shares: [{ conversation: n % 2 === 0 ? 'C1' : 'C2', isPublic: true, sharedAt: '2026-01-01T00:00:00.000Z' }] }),
    }));
    await bot.upsert(points);
    expect(bot.indexLists).toBeGreaterThan(1);
    const elsewhere = { tenant: 'T1', scope: { conversations: ['C9'], includePublic: true } };
    const query = Float32Array.from([1, 0, 0, 0]);
    expect(await cli.count(elsewhere)).toBe(1200);

    expect(await bot.setSharesPublic('T1', 'C1', false)).toBe(600);
    expect(await bot.count(elsewhere)).toBe(600);
    for (const hit of await bot.query(query, { filter: elsewhere, limit: 50 })) {
      expect(hit.payload.shares[0]?.conversation).toBe('C2');
    }
    expect(await cli.count(elsewhere)).toBe(600);

    await bot.close();
    const reopened = await open(path, 4);
    expect(await reopened.count(elsewhere)).toBe(600);
    expect(await reopened.setSharesPublic('T1', 'C1', true)).toBe(600);
    expect(await cli.count(elsewhere)).toBe(1200);
  });

  it('trains its partition index once it holds enough rows, and keeps it past deletions', async () => {
    const path = join(dir, 'v.sqlite');
    const store = await openSqliteVectorStore({
      path,
      dimension: 8,
      logger,
      search: { ...INDEX_ON_SMALL_DATA, indexMinRows: 1000 },
    });
    opened.push(store);
    const points: PointInput[] = Array.from({ length: 1200 }, (_, n) => durabilityPoint(n, 8));
    await store.upsert(points.slice(0, 900));
    expect(store.indexLists).toBe(0);
    await store.upsert(points.slice(900));
    expect(store.indexLists).toBeGreaterThan(1);
    await store.delete(points.filter((_, n) => n % 2 === 0).map((p) => p.id), { tenant: 'durability' });

    // Probing every list (a fraction of 1) is exhaustive: the index answer is then the exact one.
    const everyList = await openSqliteVectorStore({
      path,
      dimension: 8,
      logger,
      search: { ...INDEX_ON_SMALL_DATA, indexMinRows: 100, probeFraction: 1 },
    });
    opened.push(everyList);
    expect(everyList.indexLists).toBeGreaterThan(1);
    // A probe that would visit more than maxProbeShare of the rows is an exact scan instead.
    const fallsBack = await openSqliteVectorStore({
      path,
      dimension: 8,
      logger,
      search: { ...INDEX_ON_SMALL_DATA, indexMinRows: 100, probeFraction: 0, maxProbeShare: 0 },
    });
    opened.push(fallsBack);
    const query = durabilityPoint(98_765, 8).vector;
    const filter = { tenant: 'durability' };
    for (const target of [store, everyList, fallsBack]) {
      const exact = await target.query(query, { filter, limit: 10, exact: true });
      expect(exact).toHaveLength(10);
      const approximate = await target.query(query, { filter, limit: 10 });
      if (target !== store) expect(approximate).toEqual(exact);
      for (const hit of approximate) expect(points.findIndex((p) => p.id === hit.id) % 2).toBe(1);
    }
  });

  it("keeps the exact fallback of a whole-tenant query to that tenant's rows, less the excluded ones", async () => {
    const store = await openSqliteVectorStore({
      path: join(dir, 'v.sqlite'),
      dimension: 8,
      logger,
      // Every default query falls back to the exact scan.
      search: { ...INDEX_ON_SMALL_DATA, indexMinRows: 100, probeFraction: 0, maxProbeShare: 0 },
    });
    opened.push(store);
    const points = Array.from({ length: 300 }, (_, n) => durabilityPoint(n, 8));
    await store.upsert(points);
    const query = points[5]!.vector;
    const filter = { tenant: 'durability' };
    // One tenant owns every row: the fallback may list them all without testing each.
    expect(await store.query(query, { filter, limit: 10 })).toEqual(
      await store.query(query, { filter, limit: 10, exact: true }),
    );
    const excluded = { ...filter, excludeIds: [points[5]!.id] };
    const withoutBest = await store.query(query, { filter: excluded, limit: 10 });
    expect(withoutBest.map((hit) => hit.id)).not.toContain(points[5]!.id);
    expect(withoutBest).toEqual(await store.query(query, { filter: excluded, limit: 10, exact: true }));

    // Another tenant's copies of the same vectors, the best matches of all, must stay out.
    await store.upsert(
      points.slice(0, 20).map((p, n) => ({
        ...p,
        id: uuid(50_000 + n),
        payload: { ...p.payload, tenant: 'other' },
      })),
    );
    const hits = await store.query(query, { filter, limit: 10 });
    expect(hits).toEqual(await store.query(query, { filter, limit: 10, exact: true }));
    const ours = new Set(points.map((p) => p.id));
    for (const hit of hits) expect(ours.has(hit.id)).toBe(true);
  });

  it('answers a zero query exactly: every score 0, lowest ids first', async () => {
    const store = await open(join(dir, 'v.sqlite'), 8);
    await store.upsert(Array.from({ length: 300 }, (_, n) => durabilityPoint(n, 8)));
    const hits = await store.query(new Float32Array(8), {
      filter: { tenant: 'durability' },
      limit: 3,
      exact: true,
    });
    const lowest = [0, 1, 2].map((n) => [durabilityPoint(n, 8).id, 0]);
    expect(hits.map((h) => [h.id, h.score])).toEqual(lowest);
  });

  it('keeps exact top hits while growing past its first allocation and deleting', async () => {
    const path = join(dir, 'v.sqlite');
    const store = await open(path, 8);
    const points: PointInput[] = Array.from({ length: 3000 }, (_, n) => durabilityPoint(n, 8));
    await store.upsert(points);
    const removed = points.filter((_, n) => n % 3 === 0).map((p) => p.id);
    expect(await store.delete(removed, { tenant: 'durability' })).toBe(1000);

    const query = durabilityPoint(123_456, 8).vector;
    const expected = points
      .filter((_, n) => n % 3 !== 0)
      .map((p) => ({ id: p.id, score: p.vector.reduce((s, x, j) => s + x * query[j]!, 0) }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, 20);
    const hits = await store.query(query, { filter: { tenant: 'durability' }, limit: 20 });
    expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
    hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 5));
  });

  it('keeps every acknowledged batch when the writer is killed with SIGKILL', async () => {
    // Five writers at once, each killed after a different number of acknowledged batches.
    const rounds = [2, 5, 9, 14, 20];
    const results = await Promise.all(
      rounds.map(async (killAfter, round) => {
        const path = join(dir, `kill-${round}`, 'vectors.sqlite');
        const acknowledged = await writeUntilKilled(path, killAfter);
        return { path, acknowledged };
      }),
    );
    for (const { path, acknowledged } of results) {
      expect(acknowledged.length).toBeGreaterThanOrEqual(1);
      const check = new Database(path);
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      check.close();

      const store = await open(path, DURABILITY_DIMENSION);
      const count = await store.count();
      expect(count).toBeGreaterThanOrEqual(acknowledged.length);
      // A batch is one transaction: a batch cut by the kill is wholly absent, never half there.
      expect(count % DURABILITY_BATCH).toBe(0);
      const stored = await store.get(acknowledged, { tenant: 'durability', withVector: true });
      expect(stored.map((p) => p.id).sort()).toEqual([...acknowledged].sort());
      for (const point of stored) {
        const expected = durabilityPoint(durabilityNumberOf(point.id), DURABILITY_DIMENSION);
        expect(Array.from(point.vector!)).toEqual(Array.from(expected.vector));
      }
      await store.close();
    }
  });
});

/** CLIP's vector length, so the writer's transactions are the size of real ones. */
const DURABILITY_DIMENSION = 512;
const DURABILITY_BATCH = 8;
const WRITER = join(import.meta.dirname, 'testing', 'durability-writer.ts');

/**
 * Runs the durability writer on `path`, kills it with SIGKILL once `killAfter` batches are
 * acknowledged (it keeps writing meanwhile), and resolves to the acknowledged ids.
 */
function writeUntilKilled(path: string, killAfter: number): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WRITER, path, String(DURABILITY_DIMENSION), String(DURABILITY_BATCH)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (!killed && stdout.split('\n').length - 1 >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`durability writer exited with ${code ?? signal}: ${stderr}`));
        return;
      }
      // Only whole lines were acknowledged; a line cut by the kill is not.
      const lines = stdout
        .slice(0, stdout.lastIndexOf('\n') + 1)
        .split('\n')
        .filter(Boolean);
      resolvePromise(lines.flatMap((line) => line.split(' ')));
    });
  });
}
