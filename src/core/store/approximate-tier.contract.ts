// The approximate tier of the VectorStore contract: on clustered data shaped like image
// embeddings (a few dozen themes, many images near each), a default query, which a store may
// answer from an approximate index, must find at least 99% of the exact top 10, with and
// without scope and share filters, and score what it finds exactly as an exact query does.
import { seededRandom } from '../seeded-random.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PointFilter, PointInput, VectorStore } from './vector-store.js';

/** How the suite asks a store to be opened. */
export interface ContractOpenOptions {
  /**
   * Use the approximate index even on the suite's small data (a store whose index is always
   * on, or that has none, ignores it).
   */
  forceIndex?: boolean;
}

/** Opens a fresh, empty store; see OpenVectorStore in vector-store.contract.ts. */
export type OpenStoreForTier = (
  dimension: number,
  options?: ContractOpenOptions,
) => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>;

/** Large enough that a random direction is far from most others, small enough to be quick. */
const DIMENSION = 64;
const THEMES = 30;
const POINTS = 3_000;
const QUERIES = 20;
const CHANNELS = 10;
const WRITE_BATCH = 500;
/** Spread of an image around its theme, per component (cosine to the theme about 0.75). */
const SPREAD = 0.11;
const MIN_RECALL = 0.99;

function unit(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector);
  return vector.map((x) => x / norm);
}

/** Builds the clustered points and the query vectors. */
function clusteredData(): { points: PointInput[]; queries: Float32Array[] } {
  const random = seededRandom(11);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const themes = Array.from({ length: THEMES }, () =>
    unit(Float32Array.from({ length: DIMENSION }, gauss)),
  );
  const near = () => {
    const theme = themes[Math.floor(random() * THEMES)] as Float32Array;
    return unit(theme.map((x) => x + gauss() * SPREAD));
  };
  const points = Array.from({ length: POINTS }, (_, n): PointInput => {
    const channel = `C${n % CHANNELS}`;
    return {
      id: `00000000-0000-4000-9000-${n.toString(16).padStart(12, '0')}`,
      vector: near(),
      payload: {
        tenant: 'T1',
        source: 'slack',
        filename: `${n}.jpg`,
        contentHash: n.toString(16).padStart(64, '0'),
        modelId: 'clip-vit-b32',
        createdAt: '2026-01-01T00:00:00.000Z',
        width: 640,
        height: 480,
        shares: [
          {
            conversation: channel,
            isPublic: n % 7 === 0,
            sharedAt: '2026-01-01T00:00:00.000Z',
            uploader: `U${n % 3}`,
          },
        ],
      },
    };
  });
  return { points, queries: Array.from({ length: QUERIES }, near) };
}

/** Registers the approximate tier for one implementation. */
export function describeApproximateTier(name: string, openStore: OpenStoreForTier): void {
  describe(`VectorStore contract, approximate tier: ${name}`, () => {
    let store: VectorStore;
    let cleanup: () => Promise<void>;
    const { points, queries } = clusteredData();

    beforeEach(async () => {
      ({ store, cleanup } = await openStore(DIMENSION, { forceIndex: true }));
      for (let i = 0; i < points.length; i += WRITE_BATCH) {
        await store.upsert(points.slice(i, i + WRITE_BATCH));
      }
    });

    afterEach(async () => {
      await cleanup();
    });

    /** Mean share of the exact top 10 that the default query finds, over every query. */
    async function recallAt10(filter: PointFilter): Promise<number> {
      let found = 0;
      let wanted = 0;
      for (const query of queries) {
        const exact = await store.query(query, { filter, limit: 10, exact: true });
        const approximate = await store.query(query, { filter, limit: 10 });
        const exactScores = new Map(exact.map((hit) => [hit.id, hit.score]));
        for (const hit of approximate) {
          const score = exactScores.get(hit.id);
          if (score !== undefined) {
            found += 1;
            // A hit that is found is scored as the exact query scores it.
            expect(hit.score).toBeCloseTo(score, 5);
          }
        }
        // Every hit matches the filter: the approximate answer never leaks outside it.
        const allowed = new Set(
          (await store.query(query, { filter, limit: POINTS, exact: true })).map((h) => h.id),
        );
        for (const hit of approximate) expect(allowed.has(hit.id)).toBe(true);
        expect(approximate.length).toBe(exact.length);
        wanted += exact.length;
      }
      return wanted === 0 ? 1 : found / wanted;
    }

    it('finds 99% of the exact top 10 without a filter beyond the tenant', async () => {
      expect(await recallAt10({ tenant: 'T1' })).toBeGreaterThanOrEqual(MIN_RECALL);
    });

    it('finds 99% of the exact top 10 within a scope, public shares included', async () => {
      const scope = { conversations: ['C1', 'C2'], includePublic: true };
      const filter = { tenant: 'T1', scope };
      expect(await recallAt10(filter)).toBeGreaterThanOrEqual(MIN_RECALL);
    });

    it('finds 99% of the exact top 10 under a share filter and excluded ids', async () => {
      const filter: PointFilter = {
        tenant: 'T1',
        share: { conversations: ['C3', 'C4', 'C5'], uploaders: ['U1', 'U2'] },
        excludeIds: points.slice(0, 300).map((p) => p.id),
      };
      expect(await recallAt10(filter)).toBeGreaterThanOrEqual(MIN_RECALL);
    });
  });
}
