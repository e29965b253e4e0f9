// The behaviour every VectorStore must show, as a vitest suite any implementation's test file
// runs: describeVectorStoreContract('sqlite', openStore). Known 4-d vectors give exact scores.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindimageError } from '../errors.js';
import { describeApproximateTier, type ContractOpenOptions } from './approximate-tier.contract.js';
import type {
  ImagePayload,
  ImageShare,
  PointFilter,
  PointInput,
  ShareScope,
  StoredPoint,
  VectorStore,
} from './vector-store.js';

export type { ContractOpenOptions } from './approximate-tier.contract.js';

/**
 * Opens a fresh, empty store of `dimension` (a new temp folder, a new Qdrant collection).
 * `cleanup` closes the store and removes what it made; it must not fail if the test already
 * closed the store. `options.forceIndex` (approximate tier only): use the approximate index
 * even on the suite's small data.
 */
export type OpenVectorStore = (
  dimension: number,
  options?: ContractOpenOptions,
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
    shares: [],
    ...overrides,
  };
}

/** A private share in `conversation` unless `fields` say otherwise. */
function share(conversation: string, fields: Partial<ImageShare> = {}): ImageShare {
  return { conversation, isPublic: false, sharedAt: '2026-01-01T00:00:00.000Z', ...fields };
}

function point(n: number, vector: number[], overrides: Partial<ImagePayload> = {}): PointInput {
  return { id: uuid(n), vector: Float32Array.from(vector), payload: payload(overrides) };
}

/** A point whose only share is `only` (the common case: an image posted once). */
function sharedPoint(
  n: number,
  vector: number[],
  only: ImageShare,
  overrides: Partial<ImagePayload> = {},
): PointInput {
  return point(n, vector, { shares: [only], ...overrides });
}

/** Unit vectors whose dot products with QUERY are exactly 1, 0.8, 0.6, 0 and -1. */
const QUERY = Float32Array.from([1, 0, 0, 0]);
const SCORE_1 = [1, 0, 0, 0];
const SCORE_08 = [0.8, 0, 0.6, 0];
const SCORE_06 = [0.6, 0.8, 0, 0];
const SCORE_0 = [0, 0, 0, 1];
const SCORE_MINUS_1 = [-1, 0, 0, 0];

/** A unit vector scoring `x` against QUERY (0 <= x <= 1), for long ranked fixtures. */
function scoring(x: number): number[] {
  return [x, Math.sqrt(1 - x * x), 0, 0];
}

function ids(points: readonly { id: string }[]): string[] {
  return points.map((p) => p.id);
}

function sortedIds(points: readonly { id: string }[]): string[] {
  return ids(points).sort();
}

/** A scope for a caller in `conversations`, seeing public shares too unless told not to. */
function seenFrom(conversations: string[], includePublic = true): ShareScope {
  return { conversations, includePublic };
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

    /** The stored shares of point `n` of `tenant` (undefined when there is no such point). */
    async function sharesOf(n: number, tenant = 'T1'): Promise<ImageShare[] | undefined> {
      const [found] = await store.get([uuid(n)], { tenant });
      return found?.payload.shares;
    }

    /** The points with these ids of T1 and of T2, the suite's two tenants. */
    async function ofBothTenants(idList: readonly string[]): Promise<StoredPoint[]> {
      return [
        ...(await store.get(idList, { tenant: 'T1' })),
        ...(await store.get(idList, { tenant: 'T2' })),
      ];
    }

    describe('empty store', () => {
      it('answers a query, count, get, scroll and stats with nothing', async () => {
        expect(store.dimension).toBe(DIMENSION);
        expect(await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 10 })).toEqual([]);
        expect(await store.count()).toBe(0);
        expect(await store.count({ tenant: 'T1' })).toBe(0);
        expect(await store.get([uuid(1)], { tenant: 'T1' })).toEqual([]);
        expect(await store.scroll({ limit: 10 })).toEqual({ points: [] });
        expect(await store.stats()).toEqual({ total: 0, bySource: {}, byModel: {} });
      });
    });

    describe('upsert and get', () => {
      it('returns the payload exactly as written, shares in order, without the vector unless asked', async () => {
        const full = payload({
          shares: [
            share('C1', {
              isPublic: true,
              sharedAt: '2026-01-01T00:00:00.000Z',
              uploader: 'U1',
              messageId: '1700000000.000100',
              fileId: 'F1',
              permalink: 'https://example.slack.com/files/U1/F1/cat.png',
            }),
            share('D-private', { sharedAt: '2026-01-02T00:00:00.000Z', messageId: 'M2' }),
          ],
          path: '/photos/cat.png',
          filename: 'chat ✓ 猫.png',
        });
        await store.upsert([{ id: uuid(1), vector: Float32Array.from(SCORE_06), payload: full }]);

        const [plain] = await store.get([uuid(1)], { tenant: 'T1' });
        expect(plain).toEqual({ id: uuid(1), payload: full });
        expect(plain?.vector).toBeUndefined();

        const [withVector] = await store.get([uuid(1)], { tenant: 'T1', withVector: true });
        expect(withVector?.payload).toEqual(full);
        expect(withVector?.vector).toBeInstanceOf(Float32Array);
        expect(withVector?.vector?.length).toBe(DIMENSION);
        SCORE_06.forEach((x, i) => expect(withVector?.vector?.[i]).toBeCloseTo(x, 6));
      });

      it('skips missing ids and returns each existing id once', async () => {
        await store.upsert([point(1, SCORE_1), point(2, SCORE_0), point(3, SCORE_06)]);
        const found = await store.get([uuid(3), uuid(99), uuid(1), uuid(3)], { tenant: 'T1' });
        expect(sortedIds(found)).toEqual([uuid(1), uuid(3)]);
        expect(await store.get([], { tenant: 'T1' })).toEqual([]);
      });

      it('replaces the payload, shares and vector of a point written again with the same id', async () => {
        await store.upsert([
          sharedPoint(1, SCORE_MINUS_1, share('C-old'), { filename: 'old.png' }),
        ]);
        await store.upsert([sharedPoint(1, SCORE_08, share('C-new'), { filename: 'new.png' })]);

        expect(await store.count()).toBe(1);
        const [stored] = await store.get([uuid(1)], { tenant: 'T1' });
        expect(stored?.payload.filename).toBe('new.png');
        const [hit] = await store.query(QUERY, { filter: { tenant: 'T1' }, limit: 1 });
        expect(hit?.score).toBeCloseTo(0.8, 5);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-old'], false) })).toEqual([]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-new'], false) })).toEqual([
          uuid(1),
        ]);
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
        expect(await store.get([uuid(1)], { tenant: 'T1' })).toEqual([]);
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

      it('refuses a payload without a list of shares, or with a share it could not filter on', async () => {
        const refused: Partial<ImagePayload>[] = [
          { shares: undefined as unknown as ImageShare[] },
          { shares: [share('')] },
          { shares: [share('C1', { sharedAt: 'yesterday' })] },
          { shares: [share('C1', { isPublic: 'yes' as unknown as boolean })] },
        ];
        for (const overrides of refused) {
          await expect(
            store.upsert([point(1, SCORE_1), point(2, SCORE_1, overrides)]),
          ).rejects.toBeInstanceOf(FindimageError);
        }
        expect(await store.count()).toBe(0);
      });

      it('refuses a query vector of the wrong length', async () => {
        await store.upsert([point(1, SCORE_1)]);
        const wrong = new Float32Array(DIMENSION * 2);
        await expect(
          store.query(wrong, { filter: { tenant: 'T1' }, limit: 1 }),
        ).rejects.toBeInstanceOf(FindimageError);
      });

      it('refuses a query, count, deleteByFilter or removeShares with an empty tenant', async () => {
        await store.upsert([sharedPoint(1, SCORE_1, share('C1', { messageId: 'M1' }))]);
        const noTenant = { tenant: '' };
        await expect(store.query(QUERY, { filter: noTenant, limit: 1 })).rejects.toBeInstanceOf(
          FindimageError,
        );
        await expect(store.count(noTenant)).rejects.toBeInstanceOf(FindimageError);
        await expect(store.deleteByFilter(noTenant)).rejects.toBeInstanceOf(FindimageError);
        await expect(
          store.removeShares({ tenant: '', share: { messageId: 'M1' } }),
        ).rejects.toBeInstanceOf(FindimageError);
        expect(await store.count()).toBe(1);
      });

      it('refuses removeShares without a share filter rather than removing every share', async () => {
        await store.upsert([sharedPoint(1, SCORE_1, share('C1'))]);
        const noShare = { tenant: 'T1' } as PointFilter & { share: {} };
        await expect(store.removeShares(noShare)).rejects.toBeInstanceOf(FindimageError);
        expect(await sharesOf(1)).toEqual([share('C1')]);
      });

      it('refuses addShares with a share it could not filter on, and writes none of them', async () => {
        await store.upsert([sharedPoint(1, SCORE_1, share('C1'))]);
        await expect(
          store.addShares('T1', uuid(1), [share('C2'), share('C3', { sharedAt: 'soon' })]),
        ).rejects.toBeInstanceOf(FindimageError);
        expect(await sharesOf(1)).toEqual([share('C1')]);
      });

      it('fails every call after close with a FindimageError, and close twice is harmless', async () => {
        await store.close();
        await store.close();
        await expect(store.count()).rejects.toBeInstanceOf(FindimageError);
        await expect(store.upsert([point(1, SCORE_1)])).rejects.toBeInstanceOf(FindimageError);
        await expect(
          store.query(QUERY, { filter: { tenant: 'T1' }, limit: 1 }),
        ).rejects.toBeInstanceOf(FindimageError);
        await expect(store.addShares('T1', uuid(1), [share('C1')])).rejects.toBeInstanceOf(
          FindimageError,
        );
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

    describe('filters on one share per image', () => {
      // One tenant, five points, each shared once except the folder image 4; ids in score order.
      beforeEach(async () => {
        await store.upsert([
          sharedPoint(
            1,
            SCORE_1,
            share('C1', { uploader: 'U1', messageId: 'M1', fileId: 'F1' }),
            { source: 'slack', createdAt: '2026-01-01T00:00:00.000Z' },
          ),
          sharedPoint(
            2,
            SCORE_08,
            share('C2', { uploader: 'U2', messageId: 'M2', fileId: 'F2' }),
            { source: 'slack', createdAt: '2026-01-02T00:00:00.000Z' },
          ),
          sharedPoint(
            3,
            SCORE_06,
            share('C3', { isPublic: true, uploader: 'U1', messageId: 'M3', fileId: 'F3' }),
            { source: 'discord', createdAt: '2026-01-03T00:00:00.000Z' },
          ),
          point(4, SCORE_0, {
            source: 'local',
            path: '/photos/four.png',
            createdAt: '2026-01-04T00:00:00.000Z',
          }),
          sharedPoint(
            5,
            SCORE_MINUS_1,
            share('C1', { uploader: 'U3', messageId: 'M1', fileId: 'F5' }),
            { source: 'slack', createdAt: '2026-01-05T00:00:00.000Z' },
          ),
        ]);
      });

      it('without scope or share: every point of the tenant, folder images included', async () => {
        expect(await hitIds({ tenant: 'T1' })).toEqual([1, 2, 3, 4, 5].map(uuid));
      });

      it('scope: only points shared in one of the conversations', async () => {
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1'], false) })).toEqual([
          uuid(1),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C2', 'C3'], false) })).toEqual([
          uuid(2),
          uuid(3),
        ]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-unknown'], false) })).toEqual([]);
      });

      it('scope with includePublic: the conversations OR public shares', async () => {
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1']) })).toEqual([
          uuid(1),
          uuid(3),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C3']) })).toEqual([uuid(3)]);
      });

      it('an empty scope matches nothing, or only public shares with includePublic', async () => {
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([], false) })).toEqual([]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([]) })).toEqual([uuid(3)]);
      });

      it('a scope or a share filter never matches a point without shares (a folder image)', async () => {
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1', 'C2', 'C3']) })).not.toContain(
          uuid(4),
        );
        expect(await hitIds({ tenant: 'T1', share: {} })).toEqual([1, 2, 3, 5].map(uuid));
      });

      it('share.conversations: only points shared in one of them (the user’s in:#channel)', async () => {
        expect(await hitIds({ tenant: 'T1', share: { conversations: ['C1'] } })).toEqual([
          uuid(1),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', share: { conversations: ['C3', 'C-x'] } })).toEqual([
          uuid(3),
        ]);
        expect(await hitIds({ tenant: 'T1', share: { conversations: [] } })).toEqual([]);
      });

      it('share.uploaders: only points shared by one of them', async () => {
        expect(await hitIds({ tenant: 'T1', share: { uploaders: ['U1'] } })).toEqual([
          uuid(1),
          uuid(3),
        ]);
        expect(await hitIds({ tenant: 'T1', share: { uploaders: ['U2', 'U3'] } })).toEqual([
          uuid(2),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', share: { uploaders: [] } })).toEqual([]);
      });

      it('share.messageId and share.fileId: exact matches', async () => {
        expect(await hitIds({ tenant: 'T1', share: { messageId: 'M1' } })).toEqual([
          uuid(1),
          uuid(5),
        ]);
        expect(await hitIds({ tenant: 'T1', share: { fileId: 'F5' } })).toEqual([uuid(5)]);
        expect(await hitIds({ tenant: 'T1', share: { messageId: 'M1', fileId: 'F1' } })).toEqual(
          [uuid(1)],
        );
        expect(await hitIds({ tenant: 'T1', share: { messageId: 'M-unknown' } })).toEqual([]);
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
        expect(await hitIds({ tenant: 'T1', sources: [] })).toEqual([]);
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

      it('excludeIds: never returns or counts those points', async () => {
        expect(await hitIds({ tenant: 'T1', excludeIds: [uuid(1), uuid(4), uuid(99)] })).toEqual([
          uuid(2),
          uuid(3),
          uuid(5),
        ]);
        expect(await store.count({ tenant: 'T1', excludeIds: [uuid(1)] })).toBe(4);
        expect(
          await hitIds({ tenant: 'T1', scope: seenFrom(['C1']), excludeIds: [uuid(3)] }),
        ).toEqual([uuid(1), uuid(5)]);
      });

      it('combines scope, share and the point-level fields with AND', async () => {
        expect(
          await hitIds({
            tenant: 'T1',
            scope: seenFrom(['C1']),
            share: { uploaders: ['U1', 'U3'] },
            sources: ['slack', 'discord'],
            after: new Date('2026-01-01T00:00:00.000Z'),
            before: new Date('2026-01-05T00:00:00.000Z'),
          }),
        ).toEqual([uuid(1), uuid(3)]);
        expect(
          await hitIds({
            tenant: 'T1',
            scope: seenFrom(['C1'], false),
            share: { uploaders: ['U3'], messageId: 'M1' },
          }),
        ).toEqual([uuid(5)]);
        expect(
          await hitIds({
            tenant: 'T1',
            scope: seenFrom(['C1'], false),
            share: { uploaders: ['U1'] },
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

    describe('an image shared in several conversations', () => {
      // Point 1 was posted publicly in C-pub by U1 and privately in C-priv by U2; point 2 only
      // privately in C-priv by U1; point 3 privately in C-other and C-priv2. Ids in score order.
      const pub = share('C-pub', { isPublic: true, uploader: 'U1', messageId: 'M1', fileId: 'F1' });
      const priv = share('C-priv', {
        sharedAt: '2026-01-02T00:00:00.000Z',
        uploader: 'U2',
        messageId: 'M2',
        fileId: 'F2',
      });
      beforeEach(async () => {
        await store.upsert([
          point(1, SCORE_1, { shares: [pub, priv] }),
          sharedPoint(2, SCORE_08, share('C-priv', { uploader: 'U1', messageId: 'M3' })),
          point(3, SCORE_06, {
            shares: [
              share('C-other', { uploader: 'U3', messageId: 'M4' }),
              share('C-priv2', { uploader: 'U3', messageId: 'M5' }),
            ],
          }),
        ]);
      });

      it('is stored once and is visible wherever any one of its shares is', async () => {
        expect(await store.count({ tenant: 'T1' })).toBe(3);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-priv'], false) })).toEqual([
          uuid(1),
          uuid(2),
        ]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-x']) })).toEqual([uuid(1)]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-priv2'], false) })).toEqual([
          uuid(3),
        ]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-x'], false) })).toEqual([]);
      });

      it('counts a public share and a private share each on its own', async () => {
        // Found through the public share from anywhere, and through the private one in C-priv
        // even without public shares: the private share does not hide the public one, nor
        // the other way round.
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([]) })).toEqual([uuid(1)]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C-priv'], false) })).toContain(
          uuid(1),
        );
        expect(await hitIds({ tenant: 'T1', share: { conversations: ['C-pub'] } })).toEqual([
          uuid(1),
        ]);
      });

      it('never lets in:#private reach a private share through a public share elsewhere', async () => {
        // Typed in a public channel C-here: point 1's only share in C-priv is private, so its
        // public share in C-pub must not make it match "in:#C-priv".
        const fromHere = seenFrom(['C-here']);
        expect(
          await hitIds({ tenant: 'T1', scope: fromHere, share: { conversations: ['C-priv'] } }),
        ).toEqual([]);
        expect(
          await store.count({
            tenant: 'T1',
            scope: fromHere,
            share: { conversations: ['C-priv'] },
          }),
        ).toBe(0);
        // A member of C-priv asking the same sees both images shared there.
        expect(
          await hitIds({
            tenant: 'T1',
            scope: seenFrom(['C-priv']),
            share: { conversations: ['C-priv'] },
          }),
        ).toEqual([uuid(1), uuid(2)]);
        // in:#C-pub from anywhere finds the public share.
        expect(
          await hitIds({ tenant: 'T1', scope: fromHere, share: { conversations: ['C-pub'] } }),
        ).toEqual([uuid(1)]);
      });

      it('needs one share to meet every share field, not several shares one field each', async () => {
        // Point 1 has U2's share in C-priv and U1's share in C-pub: no share is U2's in C-pub.
        expect(
          await hitIds({ tenant: 'T1', share: { conversations: ['C-pub'], uploaders: ['U2'] } }),
        ).toEqual([]);
        expect(
          await hitIds({ tenant: 'T1', share: { conversations: ['C-priv'], uploaders: ['U2'] } }),
        ).toEqual([uuid(1)]);
        expect(await hitIds({ tenant: 'T1', share: { messageId: 'M1', fileId: 'F2' } })).toEqual(
          [],
        );
        // from:@U2 seen from C-here (public shares only): U2 shared point 1 only privately.
        expect(
          await hitIds({ tenant: 'T1', scope: seenFrom(['C-here']), share: { uploaders: ['U2'] } }),
        ).toEqual([]);
      });

      it('deleteByFilter deletes the whole point, whatever its other shares', async () => {
        expect(await store.deleteByFilter({ tenant: 'T1', share: { messageId: 'M2' } })).toBe(1);
        expect(await store.get([uuid(1)], { tenant: 'T1' })).toEqual([]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([]) })).toEqual([]);
      });
    });

    describe('addShares', () => {
      beforeEach(async () => {
        await store.upsert([
          sharedPoint(1, SCORE_1, share('C1', { messageId: 'M1', fileId: 'F1', uploader: 'U1' })),
          sharedPoint(2, SCORE_08, share('C1', { messageId: 'M1', fileId: 'F2' }), {
            tenant: 'T2',
          }),
          point(3, SCORE_06, { source: 'local', path: '/photos/three.png' }),
        ]);
      });

      it('appends a share from another conversation, which then makes the point visible there', async () => {
        const later = share('C2', { isPublic: true, sharedAt: '2026-02-01T00:00:00.000Z' });
        expect(await store.addShares('T1', uuid(1), [later])).toBe(true);
        expect(await sharesOf(1)).toEqual([
          share('C1', { messageId: 'M1', fileId: 'F1', uploader: 'U1' }),
          later,
        ]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C2'], false) })).toEqual([uuid(1)]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([]) })).toEqual([uuid(1)]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1'], false) })).toEqual([uuid(1)]);
        expect(await store.count({ tenant: 'T1' })).toBe(2);
      });

      it('replaces, in place, a share with the same conversation, messageId and fileId', async () => {
        await store.addShares('T1', uuid(1), [share('C9')]);
        const updated = share('C1', {
          messageId: 'M1',
          fileId: 'F1',
          isPublic: true,
          uploader: 'U1',
          permalink: 'https://example.slack.com/archives/C1/p1',
        });
        expect(await store.addShares('T1', uuid(1), [updated])).toBe(true);
        expect(await sharesOf(1)).toEqual([updated, share('C9')]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([]) })).toEqual([uuid(1)]);
      });

      it('treats shares without messageId or fileId as equal when those are absent on both', async () => {
        await store.addShares('T1', uuid(1), [share('C2'), share('C2', { isPublic: true })]);
        expect(await store.addShares('T1', uuid(1), [share('C2', { uploader: 'U5' })])).toBe(true);
        const shares = await sharesOf(1);
        expect(shares).toHaveLength(2);
        expect(shares?.[1]).toEqual(share('C2', { uploader: 'U5' }));
        // Same conversation, another message: a second share.
        await store.addShares('T1', uuid(1), [share('C2', { messageId: 'M7' })]);
        expect(await sharesOf(1)).toHaveLength(3);
      });

      it('gives a folder image its first share', async () => {
        expect(await store.addShares('T1', uuid(3), [share('C1')])).toBe(true);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1'], false) })).toEqual([
          uuid(1),
          uuid(3),
        ]);
      });

      it('resolves false and writes nothing for a missing point or another tenant’s point', async () => {
        expect(await store.addShares('T1', uuid(99), [share('C1')])).toBe(false);
        expect(await store.get([uuid(99)], { tenant: 'T1' })).toEqual([]);
        expect(await store.addShares('T1', uuid(2), [share('C-leak', { isPublic: true })])).toBe(
          false,
        );
        expect(await sharesOf(2, 'T2')).toEqual([share('C1', { messageId: 'M1', fileId: 'F2' })]);
        expect(await hitIds({ tenant: 'T2', scope: seenFrom(['C-leak']) })).toEqual([]);
      });

      it('accepts an empty list as a no-op on an existing point', async () => {
        expect(await store.addShares('T1', uuid(1), [])).toBe(true);
        expect(await store.addShares('T1', uuid(99), [])).toBe(false);
        expect(await sharesOf(1)).toHaveLength(1);
      });
    });

    describe('removeShares', () => {
      // Point 1 is in C1 (M1) and C2 (M2); point 2 only in C1 (M1, the same message held two
      // images); point 3 is a folder image; point 4 is T2's, with the same ids.
      beforeEach(async () => {
        await store.upsert([
          point(1, SCORE_1, {
            shares: [
              share('C1', { messageId: 'M1', fileId: 'F1' }),
              share('C2', { messageId: 'M2', fileId: 'F9', isPublic: true }),
            ],
          }),
          sharedPoint(2, SCORE_08, share('C1', { messageId: 'M1', fileId: 'F2' })),
          point(3, SCORE_06, { source: 'local', path: '/photos/three.png' }),
          sharedPoint(4, SCORE_0, share('C1', { messageId: 'M1', fileId: 'F1' }), {
            tenant: 'T2',
          }),
        ]);
      });

      it('removes only the matching share of a point that has others', async () => {
        expect(await store.removeShares({ tenant: 'T1', share: { messageId: 'M2' } })).toEqual({
          shares: 1,
          points: 0,
        });
        expect(await sharesOf(1)).toEqual([share('C1', { messageId: 'M1', fileId: 'F1' })]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom([]) })).toEqual([]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1'], false) })).toEqual([
          uuid(1),
          uuid(2),
        ]);
      });

      it('deletes a point when its last share goes, and keeps one that has others', async () => {
        expect(await store.removeShares({ tenant: 'T1', share: { messageId: 'M1' } })).toEqual({
          shares: 1,
          points: 1,
        });
        expect(await store.get([uuid(2)], { tenant: 'T1' })).toEqual([]);
        expect(await sharesOf(1)).toEqual([
          share('C2', { messageId: 'M2', fileId: 'F9', isPublic: true }),
        ]);
        expect(await store.count({ tenant: 'T1' })).toBe(2);
      });

      it('removes by file id alone, or by conversation (a deleted channel)', async () => {
        expect(await store.removeShares({ tenant: 'T1', share: { fileId: 'F2' } })).toEqual({
          shares: 0,
          points: 1,
        });
        expect(await store.removeShares({ tenant: 'T1', share: { conversations: ['C1'] } })).toEqual(
          { shares: 1, points: 0 },
        );
        expect(await sharesOf(1)).toEqual([
          share('C2', { messageId: 'M2', fileId: 'F9', isPublic: true }),
        ]);
      });

      it('never touches folder images or another tenant’s points', async () => {
        expect(await store.removeShares({ tenant: 'T1', share: {} })).toEqual({
          shares: 0,
          points: 2,
        });
        expect(sortedIds(await ofBothTenants([1, 2, 3, 4].map(uuid)))).toEqual([uuid(3), uuid(4)]);
        expect(await sharesOf(4, 'T2')).toEqual([share('C1', { messageId: 'M1', fileId: 'F1' })]);
      });

      it('with a scope, takes off only the shares the scope allows', async () => {
        // Point 1 is in C1 (private) and C2 (public); point 2 only in C1. Seen from C2 alone,
        // C1's shares are out of reach, even though the share filter names C1.
        const both = { conversations: ['C1', 'C2'] };
        expect(
          await store.removeShares({ tenant: 'T1', scope: seenFrom(['C2'], false), share: both }),
        ).toEqual({ shares: 1, points: 0 });
        expect(await sharesOf(1)).toEqual([share('C1', { messageId: 'M1', fileId: 'F1' })]);
        expect(await sharesOf(2)).toEqual([share('C1', { messageId: 'M1', fileId: 'F2' })]);
      });

      it('with a scope of public shares only, never takes a private share', async () => {
        expect(await store.removeShares({ tenant: 'T1', scope: seenFrom([]), share: {} })).toEqual({
          shares: 1,
          points: 0,
        });
        expect(await sharesOf(1)).toEqual([share('C1', { messageId: 'M1', fileId: 'F1' })]);
        expect(await sharesOf(2)).toEqual([share('C1', { messageId: 'M1', fileId: 'F2' })]);
        expect(
          await store.removeShares({ tenant: 'T1', scope: seenFrom([], false), share: {} }),
        ).toEqual({ shares: 0, points: 0 });
        expect(await store.count()).toBe(4);
      });

      it('resolves to zeros when nothing matches', async () => {
        expect(await store.removeShares({ tenant: 'T1', share: { messageId: 'M-x' } })).toEqual({
          shares: 0,
          points: 0,
        });
        expect(await store.removeShares({ tenant: 'T3', share: { messageId: 'M1' } })).toEqual({
          shares: 0,
          points: 0,
        });
        expect(await store.count()).toBe(4);
      });
    });

    describe('setSharesPublic', () => {
      // Point 1 is in C1 (public) and C2 (private); point 2 only in C1 (public, two files of one
      // message); point 3 only in C3 (private); point 4 is T2's, in a C1 of its own; point 5 is a
      // folder image. A caller in C9 with includePublic sees exactly the public shares.
      beforeEach(async () => {
        await store.upsert([
          point(1, SCORE_1, {
            shares: [
              share('C1', { messageId: 'M1', fileId: 'F1', isPublic: true }),
              share('C2', { messageId: 'M2', fileId: 'F2' }),
            ],
          }),
          point(2, SCORE_08, {
            shares: [
              share('C1', { messageId: 'M3', fileId: 'F3', isPublic: true }),
              share('C1', { messageId: 'M3', fileId: 'F4', isPublic: true }),
            ],
          }),
          sharedPoint(3, SCORE_06, share('C3', { messageId: 'M5' })),
          sharedPoint(4, SCORE_0, share('C1', { messageId: 'M1', isPublic: true }), { tenant: 'T2' }),
          point(5, SCORE_MINUS_1, { source: 'local', path: '/photos/five.png' }),
        ]);
      });

      const elsewhere = (tenant = 'T1'): PointFilter => ({ tenant, scope: seenFrom(['C9']) });

      it('a conversation made private: its shares stop being seen from another conversation, and come back when it is public again', async () => {
        expect(await hitIds(elsewhere())).toEqual([uuid(1), uuid(2)]);
        expect(await store.setSharesPublic('T1', 'C1', false)).toBe(3);
        expect(await hitIds(elsewhere())).toEqual([]);
        expect(await store.count(elsewhere())).toBe(0);
        // Its own members still see every image shared there.
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1']) })).toEqual([uuid(1), uuid(2)]);

        expect(await store.setSharesPublic('T1', 'C1', true)).toBe(3);
        expect(await hitIds(elsewhere())).toEqual([uuid(1), uuid(2)]);
        expect(await store.count(elsewhere())).toBe(2);
      });

      it('a private conversation made public: its images are seen from elsewhere at once', async () => {
        expect(await hitIds(elsewhere())).not.toContain(uuid(3));
        expect(await store.setSharesPublic('T1', 'C3', true)).toBe(1);
        expect(await hitIds(elsewhere())).toEqual([uuid(1), uuid(2), uuid(3)]);
        expect(await sharesOf(3)).toEqual([share('C3', { messageId: 'M5', isPublic: true })]);
      });

      it('changes only the shares in that conversation, keeping every other field and the order', async () => {
        await store.setSharesPublic('T1', 'C2', true);
        expect(await sharesOf(1)).toEqual([
          share('C1', { messageId: 'M1', fileId: 'F1', isPublic: true }),
          share('C2', { messageId: 'M2', fileId: 'F2', isPublic: true }),
        ]);
        await store.setSharesPublic('T1', 'C1', false);
        expect(await sharesOf(1)).toEqual([
          share('C1', { messageId: 'M1', fileId: 'F1' }),
          share('C2', { messageId: 'M2', fileId: 'F2', isPublic: true }),
        ]);
        // Still public through its C2 share; point 2 had only C1 shares.
        expect(await hitIds(elsewhere())).toEqual([uuid(1)]);
      });

      it('never touches another tenant’s conversation of the same id, or folder images', async () => {
        await store.setSharesPublic('T1', 'C1', false);
        expect(await hitIds(elsewhere('T2'))).toEqual([uuid(4)]);
        expect(await sharesOf(4, 'T2')).toEqual([share('C1', { messageId: 'M1', isPublic: true })]);
        expect((await store.get([uuid(5)], { tenant: 'T1' }))[0]?.payload.shares).toEqual([]);
      });

      it('counts only shares whose flag changed, so a repeated change is a no-op', async () => {
        expect(await store.setSharesPublic('T1', 'C1', true)).toBe(0);
        expect(await store.setSharesPublic('T1', 'C-none', false)).toBe(0);
        expect(await store.setSharesPublic('T3', 'C1', false)).toBe(0);
        expect(await store.setSharesPublic('T1', 'C1', false)).toBe(3);
        expect(await store.setSharesPublic('T1', 'C1', false)).toBe(0);
      });

      it('refuses an empty tenant or conversation rather than changing every share', async () => {
        await expect(store.setSharesPublic('', 'C1', false)).rejects.toBeInstanceOf(FindimageError);
        await expect(store.setSharesPublic('T1', '', false)).rejects.toBeInstanceOf(FindimageError);
        expect(await hitIds(elsewhere())).toEqual([uuid(1), uuid(2)]);
      });

      it('is seen by an exact query as well', async () => {
        await store.setSharesPublic('T1', 'C1', false);
        const exact = await store.query(QUERY, { filter: elsewhere(), limit: 10, exact: true });
        expect(exact).toEqual([]);
      });
    });

    describe('exact pages under a scope', () => {
      // 40 points: the 20 best are private elsewhere (never visible from C-here), then 15 the
      // caller may see, alternately public and in C-here, then 5 more hidden ones. A store
      // that ranked first and filtered after would come up short or repeat.
      const visible: string[] = [];
      beforeEach(async () => {
        visible.length = 0;
        const points: PointInput[] = [];
        for (let i = 0; i < 40; i++) {
          const n = i + 1;
          const seen = i >= 20 && i < 35;
          const where = seen
            ? i % 2 === 0
              ? share('C-pub', { isPublic: true, uploader: 'U1' })
              : share('C-here', { uploader: i % 3 === 0 ? 'U2' : 'U1' })
            : share(`C-hidden-${i % 4}`, { uploader: 'U1' });
          points.push(sharedPoint(n, scoring(1 - i / 50), where));
          if (seen) visible.push(uuid(n));
        }
        await store.upsert(points);
      });

      it('fills every page and neither skips nor repeats a hit', async () => {
        const filter: PointFilter = { tenant: 'T1', scope: seenFrom(['C-here']) };
        const pages: string[][] = [];
        for (let offset = 0; offset < 20; offset += 4) {
          pages.push(ids(await store.query(QUERY, { filter, limit: 4, offset })));
        }
        expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3, 0]);
        expect(pages.flat()).toEqual(visible);
        expect(await store.count(filter)).toBe(15);
        // Asked again, the same page is the same.
        expect(ids(await store.query(QUERY, { filter, limit: 4, offset: 8 }))).toEqual(
          visible.slice(8, 12),
        );
      });

      it('pages exactly under a scope and a share filter together', async () => {
        const filter: PointFilter = {
          tenant: 'T1',
          scope: seenFrom(['C-here']),
          share: { uploaders: ['U2'] },
        };
        const all = await hitIds(filter);
        expect(all.length).toBeGreaterThan(1);
        const paged = [
          ...ids(await store.query(QUERY, { filter, limit: 1, offset: 0 })),
          ...ids(await store.query(QUERY, { filter, limit: 1, offset: 1 })),
        ];
        expect(paged).toEqual(all.slice(0, 2));
        expect(await store.count(filter)).toBe(all.length);
      });

      it('leaves out excluded ids before paging', async () => {
        const filter: PointFilter = {
          tenant: 'T1',
          scope: seenFrom(['C-here']),
          excludeIds: visible.slice(0, 3),
        };
        expect(ids(await store.query(QUERY, { filter, limit: 4 }))).toEqual(visible.slice(3, 7));
      });
    });

    describe('one filter, one set of points', () => {
      // The same filter must mean the same points in query(), count() and deleteByFilter().
      const fixture = (): PointInput[] => [
        point(1, SCORE_1, {
          shares: [
            share('C-pub', { isPublic: true, uploader: 'U1', messageId: 'M1' }),
            share('C-priv', { uploader: 'U2', messageId: 'M2' }),
          ],
          createdAt: '2026-01-01T00:00:00.000Z',
        }),
        sharedPoint(2, SCORE_08, share('C-priv', { uploader: 'U1', messageId: 'M3' }), {
          createdAt: '2026-01-02T00:00:00.000Z',
        }),
        sharedPoint(3, SCORE_06, share('C-a', { uploader: 'U3', fileId: 'F3' }), {
          source: 'discord',
          createdAt: '2026-01-03T00:00:00.000Z',
        }),
        point(4, SCORE_0, { source: 'local', path: '/p/4.png' }),
        sharedPoint(5, SCORE_MINUS_1, share('C-a', { isPublic: true, uploader: 'U2' }), {
          tenant: 'T2',
        }),
      ];
      const filters: [string, PointFilter][] = [
        ['tenant only', { tenant: 'T1' }],
        ['a private scope', { tenant: 'T1', scope: seenFrom(['C-priv'], false) }],
        ['public shares only', { tenant: 'T1', scope: seenFrom([]) }],
        ['in:#private from a public channel', {
          tenant: 'T1',
          scope: seenFrom(['C-here']),
          share: { conversations: ['C-priv'] },
        }],
        ['from:@user', { tenant: 'T1', share: { uploaders: ['U2'] } }],
        ['any share', { tenant: 'T1', share: {} }],
        ['scope and point-level fields', {
          tenant: 'T1',
          scope: seenFrom(['C-a']),
          sources: ['discord', 'slack'],
          after: new Date('2026-01-01T00:00:00.000Z'),
          excludeIds: [uuid(2)],
        }],
      ];

      it.each(filters)('%s', async (_name, filter) => {
        await store.upsert(fixture());
        const matched = await hitIds(filter);
        expect(await store.count(filter)).toBe(matched.length);
        expect(await store.deleteByFilter(filter)).toBe(matched.length);
        const left = sortedIds(await ofBothTenants(fixture().map((p) => p.id)));
        expect(left).toEqual(
          fixture()
            .map((p) => p.id)
            .filter((id) => !matched.includes(id)),
        );
        expect(await store.count(filter)).toBe(0);
      });
    });

    describe('tenant scope', () => {
      beforeEach(async () => {
        // T2's points score best and share T1's conversation, uploader and message ids.
        const same = share('C1', { uploader: 'U1', messageId: 'M1' });
        await store.upsert([
          sharedPoint(1, SCORE_06, same, { tenant: 'T1' }),
          sharedPoint(2, SCORE_0, same, { tenant: 'T1' }),
          sharedPoint(3, SCORE_1, same, { tenant: 'T2' }),
          sharedPoint(4, SCORE_08, share('C9', { isPublic: true, uploader: 'U1', messageId: 'M1' }), {
            tenant: 'T2',
          }),
        ]);
      });

      it('never returns another tenant’s points from query', async () => {
        expect(await hitIds({ tenant: 'T1' })).toEqual([uuid(1), uuid(2)]);
        expect(await hitIds({ tenant: 'T1', scope: seenFrom(['C1', 'C9']) })).toEqual([
          uuid(1),
          uuid(2),
        ]);
        expect(
          await hitIds({ tenant: 'T1', share: { uploaders: ['U1'], messageId: 'M1' } }),
        ).toEqual([uuid(1), uuid(2)]);
        expect(await hitIds({ tenant: 'T2' })).toEqual([uuid(3), uuid(4)]);
        expect(await hitIds({ tenant: 'T3' })).toEqual([]);
      });

      it('never counts another tenant’s points', async () => {
        expect(await store.count({ tenant: 'T1' })).toBe(2);
        expect(await store.count({ tenant: 'T1', scope: seenFrom(['C9']) })).toBe(0);
        expect(await store.count({ tenant: 'T3' })).toBe(0);
        expect(await store.count()).toBe(4);
      });

      it('never deletes another tenant’s points by filter', async () => {
        expect(await store.deleteByFilter({ tenant: 'T1', share: { messageId: 'M1' } })).toBe(2);
        expect(await store.count()).toBe(2);
        expect(await hitIds({ tenant: 'T2' })).toEqual([uuid(3), uuid(4)]);
        expect(await store.deleteByFilter({ tenant: 'T3' })).toBe(0);
        expect(await store.count()).toBe(2);
      });
    });

    describe('get and delete by id within a scope', () => {
      // T1: 1 private in C1, 2 private in C2, 3 public in C3, 4 a folder image, 5 private in C2
      // and public in C3. T2: 6, private in C1 like point 1.
      beforeEach(async () => {
        await store.upsert([
          sharedPoint(1, SCORE_1, share('C1')),
          sharedPoint(2, SCORE_08, share('C2')),
          sharedPoint(3, SCORE_06, share('C3', { isPublic: true })),
          point(4, SCORE_0, { source: 'local', path: '/photos/four.png' }),
          point(5, SCORE_MINUS_1, { shares: [share('C2'), share('C3', { isPublic: true })] }),
          sharedPoint(6, SCORE_1, share('C1'), { tenant: 'T2' }),
        ]);
      });
      const all = [1, 2, 3, 4, 5, 6].map(uuid);

      it('never returns another tenant’s point, not even its vector', async () => {
        expect(sortedIds(await store.get(all, { tenant: 'T1' }))).toEqual([1, 2, 3, 4, 5].map(uuid));
        expect(await store.get([uuid(6)], { tenant: 'T1', withVector: true })).toEqual([]);
        expect(ids(await store.get(all, { tenant: 'T2' }))).toEqual([uuid(6)]);
        expect(await store.get(all, { tenant: 'T3' })).toEqual([]);
      });

      it('with a scope, returns only points with a share visible in it', async () => {
        const seen = async (scope: ShareScope) => sortedIds(await store.get(all, { tenant: 'T1', scope }));
        expect(await seen(seenFrom(['C1'], false))).toEqual([uuid(1)]);
        expect(await seen(seenFrom(['C2'], false))).toEqual([uuid(2), uuid(5)]);
        expect(await seen(seenFrom(['C1', 'C2'], false))).toEqual([1, 2, 5].map(uuid));
        expect(await seen(seenFrom(['C-unknown'], false))).toEqual([]);
        // A folder image has no share, so no scope shows it; another tenant's C1 never counts.
        expect(await seen(seenFrom(['C1', 'C2', 'C3'], true))).toEqual([1, 2, 3, 5].map(uuid));
      });

      it('with includePublic, adds public shares of other conversations; without it, never', async () => {
        const seen = async (scope: ShareScope) => sortedIds(await store.get(all, { tenant: 'T1', scope }));
        expect(await seen(seenFrom(['C1'], true))).toEqual([1, 3, 5].map(uuid));
        expect(await seen(seenFrom([], true))).toEqual([uuid(3), uuid(5)]);
        expect(await seen(seenFrom(['C1'], false))).toEqual([uuid(1)]);
        expect(await seen(seenFrom([], false))).toEqual([]);
        const [withVector] = await store.get([uuid(3)], {
          tenant: 'T1',
          scope: seenFrom(['C1'], false),
          withVector: true,
        });
        expect(withVector).toBeUndefined();
      });

      it('returns the whole payload of a visible point, its other shares included', async () => {
        const [found] = await store.get([uuid(5)], { tenant: 'T1', scope: seenFrom([], true) });
        expect(found?.payload.shares).toEqual([share('C2'), share('C3', { isPublic: true })]);
      });

      it('deletes only the ids the scope may see, and counts only those', async () => {
        expect(await store.delete([uuid(6)], { tenant: 'T1' })).toBe(0);
        expect(ids(await store.get([uuid(6)], { tenant: 'T2' }))).toEqual([uuid(6)]);
        expect(await store.delete(all, { tenant: 'T1', scope: seenFrom(['C1'], false) })).toBe(1);
        expect(await store.delete(all, { tenant: 'T1', scope: seenFrom([], true) })).toBe(2);
        expect(sortedIds(await ofBothTenants(all))).toEqual([uuid(2), uuid(4), uuid(6)]);
      });

      it('refuses a get or delete with an empty tenant', async () => {
        await expect(store.get([uuid(1)], { tenant: '' })).rejects.toBeInstanceOf(FindimageError);
        await expect(store.get([], { tenant: '' })).rejects.toBeInstanceOf(FindimageError);
        await expect(store.delete([uuid(1)], { tenant: '' })).rejects.toBeInstanceOf(FindimageError);
        const untyped = store as unknown as { get(ids: string[]): Promise<unknown> };
        await expect(untyped.get([uuid(1)])).rejects.toBeInstanceOf(FindimageError);
        expect(await store.count()).toBe(6);
      });
    });

    describe('delete', () => {
      beforeEach(async () => {
        await store.upsert([
          sharedPoint(1, SCORE_1, share('C1', { messageId: 'M1' })),
          sharedPoint(2, SCORE_08, share('C1', { messageId: 'M2' })),
          sharedPoint(3, SCORE_06, share('C2', { messageId: 'M1' })),
          sharedPoint(4, SCORE_0, share('C1', { messageId: 'M1' }), { tenant: 'T2' }),
        ]);
      });

      it('deletes by id and resolves to how many of them existed', async () => {
        expect(await store.delete([uuid(1), uuid(99), uuid(3)], { tenant: 'T1' })).toBe(2);
        expect(await store.delete([uuid(1)], { tenant: 'T1' })).toBe(0);
        expect(await store.delete([], { tenant: 'T1' })).toBe(0);
        expect(sortedIds(await ofBothTenants([1, 2, 3, 4].map(uuid)))).toEqual([uuid(2), uuid(4)]);
        expect(await hitIds({ tenant: 'T1' })).toEqual([uuid(2)]);
      });

      it('deletes by filter and resolves to how many it removed', async () => {
        expect(
          await store.deleteByFilter({
            tenant: 'T1',
            share: { conversations: ['C1'], messageId: 'M1' },
          }),
        ).toBe(1);
        expect(await store.get([uuid(1)], { tenant: 'T1' })).toEqual([]);
        expect(await store.deleteByFilter({ tenant: 'T1' })).toBe(2);
        expect(await store.count({ tenant: 'T1' })).toBe(0);
        expect(ids(await store.get([uuid(4)], { tenant: 'T2' }))).toEqual([uuid(4)]);
        expect(await store.deleteByFilter({ tenant: 'T1' })).toBe(0);
      });

      it('lets a deleted id be written again', async () => {
        await store.delete([uuid(1)], { tenant: 'T1' });
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
  describeApproximateTier(name, openStore);
}
