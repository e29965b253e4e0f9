// Relevance feedback learns only from what the searcher may see: a thumbs-up on an image of a
// private channel they are not in must not move their query (nor, through the order of their
// results, hint at what that channel holds). Known 4-d vectors make every score exact.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { normalize } from '../embedding/vector-math.js';
import { LabelFeedback } from '../evaluation/label-feedback.js';
import { openSqliteLabelStore, type SqliteLabelStore } from '../labels/sqlite-label-store.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, VectorStore } from '../store/vector-store.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { SearchService, type SearchScope } from './search-service.js';

const logger = createSilentLogger();
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Someone in #general: its own images and the tenant's public ones, never #secret's. */
const FROM_GENERAL: SearchScope = { tenant: 'T1', channels: ['C-general'], includePublic: true };
const IN_SECRET: SearchScope = { tenant: 'T1', channels: ['C-secret'], includePublic: false };

// "black car" is [1, 0, 0, 0]. Without feedback, image 1 (0.9) beats image 2 (0.8). A thumbs-up
// on anything along [0, 0, 1, 0] (image 2's side) turns the order round: image 2 then scores
// about 0.93 against image 1's 0.87 when the thumbs-up is on image 2 itself, 1.0 against 0.72
// when it is on image 3.
const IMAGES: Array<{ n: number; vector: number[]; share: ImageShare }> = [
  { n: 1, vector: [0.9, Math.sqrt(1 - 0.81), 0, 0], share: { conversation: 'C-general', isPublic: true, sharedAt: '2026-01-10T00:00:00.000Z' } },
  { n: 2, vector: [0.8, 0, 0.6, 0], share: { conversation: 'C-general', isPublic: true, sharedAt: '2026-01-10T00:00:00.000Z' } },
  { n: 3, vector: [0, 0, 1, 0], share: { conversation: 'C-secret', isPublic: false, sharedAt: '2026-01-10T00:00:00.000Z' } },
];

describe('relevance feedback within the searcher’s scope', () => {
  let dir: string;
  let store: VectorStore;
  let labels: SqliteLabelStore;
  let search: SearchService;

  /** A "black car" search someone ran in `scope`, with their thumbs-up on image `n`. */
  async function thumbsUp(n: number, scope: SearchScope, user: string): Promise<void> {
    const queryId = `q-${user}-${n}`;
    const conversation = scope.channels?.[0] ?? 'local';
    await labels.recordQuery({ queryId, tenant: 'T1', kind: 'text', text: 'black car', searchText: 'black car', negativeTerms: [], scope, filters: {}, user, conversation, createdAt: new Date() });
    await labels.addLabel({ tenant: 'T1', queryId, queryText: 'black car', imageId: uuid(n), user, value: 1 });
  }

  const blackCar = async (scope: SearchScope) =>
    (await search.searchText({ text: 'black car', scope, limit: 10 })).hits.map((hit) => hit.id);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-feedback-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    labels = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger });
    await store.upsert(
      IMAGES.map(({ n, vector, share }) => ({
        id: uuid(n),
        vector: normalize(Float32Array.from(vector)),
        payload: { tenant: 'T1', source: 'slack', filename: `${n}.jpg`, contentHash: `h${n}`, modelId: 'known-vectors', createdAt: '2026-01-10T00:00:00.000Z', width: 8, height: 8, shares: [share] },
      })),
    );
    const embedder = new KnownVectorEmbedder(4, { 'black car': [1, 0, 0, 0] });
    search = new SearchService({ embedder, store, minRelativeScore: 0, feedback: new LabelFeedback(labels), logger });
  });
  afterEach(async () => {
    await labels.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves the query towards an image the searcher can see that people marked relevant', async () => {
    expect(await blackCar(FROM_GENERAL)).toEqual([uuid(1), uuid(2)]);
    await thumbsUp(2, FROM_GENERAL, 'U-ann');
    expect(await blackCar(FROM_GENERAL)).toEqual([uuid(2), uuid(1)]);
  });

  it('ignores a thumbs-up on an image of a private channel the searcher is not in', async () => {
    await thumbsUp(3, IN_SECRET, 'U-bob');
    expect(await blackCar(FROM_GENERAL)).toEqual([uuid(1), uuid(2)]);
    const scores = (await search.searchText({ text: 'black car', scope: FROM_GENERAL, limit: 10 })).hits.map((hit) => hit.score);
    expect(scores[0]).toBeCloseTo(0.9, 5);
    expect(scores[1]).toBeCloseTo(0.8, 5);
  });

  it('uses that same thumbs-up for someone who can see the image', async () => {
    await thumbsUp(3, IN_SECRET, 'U-bob');
    const [best] = (await search.searchText({ text: 'black car', scope: IN_SECRET, limit: 10 })).hits;
    // The query moved from [1, 0, 0, 0] to [0.8, 0, 0.6, 0]: image 3 now scores 0.6, not 0.
    expect(best?.id).toBe(uuid(3));
    expect(best?.score).toBeCloseTo(0.6, 5);
  });
});
