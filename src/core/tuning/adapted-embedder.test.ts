// FINDIMAGE_ADAPTER's effect on search, on known vectors: a text query ranks the stored images
// by cosine with normalise(W q), exactly; an image query and the stored vectors are untouched.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { dot, normalize } from '../embedding/vector-math.js';
import { SearchService } from '../search/search-service.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { VectorStore } from '../store/vector-store.js';
import { imageWithVector, KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { AdaptedEmbedder } from './adapted-embedder.js';
import { QueryAdapter } from './query-adapter.js';

const IMAGES: Record<string, number[]> = {
  red: [1, 0, 0, 0],
  green: [0, 1, 0, 0],
  blue: [0, 0, 1, 0],
  mixed: [0.6, 0.5, 0.3, 0.55],
};
// W swaps the first two axes and leans the third towards the fourth.
const W = [
  [0, 1, 0, 0],
  [1, 0, 0, 0],
  [0, 0, 0.5, 0],
  [0, 0, 0.9, 1],
];

describe('a search with a query adapter', () => {
  let dir: string;
  let store: VectorStore;
  const logger = createSilentLogger();
  const known = new KnownVectorEmbedder(4, { red: [0.9, 0.1, 0.3, 0], teal: [0, 0.2, 0.7, 0.1] });
  const adapter = new QueryAdapter({ modelId: 'known-vectors', dimension: 4, weights: Float32Array.from(W.flat()) });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-adapter-'));
    store = await openSqliteVectorStore({ path: join(dir, 's.sqlite'), dimension: 4, logger });
    await store.upsert(
      Object.entries(IMAGES).map(([name, v], i) => ({
        id: `00000000-0000-4000-8000-00000000000${i}`,
        vector: normalize(Float32Array.from(v)),
        payload: { tenant: 'T', source: 'local', filename: name, contentHash: name, modelId: 'known-vectors', createdAt: '2026-01-01T00:00:00.000Z', width: 1, height: 1, shares: [] },
      })),
    );
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const search = (embedder: KnownVectorEmbedder | AdaptedEmbedder) => new SearchService({ embedder, store, minRelativeScore: 0, logger });

  it.each(['red', 'teal'])('ranks the images for "%s" by their cosine with normalise(W q), scores included', async (text) => {
    const q = await known.embedQuery(text);
    const wq = normalize(Float32Array.from(W, (row) => row.reduce((s, w, k) => s + w * (q[k] as number), 0)));
    const expected = Object.entries(IMAGES)
      .map(([name, v]) => ({ name, score: dot(wq, normalize(Float32Array.from(v))) }))
      .sort((a, b) => b.score - a.score);
    const { hits } = await search(new AdaptedEmbedder(known, adapter)).searchText({ text, scope: { tenant: 'T' }, limit: 10 });
    expect(hits.map((h) => h.payload.filename)).toEqual(expected.map((e) => e.name));
    hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]?.score as number, 5));
    // And the adapter changes this ranking: without it red comes first for "red".
    const plain = await search(known).searchText({ text, scope: { tenant: 'T' }, limit: 10 });
    expect(plain.hits.map((h) => h.payload.filename)).not.toEqual(hits.map((h) => h.payload.filename));
  });

  it('leaves image queries alone: "more like this image" ranks as without an adapter', async () => {
    const image = imageWithVector([0.1, 0.9, 0.1, 0.2]);
    const withAdapter = await search(new AdaptedEmbedder(known, adapter)).searchSimilarToImage(image, { scope: { tenant: 'T' }, limit: 10 });
    const without = await search(known).searchSimilarToImage(image, { scope: { tenant: 'T' }, limit: 10 });
    expect(withAdapter.hits).toEqual(without.hits);
  });

  it('refuses an adapter made for another model', () => {
    const other = QueryAdapter.identity('clip-vit-b32', 4);
    expect(() => new AdaptedEmbedder(known, other)).toThrow(/an adapter for clip-vit-b32 \(4\) cannot adapt known-vectors \(4\)/);
  });
});
