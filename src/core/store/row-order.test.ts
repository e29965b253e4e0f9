// Rows grouped by tenant and conversation: the store saves its rows so (and keeps them so in
// memory), so that a scan of one conversation reads its codes in sequence. Grouping changes
// where rows sit, never what a search answers: these tests hold the answers to a naive scan
// through writes, deletes, moves between conversations, regroups and reopens from the block.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { mergeShares, shareMeets } from './image-shares.js';
import { groupedOrder, type GroupColumns } from './row-order.js';
import type { ShareFields } from './share-arena.js';
import { openSqliteVectorStore, type SqliteVectorStore } from './sqlite-vector-store.js';
import { DEFAULT_SEARCH_TUNING } from './search-planner.js';
import { VectorMatrix, type RowFields, type VectorReader } from './vector-matrix.js';
import type { ImagePayload, ImageShare, PointFilter } from './vector-store.js';
import { restoreFromSnapshot } from './testing/matrix-restore.js';

const DIMENSION = 8;

function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The rule of PointFilter, the slow way (as in vector-matrix.test.ts). */
function matches(fields: RowFields, id: string, filter: PointFilter): boolean {
  if (fields.tenant !== filter.tenant) return false;
  if (filter.sources !== undefined && !filter.sources.includes(fields.source)) return false;
  if ((filter.excludeIds ?? []).includes(id)) return false;
  if (filter.scope === undefined && filter.share === undefined) return true;
  return fields.shares.some((share) => shareMeets(share, filter));
}

interface ReferencePoint {
  vector: Float32Array;
  fields: RowFields;
}

/** The exact top `k` of the reference under `filter`: ids, best first, ties by id. */
function naiveTop(
  reference: ReadonlyMap<string, ReferencePoint>,
  query: Float32Array,
  filter: PointFilter,
  k: number,
): { id: string; score: number }[] {
  return [...reference]
    .filter(([id, p]) => matches(p.fields, id, filter))
    .map(([id, p]) => ({ id, score: p.vector.reduce((s, x, j) => s + x * query[j]!, 0) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, k);
}

/** Filters a chat search and the share changes use: one, two, a missing conversation, more. */
const FILTERS: PointFilter[] = [
  { tenant: 'T1', scope: { conversations: ['C3'], includePublic: false } },
  { tenant: 'T1', scope: { conversations: ['C3', 'C7'], includePublic: false } },
  { tenant: 'T1', scope: { conversations: ['C5'], includePublic: true } },
  { tenant: 'T1', share: { conversations: ['C2'], uploaders: ['U1'] } },
  {
    tenant: 'T1',
    scope: { conversations: ['C4'], includePublic: false },
    excludeIds: ['p7', 'p8'],
  },
  { tenant: 'T2', scope: { conversations: ['C3'], includePublic: false } },
  { tenant: 'T1', scope: { conversations: ['C99'], includePublic: false } },
  { tenant: 'T1' },
  { tenant: 'T1', sources: ['local'] },
];

describe('groupedOrder', () => {
  /** Columns for rows given as [tenant, first conversation or 0 for none]. */
  function columnsOf(rows: [number, number][]): GroupColumns {
    return {
      tenant: Uint32Array.from(rows, ([tenant]) => tenant),
      shareStart: Uint32Array.from(rows, (_, row) => row),
      shareCount: Uint32Array.from(rows, ([, conversation]) => (conversation === 0 ? 0 : 1)),
      conversation: Uint32Array.from(rows, ([, conversation]) => conversation),
    };
  }

  it('orders rows by tenant, then by the conversation of their first share, keeping their order within each', () => {
    const rows: [number, number][] = [
      [2, 5],
      [1, 6],
      [1, 5],
      [2, 0],
      [1, 6],
      [1, 0],
      [1, 5],
    ];
    const order = groupedOrder(columnsOf(rows), rows.length, 6);
    expect(Array.from(order ?? [])).toEqual([5, 2, 6, 1, 4, 3, 0]);
  });

  it('leaves rows that are grouped already, or all but one in a hundred, where they are', () => {
    const grouped: [number, number][] = Array.from({ length: 400 }, (_, row) => [
      1,
      1 + Math.floor(row / 100),
    ]);
    expect(groupedOrder(columnsOf(grouped), grouped.length, 4)).toBeNull();
    // Four rows of conversation 1 appended after the others: 4 runs too many of 404 rows.
    const appended: [number, number][] = [...grouped, [1, 1], [1, 2], [1, 1], [1, 2]];
    expect(groupedOrder(columnsOf(appended), appended.length, 4)).toBeNull();
    const more: [number, number][] = [...appended, [1, 1], [1, 2], [1, 1], [1, 2]];
    expect(groupedOrder(columnsOf(more), more.length, 4)).not.toBeNull();
  });
});

describe('VectorMatrix.regroup', () => {
  const random = sequence(23);
  const randomVector = () => Float32Array.from({ length: DIMENSION }, () => random() * 2 - 1);
  const channel = (): string => `C${Math.floor(random() * 12)}`;
  /** Mostly one share in one of 12 channels; some two; one in ten none (a folder image). */
  const randomShares = (): ShareFields[] =>
    random() < 0.1
      ? []
      : Array.from({ length: random() < 0.15 ? 2 : 1 }, () => ({
          conversation: channel(),
          isPublic: random() < 0.1,
          uploader: random() < 0.5 ? 'U1' : 'U2',
        }));
  const randomFields = (): RowFields => {
    const shares = randomShares();
    return {
      tenant: random() < 0.85 ? 'T1' : 'T2',
      source: shares.length === 0 ? 'local' : 'slack',
      createdAtMs: 0,
      shares,
    };
  };
  /** The index on, and probing every list: its answers are then exact, so a stale list shows. */
  const WHOLE_PROBE = {
    ...DEFAULT_SEARCH_TUNING,
    indexMinRows: 200,
    exactBelowRows: 0,
    listedExactShare: 0,
    probeFraction: 1,
    maxProbeShare: 1,
    maxLists: 8,
  };

  let matrix: VectorMatrix;
  let reference: Map<string, ReferencePoint>;
  const read: VectorReader = (refs) => refs.map((ref) => reference.get(ref.id)?.vector);

  function put(id: string, fields = randomFields()): void {
    const point = { vector: randomVector(), fields };
    matrix.upsert(id, point.vector, point.fields);
    reference.set(id, point);
  }

  /** Every filter, exactly and through the index, against the naive scan. */
  function expectNaiveAnswers(): void {
    for (const filter of FILTERS) {
      const query = randomVector();
      const expected = naiveTop(reference, query, filter, 10);
      for (const exact of [true, false]) {
        const hits = matrix.nearest(query, filter, 10, read, exact);
        expect(hits.map((h) => h.id), JSON.stringify({ filter, exact })).toEqual(
          expected.map((e) => e.id),
        );
      }
      expect(matrix.countMatching(filter)).toBe(naiveTop(reference, query, filter, 1e9).length);
    }
  }

  /** The group (tenant and first conversation) of each row, in row order. */
  function groupsInRowOrder(): string[] {
    return matrix.snapshot().extras.ids.map((id) => {
      const fields = reference.get(id)?.fields;
      return `${fields?.tenant} ${fields?.shares[0]?.conversation ?? '(none)'}`;
    });
  }

  beforeEach(() => {
    matrix = new VectorMatrix(DIMENSION, 1024, WHOLE_PROBE);
    reference = new Map();
    for (let n = 0; n < 1500; n++) put(`p${n}`);
    matrix.maintainIndex();
  });

  /** Runs of equal values in a sequence. */
  const runs = (sequenceOf: string[]) =>
    sequenceOf.filter((value, i) => i === 0 || value !== sequenceOf[i - 1]).length;

  it("puts each conversation's rows of each tenant in one run", () => {
    const before = groupsInRowOrder();
    const groups = new Set(before).size;
    expect(runs(before)).toBeGreaterThan(groups * 10);
    expect(matrix.regroup()).toBe(true);
    expect(runs(groupsInRowOrder())).toBe(groups);
    // Grouped already: nothing moves.
    expect(matrix.regroup()).toBe(false);
  });

  it('then sorts only the rows written since, after the rows it grouped before, which stay where they are', () => {
    matrix.regroup();
    const grouped = groupsInRowOrder();
    const groupedIds = matrix.snapshot().extras.ids;
    const groups = new Set(grouped).size;
    // 20% more rows: fewer than double, so only they are sorted, into a run per group.
    for (let n = 1500; n < 1800; n++) put(`p${n}`);
    expect(matrix.regroup()).toBe(true);
    expect(matrix.snapshot().extras.ids.slice(0, groupedIds.length)).toEqual(groupedIds);
    const tail = groupsInRowOrder().slice(grouped.length);
    expect(runs(tail)).toBe(new Set(tail).size);
    expect(runs(groupsInRowOrder())).toBeLessThanOrEqual(2 * groups);
    expectNaiveAnswers();
  });

  /** A new matrix restored from this one's snapshot, as a reopen from the saved block does. */
  function reopened(): VectorMatrix {
    const restored = new VectorMatrix(DIMENSION, 1024, WHOLE_PROBE);
    const { extras } = matrix.snapshot();
    restoreFromSnapshot(matrix, restored, extras.centroids.length / DIMENSION);
    return restored;
  }

  it('after a reopen from a block saved grouped, sorts only the rows written since, as before the reopen', () => {
    matrix.regroup();
    const groupedIds = matrix.snapshot().extras.ids;
    matrix = reopened();
    for (let n = 1500; n < 1800; n++) put(`p${n}`);
    expect(matrix.regroup()).toBe(true);
    // A whole sort would have interleaved the new rows with the old ones of their group.
    expect(matrix.snapshot().extras.ids.slice(0, groupedIds.length)).toEqual(groupedIds);
    expectNaiveAnswers();
  });

  it('after a reopen from a block saved in arrival order, sorts every row at the next save', () => {
    matrix = reopened();
    expect(matrix.regroup()).toBe(true);
    expect(runs(groupsInRowOrder())).toBe(new Set(groupsInRowOrder()).size);
    expectNaiveAnswers();
  });

  it('sorts every row again once the rows have doubled, or removals have left over 1% out of place', () => {
    matrix.regroup();
    const groups = new Set(groupsInRowOrder()).size;
    for (let n = 1500; n < 3100; n++) put(`p${n}`);
    expect(matrix.regroup()).toBe(true);
    expect(runs(groupsInRowOrder())).toBe(groups);
    // Each removal moves the last row into the hole: 60 strays of 3,040 rows, about 2%, each
    // two runs more.
    for (let n = 0; n < 600; n += 10) {
      matrix.remove(`p${n}`);
      reference.delete(`p${n}`);
    }
    expect(runs(groupsInRowOrder())).toBeGreaterThan(groups + 60);
    expect(matrix.regroup()).toBe(true);
    expect(runs(groupsInRowOrder())).toBe(groups);
    expectNaiveAnswers();
  });

  it('gives the same approximate answers before and after a regroup: each row stays in its list', () => {
    // Probing a few lists only, so that a row left in another list than its own would change
    // which rows are scanned.
    const partial = new VectorMatrix(DIMENSION, 1024, {
      ...WHOLE_PROBE,
      probeFraction: 0.05,
      minProbeRows: 20,
      probeMargin: 0,
    });
    for (const [id, point] of reference) partial.upsert(id, point.vector, point.fields);
    partial.maintainIndex();
    const queries = Array.from({ length: 20 }, randomVector);
    const answers = () =>
      queries.flatMap((query) =>
        FILTERS.map((filter) => partial.nearest(query, filter, 10, read, false).map((h) => h.id)),
      );
    const before = answers();
    expect(partial.regroup()).toBe(true);
    expect(answers()).toEqual(before);
  });

  it('answers as a naive scan after a regroup, and after upserts, deletes and moves between conversations that follow it', () => {
    // The conversation lists are built before the regroup, so stale lists would show.
    expectNaiveAnswers();
    expect(matrix.regroup()).toBe(true);
    expectNaiveAnswers();
    // Writes after a regroup: the id map, the index lists and the shares must follow the rows.
    for (let n = 0; n < 1500; n += 3) {
      expect(matrix.remove(`p${n}`)).toBe(true);
      reference.delete(`p${n}`);
    }
    for (let n = 1; n < 1500; n += 7) {
      if (!reference.has(`p${n}`)) continue;
      // Same id, another conversation: the row moves from one group to another.
      put(`p${n}`);
    }
    for (let n = 2; n < 1500; n += 11) {
      const point = reference.get(`p${n}`);
      if (point === undefined) continue;
      point.fields = { ...point.fields, shares: randomShares() };
      expect(matrix.setShares(`p${n}`, point.fields.shares)).toBe(true);
    }
    for (let n = 1500; n < 1800; n++) put(`p${n}`);
    expectNaiveAnswers();
    expect(matrix.regroup()).toBe(true);
    expectNaiveAnswers();
    expect(matrix.has('p0')).toBe(false);
    expect(matrix.has('p1')).toBe(true);
  });
});

describe('SqliteVectorStore, rows grouped by conversation', () => {
  const logger = createSilentLogger();
  let dir: string;
  let path: string;
  let rebuilds: number;
  const opened: SqliteVectorStore[] = [];
  const random = sequence(31);
  const reference = new Map<string, { vector: Float32Array; payload: ImagePayload }>();

  /** Small thresholds: a saved block past 100 rows, saved again after 150 changes. */
  async function open(): Promise<SqliteVectorStore> {
    const store = await openSqliteVectorStore({
      path,
      dimension: DIMENSION,
      logger,
      search: { indexMinRows: 200, maxLists: 8, saveMinRows: 100, saveAfterChanges: 150 },
      onRebuildProgress: () => {
        rebuilds += 1;
      },
    });
    opened.push(store);
    return store;
  }

  function sharesOf(): ImageShare[] {
    if (random() < 0.1) return [];
    return Array.from({ length: random() < 0.15 ? 2 : 1 }, () => ({
      conversation: `C${Math.floor(random() * 12)}`,
      isPublic: random() < 0.1,
      sharedAt: '2026-01-01T00:00:00.000Z',
      uploader: random() < 0.5 ? 'U1' : 'U2',
    }));
  }

  async function put(store: SqliteVectorStore, ids: string[]): Promise<void> {
    const points = ids.map((id) => {
      const shares = sharesOf();
      const payload: ImagePayload = {
        tenant: random() < 0.85 ? 'T1' : 'T2',
        source: shares.length === 0 ? 'local' : 'slack',
        filename: `${id}.png`,
        contentHash: id,
        modelId: 'row-order-test',
        createdAt: '2026-01-01T00:00:00.000Z',
        width: 1,
        height: 1,
        shares,
      };
      const vector = Float32Array.from({ length: DIMENSION }, () => random() * 2 - 1);
      reference.set(id, { vector, payload });
      return { id, vector, payload };
    });
    await store.upsert(points);
  }

  async function remove(store: SqliteVectorStore, ids: string[]): Promise<void> {
    await store.delete(ids, { tenant: 'T1' });
    await store.delete(ids, { tenant: 'T2' });
    for (const id of ids) reference.delete(id);
  }

  /** Every filter's exact top 10, with scores and payloads, against the naive scan. */
  async function expectExactAnswers(store: SqliteVectorStore): Promise<void> {
    const asFields = new Map(
      [...reference].map(([id, p]) => [
        id,
        {
          vector: p.vector,
          fields: {
            tenant: p.payload.tenant,
            source: p.payload.source,
            createdAtMs: 0,
            shares: p.payload.shares,
          },
        },
      ]),
    );
    for (const filter of FILTERS) {
      const query = Float32Array.from({ length: DIMENSION }, () => random() * 2 - 1);
      const expected = naiveTop(asFields, query, filter, 10);
      const hits = await store.query(query, { filter, limit: 10, exact: true });
      expect(hits.map((h) => h.id), JSON.stringify(filter)).toEqual(expected.map((e) => e.id));
      hits.forEach((hit, i) => {
        expect(hit.score).toBeCloseTo(expected[i]!.score, 5);
        expect(hit.payload).toEqual(reference.get(hit.id)?.payload);
      });
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-row-order-'));
    path = join(dir, 'vectors.sqlite');
    rebuilds = 0;
    reference.clear();
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stays exact after upserts, deletes, moves between conversations, a save mid-way and a reopen from the saved index', async () => {
    const ids = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `p${from + i}`);
    const first = await open();
    // 120 points: no save yet (150 changes), so the rows are in arrival order.
    await put(first, ids(0, 120));
    await expectExactAnswers(first);
    // 60 more make 180 changes: the store saves (and regroups) in the middle of its life...
    await put(first, ids(120, 180));
    await expectExactAnswers(first);
    // ...and keeps writing: deletes, new points, and points moved to other conversations.
    await remove(first, ids(0, 30));
    await put(first, [...ids(40, 60), ...ids(180, 200)]);
    // Points posted again in C3: they join its rows, wherever their first share put them.
    const repost: ImageShare = {
      conversation: 'C3',
      isPublic: false,
      sharedAt: '2026-01-02T00:00:00.000Z',
    };
    for (const id of ids(100, 110)) {
      const point = reference.get(id) as { payload: ImagePayload };
      if (!(await first.addShares(point.payload.tenant, id, [repost]))) throw new Error(id);
      point.payload.shares = mergeShares(point.payload.shares, [repost]);
    }
    await expectExactAnswers(first);
    await first.close();

    // The reopen reads the block the close saved, grouped, without a rebuild.
    const second = await open();
    expect(rebuilds).toBe(0);
    await expectExactAnswers(second);
    await remove(second, ids(60, 80));
    await put(second, [...ids(90, 110), ...ids(200, 260)]);
    await expectExactAnswers(second);
    await second.close();
    const third = await open();
    expect(rebuilds).toBe(0);
    await expectExactAnswers(third);
  });
});
