// Labels measure the search, and then improve it: exact metrics on known vectors, and
// feedback from one query's thumbs moving the right image up for the same question later.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { normalize } from '../embedding/vector-math.js';
import { StoreError } from '../errors.js';
import type { LabelStore, QueryRecord } from '../labels/label-store.js';
import { openSqliteLabelStore } from '../labels/sqlite-label-store.js';
import { SearchService } from '../search/search-service.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { VectorStore } from '../store/vector-store.js';
import { uuid } from '../store/vector-store.contract.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { LabelFeedback } from './label-feedback.js';
import { evaluateSearch } from './search-evaluator.js';

const CAR = uuid(1);
const TRUCK = uuid(2);
const DOG = uuid(3);

describe('evaluating and improving search with labels', () => {
  let dir: string;
  let store: VectorStore;
  let labels: LabelStore;
  let search: SearchService;

  const query = (queryId: string, text: string): QueryRecord => ({
    queryId,
    tenant: 'T1',
    kind: 'text',
    text,
    searchText: text,
    negativeTerms: [],
    scope: { tenant: 'T1' },
    filters: {},
    user: 'U1',
    conversation: 'C1',
    createdAt: new Date('2026-11-01T00:00:00Z'),
  });
  const label = (queryId: string, imageId: string, value: 1 | -1, user = 'U1') =>
    labels.addLabel({ tenant: 'T1', queryId, queryText: 'red truck', imageId, user, value });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-eval-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 3, logger: createSilentLogger() });
    labels = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger: createSilentLogger() });
    const payload = (name: string) => ({
      tenant: 'T1', source: 'slack', filename: name, contentHash: name, modelId: 'known-vectors',
      createdAt: '2026-01-01T00:00:00.000Z', width: 10, height: 10, shares: [],
    });
    // "red truck" embeds closest to CAR, then TRUCK, then DOG.
    await store.upsert([
      { id: CAR, vector: normalize(Float32Array.from([1, 0.3, 0])), payload: payload('car.jpg') },
      { id: TRUCK, vector: normalize(Float32Array.from([0.7, 1, 0])), payload: payload('truck.jpg') },
      { id: DOG, vector: normalize(Float32Array.from([0, 0.2, 1])), payload: payload('dog.jpg') },
    ]);
    search = new SearchService({
      embedder: new KnownVectorEmbedder(3, { 'red truck': [1, 0.5, 0], 'Red  truck': [1, 0.5, 0] }),
      store,
      minRelativeScore: 0,
      feedback: new LabelFeedback(labels),
      logger: createSilentLogger(),
    });
  });
  afterEach(async () => {
    await labels.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('grades each judged query with Precision@K, Recall@K and nDCG@K', async () => {
    await labels.recordQuery(query('q1', 'red truck'));
    await label('q1', TRUCK, 1);
    await label('q1', CAR, -1);

    const report = await evaluateSearch({ search, labels, tenant: 'T1', k: 2, compareFeedback: false });
    // Ranking CAR, TRUCK: one relevant image of one, found at rank 2.
    expect(report.queries).toHaveLength(1);
    expect(report.queries[0]).toMatchObject({ queryId: 'q1', judged: 2 });
    expect(report.mean.plain.precisionAtK).toBe(0.5);
    expect(report.mean.plain.recallAtK).toBe(1);
    expect(report.mean.plain.ndcgAtK).toBeCloseTo(1 / Math.log2(3), 10);
  });

  it('grades a search with the cut-off it was run with', async () => {
    // Run with a cut-off that keeps only CAR: TRUCK, judged relevant, is not found.
    await labels.recordQuery({ ...query('q1', 'red truck'), tuning: { minRelativeScore: 0.99 } });
    await label('q1', TRUCK, 1);
    const report = await evaluateSearch({ search, labels, tenant: 'T1', k: 2, compareFeedback: false });
    expect(report.mean.plain.recallAtK).toBe(0);
  });

  it('nets out disagreeing users and ignores queries nobody agreed on', async () => {
    await labels.recordQuery(query('q1', 'red truck'));
    await label('q1', TRUCK, 1, 'U1');
    await label('q1', TRUCK, -1, 'U2');
    const report = await evaluateSearch({ search, labels, tenant: 'T1', k: 2, compareFeedback: false });
    expect(report.queries).toEqual([]);
  });

  it('moves the image people liked to the top when the same question is asked again', async () => {
    await labels.recordQuery(query('q1', 'red truck'));
    await label('q1', TRUCK, 1);
    await label('q1', CAR, -1);

    const before = await search.searchText({ text: 'red truck', scope: { tenant: 'T1' }, limit: 3, useFeedback: false });
    const after = await search.searchText({ text: 'Red  truck', scope: { tenant: 'T1' }, limit: 3 });
    expect(before.hits.map((h) => h.id)).toEqual([CAR, TRUCK, DOG]);
    expect(after.hits.map((h) => h.id)).toEqual([TRUCK, CAR, DOG]);
  });

  it('measures the improvement without grading a query by its own labels', async () => {
    await labels.recordQuery(query('q1', 'red truck'));
    await labels.recordQuery(query('q2', 'red truck'));
    for (const id of ['q1', 'q2']) {
      await label(id, TRUCK, 1);
      await label(id, CAR, -1);
    }
    const report = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true });
    expect(report.mean.plain.precisionAtK).toBe(0);
    expect(report.mean.withFeedback?.precisionAtK).toBe(1);

    // With only its own labels there is nothing to learn from: no improvement is claimed.
    await labels.removeLabel({ tenant: 'T1', queryId: 'q2', imageId: TRUCK, user: 'U1', value: 1 });
    await labels.removeLabel({ tenant: 'T1', queryId: 'q2', imageId: CAR, user: 'U1', value: -1 });
    const alone = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true });
    expect(alone.mean.withFeedback?.precisionAtK).toBe(0);
  });

  it('never lets another tenant\'s labels steer the search', async () => {
    await labels.recordQuery({ ...query('q9', 'red truck'), tenant: 'T2', scope: { tenant: 'T2' } });
    await labels.addLabel({ tenant: 'T2', queryId: 'q9', queryText: 'red truck', imageId: TRUCK, user: 'U9', value: 1 });
    const hits = await search.searchText({ text: 'red truck', scope: { tenant: 'T1' }, limit: 1 });
    expect(hits.hits.map((h) => h.id)).toEqual([CAR]);
  });

  it('still answers when the label store is unreachable, just without feedback', async () => {
    await labels.recordQuery(query('q1', 'red truck'));
    await label('q1', TRUCK, 1);
    const unreachable = new SearchService({
      embedder: new KnownVectorEmbedder(3, { 'red truck': [1, 0.5, 0] }),
      store,
      minRelativeScore: 0,
      feedback: { examplesFor: () => Promise.reject(new StoreError('store_unavailable', 'The label store is not reachable yet.')) },
      logger: createSilentLogger(),
    });
    const { hits } = await unreachable.searchText({ text: 'red truck', scope: { tenant: 'T1' }, limit: 3 });
    expect(hits.map((h) => h.id)).toEqual([CAR, TRUCK, DOG]);
  });
});

describe('evaluating label feedback on held-out queries', () => {
  let dir: string;
  let store: VectorStore;
  let labels: LabelStore;
  let search: SearchService;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-eval-split-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 3, logger: createSilentLogger() });
    labels = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger: createSilentLogger() });
    const payload = (name: string) => ({
      tenant: 'T1', source: 'local', filename: name, contentHash: name, modelId: 'known-vectors',
      createdAt: '2026-01-01T00:00:00.000Z', width: 10, height: 10, shares: [],
    });
    await store.upsert([
      { id: CAR, vector: normalize(Float32Array.from([1, 0.3, 0])), payload: payload('car.jpg') },
      { id: TRUCK, vector: normalize(Float32Array.from([0.7, 1, 0])), payload: payload('truck.jpg') },
      { id: DOG, vector: normalize(Float32Array.from([0, 0.2, 1])), payload: payload('dog.jpg') },
    ]);
    search = new SearchService({
      embedder: new KnownVectorEmbedder(3, { 'red truck': [1, 0.5, 0] }),
      store,
      minRelativeScore: 0,
      feedback: new LabelFeedback(labels),
      logger: createSilentLogger(),
    });
    // Four people asked "red truck" and each judged TRUCK relevant and CAR not.
    for (const id of ['q1', 'q2', 'q3', 'q4']) {
      await labels.recordQuery({
        queryId: id, tenant: 'T1', kind: 'text', text: 'red truck', searchText: 'red truck', negativeTerms: [],
        scope: { tenant: 'T1' }, filters: {}, user: 'U1', conversation: 'C1', createdAt: new Date('2026-11-01T00:00:00Z'),
      });
      await labels.addLabel({ tenant: 'T1', queryId: id, queryText: 'red truck', imageId: TRUCK, user: 'U1', value: 1 });
      await labels.addLabel({ tenant: 'T1', queryId: id, queryText: 'red truck', imageId: CAR, user: 'U1', value: -1 });
    }
  });
  afterEach(async () => {
    await labels.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('grades only the held-out share, the same queries for the same seed, whatever is judged later', async () => {
    const report = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true, split: { share: 0.5, seed: 12 } });
    expect(report.split).toEqual({ share: 0.5, seed: 12, heldOut: 2, judged: 4 });
    expect(report.queries).toHaveLength(2);
    const again = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true, split: { share: 0.5, seed: 12 } });
    expect(again.queries.map((q) => q.queryId)).toEqual(report.queries.map((q) => q.queryId));
    // A query's side is its own: judging more searches moves none of the earlier ones.
    for (const id of ['q5', 'q6', 'q7']) {
      await labels.recordQuery({ ...(await labels.getQuery('T1', 'q1'))!, queryId: id });
      await labels.addLabel({ tenant: 'T1', queryId: id, queryText: 'red truck', imageId: TRUCK, user: 'U1', value: 1 });
    }
    const later = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true, split: { share: 0.5, seed: 12 } });
    expect(later.queries.map((q) => q.queryId).filter((id) => ['q1', 'q2', 'q3', 'q4'].includes(id))).toEqual(report.queries.map((q) => q.queryId));
    // The training half's labels still teach feedback: TRUCK moves to the top.
    expect(report.mean.plain.precisionAtK).toBe(0);
    expect(report.mean.withFeedback?.precisionAtK).toBe(1);
  });

  it('never lets a held-out query\'s labels steer the feedback it is graded with', async () => {
    // Only the held-out queries carry labels for TRUCK now; the training ones judged nothing useful.
    const report = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true, split: { share: 0.5, seed: 12 } });
    const heldOut = new Set(report.queries.map((q) => q.queryId));
    for (const id of ['q1', 'q2', 'q3', 'q4'].filter((q) => !heldOut.has(q))) {
      await labels.removeLabel({ tenant: 'T1', queryId: id, imageId: TRUCK, user: 'U1', value: 1 });
      await labels.removeLabel({ tenant: 'T1', queryId: id, imageId: CAR, user: 'U1', value: -1 });
      await labels.addLabel({ tenant: 'T1', queryId: id, queryText: 'red truck', imageId: DOG, user: 'U1', value: -1 });
    }
    const after = await evaluateSearch({ search, labels, tenant: 'T1', k: 1, compareFeedback: true, split: { share: 0.5, seed: 12 } });
    expect(after.queries.map((q) => q.queryId).sort()).toEqual([...heldOut].sort());
    // Without a split, each query would learn TRUCK from the other held-out one.
    expect(after.mean.withFeedback?.precisionAtK).toBe(0);
  });
});
