// The saved index block: a store reopens from it without reading its points again and answers
// as before; a block that is stale, damaged, cut short or another database's is never served
// from, and the store rebuilds from SQLite (reporting progress) instead.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { openSqliteVectorStore, type SqliteVectorStore } from './sqlite-vector-store.js';
import { SnapshotReader, snapshotPathFor, type SnapshotMark } from './store-snapshot.js';
import { durabilityPoint } from './testing/durability-points.js';
import type { PointFilter, PointInput, QueryOptions } from './vector-store.js';

const logger = createSilentLogger();
const DIMENSION = 16;

/** Small thresholds, so that 800 points have an index and a saved block. */
const SMALL = {
  indexMinRows: 200,
  exactBelowRows: 0,
  probeFraction: 0.2,
  minProbeRows: 50,
  maxLists: 16,
  saveMinRows: 100,
  maxProbeShare: 1,
};

/** Point n with one share in channel C(n % 4), public for every fifth. */
function sharedPoint(n: number): PointInput {
  const point = durabilityPoint(n, DIMENSION);
  point.payload.shares = [
    {
      conversation: `C${n % 4}`,
      isPublic: n % 5 === 0,
      sharedAt: '2026-01-01T00:00:00.000Z',
      uploader: `U${n % 3}`,
      messageId: `M${n}`,
    },
  ];
  return point;
}

/** Point n with another vector: the same id, shares and payload, so the row count stays. */
function replacedPoint(n: number): PointInput {
  return { ...sharedPoint(n), vector: durabilityPoint(n + 70_000, DIMENSION).vector };
}

/** The mark a saved block was written against (store id, generation, rows, dimension). */
function markOf(blockPath: string): SnapshotMark {
  const reader = new SnapshotReader(blockPath);
  try {
    return reader.header().mark;
  } finally {
    reader.close();
  }
}

const FILTERS: PointFilter[] = [
  { tenant: 'durability' },
  { tenant: 'durability', scope: { conversations: ['C1'], includePublic: true } },
  { tenant: 'durability', share: { uploaders: ['U2'] }, excludeIds: [sharedPoint(3).id] },
  // Message ids have a code table of their own, restored lazily: old and new ids must still match.
  { tenant: 'durability', share: { conversations: ['C0'], messageId: 'M40' } },
  { tenant: 'durability', share: { messageId: 'M5000' } },
];

/** The same, with the block's codes read with a scan thread's help however few they are. */
const SMALL_THREADED = { ...SMALL, scanThreads: 2, parallelReadMinBytes: 0, parallelScanMinRows: 0 };

describe.each([
  ['on one thread', SMALL],
  ['with the codes read on scan threads', SMALL_THREADED],
])('SqliteVectorStore saved index, %s', (_, tuning) => {
  let dir: string;
  let path: string;
  const opened: SqliteVectorStore[] = [];
  let rebuilds: number;

  async function open(): Promise<SqliteVectorStore> {
    const store = await openSqliteVectorStore({
      path,
      dimension: DIMENSION,
      logger,
      search: tuning,
      onRebuildProgress: () => {
        rebuilds += 1;
      },
    });
    opened.push(store);
    return store;
  }

  /**
   * Every answer the tests compare: exact and (unless `exactOnly`) default queries, and counts,
   * per filter. A rebuilt index may train other lists, so only a restored one must give the
   * same default answers.
   */
  async function answers(store: SqliteVectorStore, exactOnly = false): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const filter of FILTERS) {
      for (const n of [7, 400, 9_999]) {
        const vector = durabilityPoint(n, DIMENSION).vector;
        for (const exact of exactOnly ? [true] : [true, false]) {
          const options: QueryOptions = { filter, limit: 10, exact };
          out.push((await store.query(vector, options)).map((h) => [h.id, h.score]));
        }
      }
      out.push(await store.count(filter));
    }
    return out;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-snapshot-'));
    path = join(dir, 'vectors.sqlite');
    rebuilds = 0;
    const store = await open();
    await store.upsert(Array.from({ length: 800 }, (_, n) => sharedPoint(n)));
    await store.delete([sharedPoint(10).id, sharedPoint(11).id], { tenant: 'durability' });
    await store.addShares('durability', sharedPoint(12).id, [
      { conversation: 'C1', isPublic: false, sharedAt: '2026-01-02T00:00:00.000Z' },
    ]);
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reopens from the saved block without a rebuild, answering and writing as before', async () => {
    const first = opened[0] as SqliteVectorStore;
    const lists = first.indexLists;
    expect(lists).toBeGreaterThan(1);
    const before = await answers(first);
    await first.close();
    expect((await stat(snapshotPathFor(path))).size).toBeGreaterThan(800 * DIMENSION);
    rebuilds = 0;

    const second = await open();
    expect(rebuilds).toBe(0);
    expect(second.indexLists).toBe(lists);
    expect(await answers(second)).toEqual(before);

    // Writes after a restore land in the restored state, and the next close saves them.
    await second.upsert([sharedPoint(5_000)]);
    await second.delete([sharedPoint(20).id], { tenant: 'durability' });
    const after = await answers(second);
    await second.close();
    const third = await open();
    expect(rebuilds).toBe(0);
    expect(await answers(third)).toEqual(after);
  });

  it("deletes a dead process's half-written block when it saves, and leaves a running one's", async () => {
    const block = snapshotPathFor(path);
    // A process that has exited: its pid names no running process (until reused, which only
    // means its file is kept a while longer).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(`${block}.tmp-${dead}`, 'half a block');
    await writeFile(`${block}.tmp-${process.ppid}`, 'a running process is saving');
    await writeFile(`${block}.tmp-notes`, 'not ours');

    await (opened[0] as SqliteVectorStore).close();
    opened.splice(0, 1);

    const names = await readdir(dir);
    expect(names).not.toContain(`vectors.sqlite.index.tmp-${dead}`);
    expect(names).toContain(`vectors.sqlite.index.tmp-${process.ppid}`);
    expect(names).toContain('vectors.sqlite.index.tmp-notes');
    expect(names).toContain('vectors.sqlite.index');
  });

  it('rebuilds from the database instead of serving a stale, damaged, cut or foreign block', async () => {
    const first = opened[0] as SqliteVectorStore;
    await first.close();
    const block = snapshotPathFor(path);
    const old = join(dir, 'old.index');
    await copyFile(block, old);
    // Written after the copy: the copy is now one generation behind.
    const writer = await open();
    await writer.upsert([sharedPoint(6_000)]);
    const expected = await answers(writer, true);
    await writer.close();
    const good = await readFile(block);

    const otherPath = join(dir, 'other.sqlite');
    const other = await openSqliteVectorStore({
      path: otherPath,
      dimension: DIMENSION,
      logger,
      search: SMALL,
    });
    await other.upsert(Array.from({ length: 801 }, (_, n) => sharedPoint(n)));
    await other.close();

    const flipped = Buffer.from(good);
    const middle = Math.floor(flipped.length / 2);
    flipped[middle] = (flipped[middle] as number) ^ 0xff;
    const spoilers: [string, () => Promise<void>][] = [
      ['stale', () => copyFile(old, block)],
      ['damaged', () => writeFile(block, flipped)],
      ['cut short', () => writeFile(block, good.subarray(0, good.length - 100))],
      ['another database', () => copyFile(snapshotPathFor(otherPath), block)],
      ['missing', () => rm(block)],
    ];
    for (const [what, spoil] of spoilers) {
      await spoil();
      rebuilds = 0;
      const store = await open();
      expect(rebuilds, what).toBeGreaterThan(0);
      expect(await answers(store, true), what).toEqual(expected);
      await store.close();
      // The rebuild saved a good block again.
      rebuilds = 0;
      await (await open()).close();
      expect(rebuilds, what).toBe(0);
    }
  });

  // Each check of a block's header and body on its own: in every case below the block holds as
  // many rows as the database, so only the check named can tell that it must not be served.
  describe('with the row count unchanged', () => {
    /** The nearest point to point 7's new vector, by the default (approximate) search. */
    async function nearestToReplaced(store: SqliteVectorStore): Promise<[string, number] | undefined> {
      const [hit] = await store.query(replacedPoint(7).vector, { filter: { tenant: 'durability' }, limit: 1 });
      return hit === undefined ? undefined : [hit.id, hit.score];
    }

    it('rebuilds from a block saved before a write that replaced a vector (the generation)', async () => {
      const first = opened[0] as SqliteVectorStore;
      await first.close();
      const block = snapshotPathFor(path);
      const old = join(dir, 'old.index');
      await copyFile(block, old);
      const writer = await open();
      await writer.upsert([replacedPoint(7)]);
      const expected = await answers(writer, true);
      await writer.close();
      const now = markOf(block);
      await copyFile(old, block);
      // Only the generation tells the two apart.
      const stale = markOf(block);
      expect(stale.generation).toBeLessThan(now.generation);
      expect({ ...stale, generation: now.generation }).toEqual(now);

      rebuilds = 0;
      const store = await open();
      expect(rebuilds).toBeGreaterThan(0);
      expect(await answers(store, true)).toEqual(expected);
      const [id, score] = (await nearestToReplaced(store)) ?? [];
      expect(id).toBe(sharedPoint(7).id);
      expect(score).toBeCloseTo(1, 5);
    });

    it("rebuilds from another database's block of the same row count and generation (the store id)", async () => {
      const first = opened[0] as SqliteVectorStore;
      const expected = await answers(first, true);
      await first.close();
      // The same writes as beforeEach's, on other points: same rows, same generation, another store id.
      const otherPath = join(dir, 'other.sqlite');
      const other = await openSqliteVectorStore({ path: otherPath, dimension: DIMENSION, logger, search: SMALL });
      await other.upsert(Array.from({ length: 800 }, (_, n) => sharedPoint(n + 100_000)));
      await other.delete([sharedPoint(100_010).id, sharedPoint(100_011).id], { tenant: 'durability' });
      await other.addShares('durability', sharedPoint(100_012).id, [
        { conversation: 'C1', isPublic: false, sharedAt: '2026-01-02T00:00:00.000Z' },
      ]);
      await other.close();
      const block = snapshotPathFor(path);
      const own = markOf(block);
      const foreign = markOf(snapshotPathFor(otherPath));
      expect(foreign.storeId).not.toBe(own.storeId);
      expect({ ...foreign, storeId: own.storeId }).toEqual(own);
      await copyFile(snapshotPathFor(otherPath), block);

      rebuilds = 0;
      const store = await open();
      expect(rebuilds).toBeGreaterThan(0);
      expect(await answers(store, true)).toEqual(expected);
    });

    it("does not let a process that missed another one's write save its index over the newer block (the other writer)", async () => {
      // Two processes on one file: the first is idle while the second replaces a vector and closes.
      const idle = opened[0] as SqliteVectorStore;
      const writer = await open();
      await writer.upsert([replacedPoint(7)]);
      const expected = await answers(writer, true);
      await writer.close();
      // The idle one never looked again, so its index still has the old vector; closing must not
      // save it under the database's new generation.
      await idle.close();

      const store = await open();
      expect(await answers(store, true)).toEqual(expected);
      const [id, score] = (await nearestToReplaced(store)) ?? [];
      expect(id).toBe(sharedPoint(7).id);
      expect(score).toBeCloseTo(1, 5);
    });

    it('rebuilds from a block whose bytes changed after it was saved (the checksum)', async () => {
      const first = opened[0] as SqliteVectorStore;
      const expected = await answers(first, true);
      await first.close();
      const block = snapshotPathFor(path);
      const good = await readFile(block);
      const reader = new SnapshotReader(block);
      const header = reader.header();
      reader.close();
      // One point id renamed to another of the same length, among the ids the block holds.
      const from = Buffer.from(sharedPoint(7).id);
      const at = good.indexOf(from);
      expect(at).toBeGreaterThan(0);
      expect(good.lastIndexOf(from)).toBe(at);
      const renamed = Buffer.from(good);
      Buffer.from(sharedPoint(9_999).id).copy(renamed, at);
      // The first byte of the first row's codes, just after the 64-byte header and the store id.
      const recoded = Buffer.from(good);
      const codeAt = 64 + header.storeIdBytes;
      recoded[codeAt] = (recoded[codeAt] as number) ^ 0x40;
      for (const [what, bytes] of [
        ['a point id renamed', renamed],
        ["a row's code changed", recoded],
      ] as const) {
        await writeFile(block, bytes);
        rebuilds = 0;
        const store = await open();
        expect(rebuilds, what).toBeGreaterThan(0);
        expect(await answers(store, true), what).toEqual(expected);
        await store.close();
      }
    });
  });
});
