// VectorMatrix against a naive reference (a Map of points, filtered and sorted the slow way)
// after growth, replacements and swap-removals, on repeatable pseudo-random data.
import { describe, expect, it } from 'vitest';
import { shareMeets } from './image-shares.js';
import type { ShareFields } from './share-arena.js';
import { VectorMatrix, type RowFields, type VectorReader } from './vector-matrix.js';
import type { PointFilter } from './vector-store.js';
import { restoreFromSnapshot } from './testing/matrix-restore.js';

function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const DIMENSION = 8;

interface ReferencePoint {
  vector: Float32Array;
  fields: RowFields;
}

/** The rule of PointFilter, the slow way: point-level fields, then one share meeting the rest. */
function matches(fields: RowFields, id: string, filter: PointFilter): boolean {
  if (fields.tenant !== filter.tenant) return false;
  if (filter.sources !== undefined && !filter.sources.includes(fields.source)) return false;
  if (filter.after !== undefined && fields.createdAtMs < filter.after.getTime()) return false;
  if (filter.before !== undefined && fields.createdAtMs >= filter.before.getTime()) return false;
  if ((filter.excludeIds ?? []).includes(id)) return false;
  if (filter.scope === undefined && filter.share === undefined) return true;
  return fields.shares.some((share) => shareMeets(share, filter));
}

/** The store of record's side of a search: float32 vectors by id, from the reference. */
function readFrom(reference: ReadonlyMap<string, ReferencePoint>): VectorReader {
  return (refs) => refs.map((ref) => reference.get(ref.id)?.vector);
}

describe('VectorMatrix', () => {
  it('finds the same top hits, counts and ids as a naive scan after growth, replacement and removal', () => {
    const random = sequence(7);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
    const randomVector = () => Float32Array.from({ length: DIMENSION }, () => random() * 2 - 1);
    const randomShare = (): ShareFields => ({
      conversation: pick(['C1', 'C2', 'C3']),
      isPublic: random() < 0.3,
      uploader: pick(['U1', 'U2', undefined]),
      messageId: pick(['M1', 'M2', 'M3', 'M4']),
      fileId: pick(['F1', 'F2', undefined]),
    });
    // Mostly one share, as in a real store; some none (folder images), some several.
    const randomShares = (): ShareFields[] =>
      Array.from({ length: pick([0, 1, 1, 1, 2, 3]) }, randomShare);
    const randomFields = (): RowFields => ({
      tenant: pick(['T1', 'T1', 'T2']),
      source: pick(['slack', 'discord', 'local']),
      createdAtMs: Math.floor(random() * 1000),
      shares: randomShares(),
    });

    const matrix = new VectorMatrix(DIMENSION);
    const reference = new Map<string, ReferencePoint>();
    // 2,500 rows: past the first allocation of 1,024, so the matrix has grown twice.
    for (let n = 0; n < 2500; n++) {
      const id = `p${String(n).padStart(5, '0')}`;
      const point = { vector: randomVector(), fields: randomFields() };
      matrix.upsert(id, point.vector, point.fields);
      reference.set(id, point);
    }
    for (let n = 0; n < 2500; n += 3) {
      const id = `p${String(n).padStart(5, '0')}`;
      expect(matrix.remove(id)).toBe(true);
      reference.delete(id);
    }
    // Every 7th id again: some replace a live row, some bring back a removed one.
    for (let n = 1; n < 2500; n += 7) {
      const id = `p${String(n).padStart(5, '0')}`;
      const point = { vector: randomVector(), fields: randomFields() };
      matrix.upsert(id, point.vector, point.fields);
      reference.set(id, point);
    }
    expect(matrix.remove('p00000')).toBe(false);
    // Shares rewritten over and over, longer and shorter: freed slots pile up and are compacted.
    const live = [...reference.keys()];
    let mostSlots = 0;
    for (let round = 0; round < 12; round++) {
      for (const id of live) {
        const point = reference.get(id) as ReferencePoint;
        point.fields = { ...point.fields, shares: randomShares() };
        expect(matrix.setShares(id, point.fields.shares)).toBe(true);
      }
      mostSlots = Math.max(mostSlots, matrix.shareSlotsInUse);
    }
    expect(matrix.setShares('p00000', [randomShare()])).toBe(false);
    const liveShares = [...reference.values()].reduce((n, p) => n + p.fields.shares.length, 0);
    expect(mostSlots).toBeLessThan(liveShares * 2 + 4096 + 4);
    expect(matrix.size).toBe(reference.size);

    const filters: PointFilter[] = [
      { tenant: 'T1' },
      { tenant: 'T2', scope: { conversations: ['C1'], includePublic: true } },
      { tenant: 'T1', scope: { conversations: ['C2', 'C3'], includePublic: false } },
      { tenant: 'T1', share: { conversations: ['C2', 'C3'], uploaders: ['U1'] } },
      {
        tenant: 'T1',
        scope: { conversations: ['C9'], includePublic: true },
        share: { conversations: ['C1'], uploaders: ['U2'] },
      },
      { tenant: 'T1', share: {} },
      { tenant: 'T1', sources: ['local'], share: { messageId: 'M2' } },
      { tenant: 'T1', share: { fileId: 'F2' }, after: new Date(200), before: new Date(700) },
      {
        tenant: 'T1',
        scope: { conversations: [], includePublic: true },
        excludeIds: ['p00001', 'p00002'],
      },
      { tenant: 'T9' },
    ];
    for (const filter of filters) {
      const query = randomVector();
      const expected = [...reference]
        .filter(([id, p]) => matches(p.fields, id, filter))
        .map(([id, p]) => ({ id, score: p.vector.reduce((s, x, j) => s + x * query[j]!, 0) }))
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));

      expect(matrix.countMatching(filter)).toBe(expected.length);
      expect(matrix.idsMatching(filter).sort()).toEqual(expected.map((e) => e.id).sort());
      const hits = matrix.nearest(query, filter, 15, readFrom(reference));
      expect(hits.map((h) => h.id)).toEqual(expected.slice(0, 15).map((e) => e.id));
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 5));
    }
  });

  it('answers filters naming a few of many conversations as a naive scan does, after writes', () => {
    // 40 channels and rare public shares, so one or two channels' rows are few enough for the
    // per-conversation lists to be used; removals and share rewrites must drop stale lists.
    const random = sequence(11);
    const channel = (): string => `C${Math.floor(random() * 40)}`;
    const randomVector = () => Float32Array.from({ length: DIMENSION }, () => random() * 2 - 1);
    const randomShares = (): ShareFields[] =>
      Array.from({ length: random() < 0.1 ? 2 : 1 }, () => ({
        conversation: channel(),
        isPublic: random() < 0.02,
        uploader: random() < 0.5 ? 'U1' : 'U2',
      }));
    const matrix = new VectorMatrix(DIMENSION);
    const reference = new Map<string, ReferencePoint>();
    const filters: PointFilter[] = [
      { tenant: 'T1', scope: { conversations: ['C3'], includePublic: false } },
      { tenant: 'T1', scope: { conversations: ['C3', 'C7', 'C3'], includePublic: true } },
      { tenant: 'T1', share: { conversations: ['C5'], uploaders: ['U2'] } },
      { tenant: 'T1', scope: { conversations: ['C99'], includePublic: false } },
      { tenant: 'T2', scope: { conversations: ['C3'], includePublic: false } },
    ];
    const check = (): void => {
      for (const filter of filters) {
        const query = randomVector();
        const expected = [...reference]
          .filter(([id, p]) => matches(p.fields, id, filter))
          .map(([id, p]) => ({ id, score: p.vector.reduce((s, x, j) => s + x * query[j]!, 0) }))
          .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
        expect(matrix.countMatching(filter)).toBe(expected.length);
        expect(matrix.idsMatching(filter).sort()).toEqual(expected.map((e) => e.id).sort());
        const hits = matrix.nearest(query, filter, 10, readFrom(reference));
        expect(hits.map((h) => h.id)).toEqual(expected.slice(0, 10).map((e) => e.id));
      }
    };
    const put = (n: number): void => {
      const id = `p${n}`;
      const fields = { tenant: 'T1', source: 'slack', createdAtMs: n, shares: randomShares() };
      const point = { vector: randomVector(), fields };
      matrix.upsert(id, point.vector, fields);
      reference.set(id, point);
    };
    for (let n = 0; n < 3000; n++) put(n);
    check();
    for (let n = 0; n < 3000; n += 4) {
      matrix.remove(`p${n}`);
      reference.delete(`p${n}`);
    }
    check();
    for (let n = 1; n < 3000; n += 5) {
      const point = reference.get(`p${n}`);
      if (point === undefined) continue;
      point.fields = { ...point.fields, shares: randomShares() };
      matrix.setShares(`p${n}`, point.fields.shares);
    }
    for (let n = 3000; n < 3200; n++) put(n);
    check();
  });

  it('a row listed under a named conversation still needs its tenant and the share fields', () => {
    // The per-conversation lists skip the share test only where the list implies it (a scope
    // alone, or a share filter naming only conversations): never for a tenant or an uploader.
    const matrix = new VectorMatrix(2);
    const vectors = new Map<string, ReferencePoint>();
    const put = (id: string, tenant: string, uploader: string): void => {
      const fields: RowFields = {
        tenant,
        source: 'slack',
        createdAtMs: 0,
        shares: [{ conversation: 'C1', isPublic: false, uploader }],
      };
      const vector = Float32Array.from([1, vectors.size]);
      matrix.upsert(id, vector, fields);
      vectors.set(id, { vector, fields });
    };
    put('mine-u1', 'T1', 'U1');
    put('mine-u2', 'T1', 'U2');
    put('theirs-u1', 'T2', 'U1');
    // Rows elsewhere, so that C1's few rows are answered from its list (not a walk of all rows).
    for (let n = 0; n < 30; n++) {
      const fields: RowFields = {
        tenant: 'T1',
        source: 'slack',
        createdAtMs: 0,
        shares: [{ conversation: 'C2', isPublic: false, uploader: 'U1' }],
      };
      matrix.upsert(`other-${n}`, Float32Array.from([0, 1]), fields);
    }
    const ids = (filter: PointFilter) =>
      matrix.nearest(Float32Array.from([1, 0]), filter, 10, readFrom(vectors)).map((h) => h.id);
    const scope = { conversations: ['C1'], includePublic: false };
    expect(ids({ tenant: 'T1', scope })).toEqual(['mine-u1', 'mine-u2']);
    expect(ids({ tenant: 'T2', scope })).toEqual(['theirs-u1']);
    expect(ids({ tenant: 'T1', scope, share: { uploaders: ['U2'] } })).toEqual(['mine-u2']);
    expect(ids({ tenant: 'T1', share: { conversations: ['C1'], uploaders: ['U1'] } })).toEqual([
      'mine-u1',
    ]);
    expect(ids({ tenant: 'T1', share: { conversations: ['C1'] } })).toEqual(['mine-u1', 'mine-u2']);
  });

  it('stays exact after a restore or writes bring rows with larger error bounds', () => {
    // The re-rank first rules rows out with the largest bound of any row: a restore that writes
    // larger norms straight into the arrays, or a write of a larger row, must raise it.
    const random = sequence(5);
    const fields: RowFields = { tenant: 'T1', source: 'local', createdAtMs: 0, shares: [] };
    const tiny = () => Float32Array.from({ length: DIMENSION }, () => random() * 0.001);
    // One large component makes coarse codes: the small ones, which decide the exact order for
    // this query, round to zero, so the approximate order is far from the exact one.
    const coarse = () =>
      Float32Array.from({ length: DIMENSION }, (_, j) =>
        j === 0 ? 500 + random() * 500 : random() * 3,
      );
    const query = Float32Array.from({ length: DIMENSION }, (_, j) => (j === 0 ? 0.001 : 1));
    const reference = new Map<string, ReferencePoint>();
    const large = new VectorMatrix(DIMENSION);
    for (let n = 0; n < 200; n++) {
      const vector = coarse();
      large.upsert(`l${n}`, vector, fields);
      reference.set(`l${n}`, { vector, fields });
    }
    const expected = [...reference]
      .map(([id, p]) => ({ id, score: p.vector.reduce((s, x, j) => s + x * query[j]!, 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10)
      .map((e) => e.id);

    const restored = new VectorMatrix(DIMENSION);
    for (let n = 0; n < 200; n++) restored.upsert(`s${n}`, tiny(), fields);
    restored.nearest(query, { tenant: 'T1' }, 10, () => []);
    restoreFromSnapshot(large, restored);
    const read = readFrom(reference);
    expect(restored.nearest(query, { tenant: 'T1' }, 10, read).map((h) => h.id)).toEqual(expected);

    const written = new VectorMatrix(DIMENSION);
    written.upsert('s0', tiny(), fields);
    written.nearest(query, { tenant: 'T1' }, 10, () => []);
    written.remove('s0');
    for (const [id, point] of reference) written.upsert(id, point.vector, fields);
    expect(written.nearest(query, { tenant: 'T1' }, 10, read).map((h) => h.id)).toEqual(expected);
  });

  it('clear() empties the matrix and forgets ids', () => {
    const matrix = new VectorMatrix(2);
    const fields: RowFields = {
      tenant: 'T1',
      source: 'local',
      createdAtMs: 0,
      shares: [{ conversation: 'C1', isPublic: false }],
    };
    matrix.upsert('a', Float32Array.from([1, 0]), fields);
    matrix.clear();
    expect(matrix.size).toBe(0);
    expect(matrix.has('a')).toBe(false);
    const read = readFrom(new Map([['b', { vector: Float32Array.from([0, 1]), fields }]]));
    expect(matrix.nearest(Float32Array.from([1, 0]), { tenant: 'T1' }, 5, read)).toEqual([]);
    matrix.upsert('b', Float32Array.from([0, 1]), fields);
    expect(matrix.nearest(Float32Array.from([0, 1]), { tenant: 'T1' }, 5, read)).toEqual([
      { id: 'b', score: 1 },
    ]);
  });
});
