// The behaviour every VectorStore must show, as a vitest suite any implementation's test file
// runs: describeVectorStoreContract('sqlite', openStore). Known 4-d vectors give exact scores.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindimageError } from '../errors.js';
import type {
  ImagePayload,
  PointFilter,
  PointInput,
  StoredPoint,
  VectorStore,
} from './vector-store.js';

/**
 * Opens a fresh, empty store of `dimension` (a new temp folder, a new Qdrant collection).
 * `cleanup` closes the store and removes what it made; it must not fail if the test already
 * closed the store.
 */
export type OpenVectorStore = (
  dimension: number,
) => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>;

/** The suite's vector length: small enough to write every vector and score by hand. */
const DIMENSION = 4;

/**
 * Point id number `n` as a lowercase UUID (Qdrant accepts only UUIDs or integers). Ids sort as
 * strings in the order of `n`, so expected orders can be written with numbers.
 */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function payload(overrides: Partial<ImagePayload> = {}): ImagePayload {
  return {
    tenant: 'T1',
    source: 'slack',
    filename: 'cat.png',
    contentHash: 'a'.repeat(64),
    modelId: 'clip-vit-b32',
    createdAt: '2026-01-01T00:00:00.000Z',
    width: 640,
    height: 480,
    ...overrides,
  };
}

function point(n: number, vector: number[], overrides: Partial<ImagePayload> = {}): PointInput {
  return { id: uuid(n), vector: Float32Array.from(vector), payload: payload(overrides) };
}

/** Unit vectors whose dot products with QUERY are exactly 1, 0.8, 0.6, 0 and -1. */
const QUERY = Float32Array.from([1, 0, 0, 0]);
const SCORE_1 = [1, 0, 0, 0];
const SCORE_08 = [0.8, 0, 0.6, 0];
const SCORE_06 = [0.6, 0.8, 0, 0];
const SCORE_0 = [0, 0, 0, 1];
const SCORE_MINUS_1 = [-1, 0, 0, 0];

function ids(points: readonly { id: string }[]): string[] {
  return points.map((p) => p.id);
}

function sortedIds(points: readonly { id: string }[]): string[] {
  return ids(points).sort();
}

/** Registers the contract suite for one implementation. */
export function describeVectorStoreContract(name: string, openStore: OpenVectorStore): void {
  describe(`VectorStore contract: ${name}`, () => {
    let store: VectorStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await openStore(DIMENSION));
    });

    afterEach(async () => {
      await cleanup();
    });

    /** Ids of every hit for QUERY within `filter` (limit large enough for the whole store). */
    async function hitIds(filter: PointFilter): Promise<string[]> {
      return ids(await store.query(QUERY, { filter, limit: 100 }));
    }

    describe('empty store', () => {
      it('answers a query, count, get, scroll and stats with nothing', async () => {
        expect(store.dimension).toBe(DIMENSION);
        expect(await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 10 })).toEqual([]);
        expect(await store.count()).toBe(0);
        expect(await store.count({ tenant: 'T1' })).toBe(0);
        expect(await store.get([uuid(1)])).toEqual([]);
        expect(await store.scroll({ limit: 10 })).toEqual({ points: [] });
        expect(await store.stats()).toEqual({ total: 0, bySource: {}, byModel: {} });
      });
    });

    describe('upsert and get', () => {
      it('returns the payload exactly as written, without the vector unless asked', async () => {
        const full = payload({
          channel: 'C1',
          channelIsPublic: true,
          uploader: 'U1',
          messageId: '1700000000.000100',
          fileId: 'F1',
          path: '/photos/cat.png',
          permalink: 'https://example.slack.com/files/U1/F1/cat.png',
          filename: 'chat ✓ 猫.png',
        });
        await store.upsert([{ id: uuid(1), vector: Float32Array.from(SCORE_06), payload: full }]);

        const [plain] = await store.get([uuid(1)]);
        expect(plain).toEqual({ id: uuid(1), payload: full });
        expect(plain?.vector).toBeUndefined();

        const [withVector] = await store.get([uuid(1)], { withVector: true });
        expect(withVector?.payload).toEqual(full);
        expect(withVector?.vector).toBeInstanceOf(Float32Array);
        expect(withVector?.vector?.length).toBe(DIMENSION);
        SCORE_06.forEach((x, i) => expect(withVector?.vector?.[i]).toBeCloseTo(x, 6));
      });

      it('skips missing ids and returns each existing id once', async () => {
        await store.upsert([point(1, SCORE_1), point(2, SCORE_0), point(3, SCORE_06)]);
        const found = await store.get([uuid(3), uuid(99), uuid(1), uuid(3)]);
        expect(sortedIds(found)).toEqual([uuid(1), uuid(3)]);
        expect(await store.get([])).toEqual([]);
      });

      it('looks points up by id alone, whatever their tenant, so callers check payload.tenant', async () => {
        await store.upsert([
          point(1, SCORE_1, { tenant: 'T1' }),
          point(2, SCORE_1, { tenant: 'T2' }),
        ]);
        const found = await store.get([uuid(1), uuid(2)]);
        expect(found.map((p) => [p.id, p.payload.tenant]).sort()).toEqual([
          [uuid(1), 'T1'],
          [uuid(2), 'T2'],
        ]);
      });

      it('replaces the payload and vector of a point written again with the same id', async () => {
        await store.upsert([point(1, SCORE_MINUS_1, { channel: 'C-old', filename: 'old.png' })]);
        await store.upsert([point(1, SCORE_08, { channel: 'C-new', filename: 'new.png' })]);

        expect(await store.count()).toBe(1);
        const [stored] = await store.get([uuid(1)]);
        expect(stored?.payload.filename).toBe('new.png');
        const [hit] = await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 1 });
        expect(hit?.score).toBeCloseTo(0.8, 5);
        expect(await hitIds({ tenant: 'T1', channels: ['C-old'] })).toEqual([]);
        expect(await hitIds({ tenant: 'T1', channels: ['C-new'] })).toEqual([uuid(1)]);
      });

      it('writes a batch of 300 points in one call', async () => {
        const batch = Array.from({ length: 300 }, (_, i) => point(i + 1, SCORE_0));
        await store.upsert(batch);
        expect(await store.count()).toBe(300);
        expect(await store.count({ tenant: 'T1' })).toBe(300);
      });

      it('accepts an empty batch', async () => {
        await store.upsert([]);
        expect(await store.count()).toBe(0);
      });
    });

    describe('refusals', () => {
      it('refuses a vector of the wrong length with a FindimageError and writes none of the batch', async () => {
        const good = point(1, SCORE_1);
        const bad = { id: uuid(2), vector: new Float32Array(DIMENSION + 1), payload: payload() };
        await expect(store.upsert([good, bad])).rejects.toBeInstanceOf(FindimageError);
        expect(await store.count()).toBe(0);
        expect(await store.get([uuid(1)])).toEqual([]);
      });

      it('refuses a vector holding NaN or Infinity', async () => {
        await expect(store.upsert([point(1, [NaN, 0, 0, 0])])).rejects.toBeInstanceOf(
          FindimageError,
        );
        await expect(store.upsert([point(1, [Infinity, 0, 0, 0])])).rejects.toBeInstanceOf(
          FindimageError,
        );
        expect(await store.count()).toBe(0);
      });

      it('refuses a point whose payload has no tenant or a createdAt that is not a date', async () => {
        await expect(store.upsert([point(1, SCORE_1, { tenant: '' })])).rejects.toBeInstanceOf(
          FindimageError,
        );
        await expect(
          store.upsert([point(1, SCORE_1, { createdAt: 'last Tuesday' })]),
        ).rejects.toBeInstanceOf(FindimageError);
        expect(await store.count()).toBe(0);
      });

      it('refuses a query vector of the wrong length', async () => {
        await store.upsert([point(1, SCORE_1)]);
        const wrong = new Float32Array(DIMENSION * 2);
        await expect(
          store.query(wrong, { filter: { tenant: 'T1' }, limit: 1 }),
        ).rejects.toBeInstanceOf(FindimageError);
      });

      it('refuses a query, count or deleteByFilter with an empty tenant', async () => {
        await store.upsert([point(1, SCORE_1)]);
        const noTenant = { tenant: '' };
        await expect(store.query(QUERY, { filter: noTenant, limit: 1 })).rejects.toBeInstanceOf(
          FindimageError,
        );
        await expect(store.count(noTenant)).rejects.toBeInstanceOf(FindimageError);
        await expect(store.deleteByFilter(noTenant)).rejects.toBeInstanceOf(FindimageError);
        expect(await store.count()).toBe(1);
      });

      it('fails every call after close with a FindimageError, and close twice is harmless', async () => {
        await store.close();
        await store.close();
        await expect(store.count()).rejects.toBeInstanceOf(FindimageError);
        await expect(store.upsert([point(1, SCORE_1)])).rejects.toBeInstanceOf(FindimageError);
        await expect(
          store.query(QUERY, { filter: { tenant: 'T1' }, limit: 1 }),
        ).rejects.toBeInstanceOf(FindimageError);
      });
    });

    describe('query', () => {
      beforeEach(async () => {
        // Written out of id order, so that order can only come from the scores.
        await store.upsert([
          point(4, SCORE_0),
          point(1, SCORE_1),
          point(5, SCORE_MINUS_1),
          point(3, SCORE_06),
          point(2, SCORE_08),
        ]);
      });

      it('orders hits by cosine similarity with exact scores', async () => {
        const hits = await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 10 });
        expect(ids(hits)).toEqual([uuid(1), uuid(2), uuid(3), uuid(4), uuid(5)]);
        const expected = [1, 0.8, 0.6, 0, -1];
        hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i] as number, 5));
        expect(hits[0]?.payload).toEqual(payload());
      });

      it('scores by cosine, not by vector length, for any unit query', async () => {
        const diagonal = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
        const hits = await store.query(diagonal, { filter: { tenant: 'T1' }, limit: 10 });
        const scores = hits.map((h) => h.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
        // Ids 2 and 3 both score 0.5 * (0.6 + 0.8); rounding may order them either way here.
        expect(Object.fromEntries(hits.map((h) => [h.id, Number(h.score.toFixed(5))]))).toEqual({
          [uuid(1)]: 0.5,
          [uuid(2)]: 0.7,
          [uuid(3)]: 0.7,
          [uuid(4)]: 0.5,
          [uuid(5)]: -0.5,
        });
      });

      it('breaks ties by id ascending', async () => {
        await store.upsert([point(9, SCORE_1), point(7, SCORE_1), point(8, SCORE_1)]);
        const hits = await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 4 });
        expect(ids(hits)).toEqual([uuid(1), uuid(7), uuid(8), uuid(9)]);
      });

      it('pages with limit and offset without gaps or repeats', async () => {
        const page = (offset: number) =>
          store.query(QUERY, { filter: { tenant: 'T1' }, limit: 2, offset });
        expect(ids(await page(0))).toEqual([uuid(1), uuid(2)]);
        expect(ids(await page(2))).toEqual([uuid(3), uuid(4)]);
        expect(ids(await page(4))).toEqual([uuid(5)]);
        expect(await page(5)).toEqual([]);
        const [third] = await page(2);
        expect(third?.score).toBeCloseTo(0.6, 5);
      });

      it('returns at most limit hits', async () => {
        expect(ids(await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 1 }))).toEqual([
          uuid(1),
        ]);
      });
    });

    describe('filters', () => {
      // One tenant, six points, each differing from the baseline in one field.
      beforeEach(async () => {
        await store.upsert([
          point(1, SCORE_1, {
            channel: 'C1',
            channelIsPublic: false,
            uploader: 'U1',
            source: 'slack',
            messageId: 'M1',
            fileId: 'F1',
            createdAt: '2026-01-01T00:00:00.000Z',
          }),
          point(2, SCORE_08, {
            channel: 'C2',
            channelIsPublic: false,
            uploader: 'U2',
            source: 'slack',
            messageId: 'M2',
            fileId: 'F2',
            createdAt: '2026-01-02T00:00:00.000Z',
          }),
          point(3, SCORE_06, {
            channel: 'C3',
            channelIsPublic: true,
            uploader: 'U1',
            source: 'discord',
            messageId: 'M3',
            fileId: 'F3',
            createdAt: '2026-01-03T00:00:00.000Z',
          }),
          point(4, SCORE_0, {
            source: 'local',
            path: '/photos/four.png',
            createdAt: '2026-01-04T00:00:00.000Z',
          }),
          point(5, SCORE_MINUS_1, {
            channel: 'C1',
            channelIsPublic: false,
            uploader: 'U3',
            source: 'slack',
            messageId: 'M1',
            fileId: 'F5',
            createdAt: '2026-01-05T00:00:00.000Z',
          }),
        ]);
      });

      it('channels: only points in one of the listed channels', async () => {
        expect(await hitIds({ tenant: 'T1', channels: ['C1'] })).toEqual([uuid(1), uuid(5)]);
        expect(await hitIds({ tenant: 'T1', channels: ['C2', 'C3'] })).toEqual([uuid(2), uuid(3)]);
        expect(await hitIds({ tenant: 'T1', channels: ['C-unknown'] })).toEqual([]);
      });

      it('channels with includePublic: listed channels OR public ones', async () => {
        expect(await hitIds({ tenant: 'T1', channels: ['C1'], includePublic: true })).toEqual([
          uuid(1),
          uuid(3),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', channels: ['C3'], includePublic: true })).toEqual([
          uuid(3),
        ]);
      });

      it('an empty channel list matches nothing, or only public channels with includePublic', async () => {
        expect(await hitIds({ tenant: 'T1', channels: [] })).toEqual([]);
        expect(await hitIds({ tenant: 'T1', channels: [], includePublic: true })).toEqual([
          uuid(3),
        ]);
      });

      it('includePublic without channels restricts nothing', async () => {
        expect(await hitIds({ tenant: 'T1', includePublic: true })).toEqual(
          [1, 2, 3, 4, 5].map(uuid),
        );
      });

      it('uploaders: only points shared by one of them', async () => {
        expect(await hitIds({ tenant: 'T1', uploaders: ['U1'] })).toEqual([uuid(1), uuid(3)]);
        expect(await hitIds({ tenant: 'T1', uploaders: ['U2', 'U3'] })).toEqual([uuid(2), uuid(5)]);
        expect(await hitIds({ tenant: 'T1', uploaders: [] })).toEqual([]);
      });

      it('sources: only points from one of them', async () => {
        expect(await hitIds({ tenant: 'T1', sources: ['slack'] })).toEqual([
          uuid(1),
          uuid(2),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', sources: ['local', 'discord'] })).toEqual([
          uuid(3),
          uuid(4),
        ]);
      });

      it('messageId and fileId: exact matches', async () => {
        expect(await hitIds({ tenant: 'T1', messageId: 'M1' })).toEqual([uuid(1), uuid(5)]);
        expect(await hitIds({ tenant: 'T1', fileId: 'F5' })).toEqual([uuid(5)]);
        expect(await hitIds({ tenant: 'T1', messageId: 'M1', fileId: 'F1' })).toEqual([uuid(1)]);
        expect(await hitIds({ tenant: 'T1', messageId: 'M-unknown' })).toEqual([]);
      });

      it('after is inclusive and before is exclusive, to the millisecond', async () => {
        const at = (day: number) => new Date(`2026-01-0${day}T00:00:00.000Z`);
        expect(await hitIds({ tenant: 'T1', after: at(3) })).toEqual([uuid(3), uuid(4), uuid(5)]);
        expect(await hitIds({ tenant: 'T1', before: at(3) })).toEqual([uuid(1), uuid(2)]);
        expect(await hitIds({ tenant: 'T1', after: at(2), before: at(4) })).toEqual([
          uuid(2),
          uuid(3),
        ]);
        const justAfter = new Date(at(3).getTime() + 1);
        expect(await hitIds({ tenant: 'T1', after: justAfter, before: at(5) })).toEqual([uuid(4)]);
        expect(await hitIds({ tenant: 'T1', after: at(3), before: at(3) })).toEqual([]);
      });

      it('excludeIds: never returns those points', async () => {
        expect(await hitIds({ tenant: 'T1', excludeIds: [uuid(1), uuid(4), uuid(99)] })).toEqual([
          uuid(2),
          uuid(3),
          uuid(5),
        ]);
        expect(await store.count({ tenant: 'T1', excludeIds: [uuid(1)] })).toBe(4);
      });

      it('combines every given field with AND', async () => {
        expect(
          await hitIds({
            tenant: 'T1',
            channels: ['C1'],
            includePublic: true,
            uploaders: ['U1', 'U3'],
            sources: ['slack', 'discord'],
            after: new Date('2026-01-01T00:00:00.000Z'),
            before: new Date('2026-01-05T00:00:00.000Z'),
          }),
        ).toEqual([uuid(1), uuid(3)]);
        expect(
          await hitIds({ tenant: 'T1', channels: ['C1'], uploaders: ['U3'], messageId: 'M1' }),
        ).toEqual([uuid(5)]);
        expect(
          await hitIds({
            tenant: 'T1',
            channels: ['C1'],
            uploaders: ['U1'],
            excludeIds: [uuid(1)],
          }),
        ).toEqual([]);
      });

      it('applies the filter before limit, so a narrow filter still fills the page', async () => {
        const hits = await store.query(QUERY, {
          filter: { tenant: 'T1', sources: ['local', 'discord'] },
          limit: 2,
        });
        expect(ids(hits)).toEqual([uuid(3), uuid(4)]);
        expect(hits[0]?.score).toBeCloseTo(0.6, 5);
      });
    });

    describe('tenant scope', () => {
      beforeEach(async () => {
        // T2's points score best and share T1's channel, uploader and message ids.
        await store.upsert([
          point(1, SCORE_06, { tenant: 'T1', channel: 'C1', uploader: 'U1', messageId: 'M1' }),
          point(2, SCORE_0, { tenant: 'T1', channel: 'C1', uploader: 'U1', messageId: 'M1' }),
          point(3, SCORE_1, { tenant: 'T2', channel: 'C1', uploader: 'U1', messageId: 'M1' }),
          point(4, SCORE_08, {
            tenant: 'T2',
            channel: 'C9',
            channelIsPublic: true,
            uploader: 'U1',
            messageId: 'M1',
          }),
        ]);
      });

      it('never returns another tenant’s points from query', async () => {
        expect(await hitIds({ tenant: 'T1' })).toEqual([uuid(1), uuid(2)]);
        expect(await hitIds({ tenant: 'T1', channels: ['C1', 'C9'], includePublic: true })).toEqual(
          [uuid(1), uuid(2)],
        );
        expect(await hitIds({ tenant: 'T1', uploaders: ['U1'], messageId: 'M1' })).toEqual([
          uuid(1),
          uuid(2),
        ]);
        expect(await hitIds({ tenant: 'T2' })).toEqual([uuid(3), uuid(4)]);
        expect(await hitIds({ tenant: 'T3' })).toEqual([]);
      });

      it('never counts another tenant’s points', async () => {
        expect(await store.count({ tenant: 'T1' })).toBe(2);
        expect(await store.count({ tenant: 'T1', channels: ['C9'], includePublic: true })).toBe(0);
        expect(await store.count({ tenant: 'T3' })).toBe(0);
        expect(await store.count()).toBe(4);
      });

      it('never deletes another tenant’s points by filter', async () => {
        expect(await store.deleteByFilter({ tenant: 'T1', messageId: 'M1' })).toBe(2);
        expect(await store.count()).toBe(2);
        expect(await hitIds({ tenant: 'T2' })).toEqual([uuid(3), uuid(4)]);
        expect(await store.deleteByFilter({ tenant: 'T3' })).toBe(0);
        expect(await store.count()).toBe(2);
      });
    });

    describe('delete', () => {
      beforeEach(async () => {
        await store.upsert([
          point(1, SCORE_1, { channel: 'C1', messageId: 'M1' }),
          point(2, SCORE_08, { channel: 'C1', messageId: 'M2' }),
          point(3, SCORE_06, { channel: 'C2', messageId: 'M1' }),
          point(4, SCORE_0, { tenant: 'T2', channel: 'C1', messageId: 'M1' }),
        ]);
      });

      it('deletes by id and resolves to how many of them existed', async () => {
        expect(await store.delete([uuid(1), uuid(99), uuid(3)])).toBe(2);
        expect(await store.delete([uuid(1)])).toBe(0);
        expect(await store.delete([])).toBe(0);
        expect(sortedIds(await store.get([1, 2, 3, 4].map(uuid)))).toEqual([uuid(2), uuid(4)]);
        expect(await hitIds({ tenant: 'T1' })).toEqual([uuid(2)]);
      });

      it('deletes by filter and resolves to how many it removed', async () => {
        expect(
          await store.deleteByFilter({ tenant: 'T1', channels: ['C1'], messageId: 'M1' }),
        ).toBe(1);
        expect(await store.get([uuid(1)])).toEqual([]);
        expect(await store.deleteByFilter({ tenant: 'T1' })).toBe(2);
        expect(await store.count({ tenant: 'T1' })).toBe(0);
        expect(ids(await store.get([uuid(4)]))).toEqual([uuid(4)]);
        expect(await store.deleteByFilter({ tenant: 'T1' })).toBe(0);
      });

      it('lets a deleted id be written again', async () => {
        await store.delete([uuid(1)]);
        await store.upsert([point(1, SCORE_MINUS_1)]);
        const hits = await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 10 });
        expect(ids(hits)).toEqual([uuid(2), uuid(3), uuid(1)]);
        expect(hits[2]?.score).toBeCloseTo(-1, 5);
      });
    });

    describe('count and stats', () => {
      it('counts all points without a filter and the matching ones with one', async () => {
        await store.upsert([
          point(1, SCORE_1, { source: 'slack' }),
          point(2, SCORE_1, { source: 'discord' }),
          point(3, SCORE_1, { tenant: 'T2', source: 'slack' }),
        ]);
        expect(await store.count()).toBe(3);
        expect(await store.count({ tenant: 'T1' })).toBe(2);
        expect(await store.count({ tenant: 'T1', sources: ['slack'] })).toBe(1);
      });

      it('totals the whole store by source and by model', async () => {
        await store.upsert([
          point(1, SCORE_1, { source: 'slack', modelId: 'clip-vit-b32' }),
          point(2, SCORE_1, { source: 'slack', modelId: 'clip-vit-b32', tenant: 'T2' }),
          point(3, SCORE_1, { source: 'local', modelId: 'tiny-test' }),
        ]);
        expect(await store.stats()).toEqual({
          total: 3,
          bySource: { slack: 2, local: 1 },
          byModel: { 'clip-vit-b32': 2, 'tiny-test': 1 },
        });
      });
    });

    describe('scroll', () => {
      it('walks every point exactly once, in id order, with vectors, across pages', async () => {
        const order = [5, 3, 7, 1, 6, 2, 4];
        await store.upsert(
          order.map((n) =>
            point(n, SCORE_06, { tenant: n % 2 === 0 ? 'T2' : 'T1', filename: `${n}.png` }),
          ),
        );
        const seen: StoredPoint[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.scroll({ cursor, limit: 2 });
          expect(page.points.length).toBeLessThanOrEqual(2);
          seen.push(...page.points);
          cursor = page.nextCursor;
          pages += 1;
          expect(pages).toBeLessThanOrEqual(7);
        } while (cursor !== undefined);

        expect(ids(seen)).toEqual([1, 2, 3, 4, 5, 6, 7].map(uuid));
        for (const p of seen) {
          expect(p.payload.filename).toBe(`${Number.parseInt(p.id.slice(-4), 16)}.png`);
          expect(p.vector?.length).toBe(DIMENSION);
          SCORE_06.forEach((x, i) => expect(p.vector?.[i]).toBeCloseTo(x, 6));
        }
      });

      it('returns one page and no cursor when everything fits', async () => {
        await store.upsert([point(2, SCORE_1), point(1, SCORE_1)]);
        const page = await store.scroll({ limit: 10 });
        expect(ids(page.points)).toEqual([uuid(1), uuid(2)]);
        expect(page.nextCursor).toBeUndefined();
      });
    });
  });
}
