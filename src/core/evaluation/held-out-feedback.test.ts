// Label feedback graded on a held-out split: a held-out question also asked in the training part
// moves its image up through the real SearchService; with no shared question nothing is fitted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { normalize } from '../embedding/vector-math.js';
import { SearchService } from '../search/search-service.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { VectorStore } from '../store/vector-store.js';
import { uuid } from '../store/vector-store.contract.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { gradeHeldOut, TrainingLabelFeedback } from './held-out-feedback.js';

const CAR = uuid(1);
const TRUCK = uuid(2);
const DOG = uuid(3);

describe('grading label feedback on held-out queries', () => {
  let dir: string;
  let store: VectorStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-heldout-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 3, logger: createSilentLogger() });
    const payload = (name: string) => ({
      tenant: 'local', source: 'local', filename: name, contentHash: name, modelId: 'known-vectors',
      createdAt: '2026-01-01T00:00:00.000Z', width: 10, height: 10, shares: [],
    });
    // "red truck" embeds closest to CAR, then TRUCK, then DOG.
    await store.upsert([
      { id: CAR, vector: normalize(Float32Array.from([1, 0.3, 0])), payload: payload('car.jpg') },
      { id: TRUCK, vector: normalize(Float32Array.from([0.7, 1, 0])), payload: payload('truck.jpg') },
      { id: DOG, vector: normalize(Float32Array.from([0, 0.2, 1])), payload: payload('dog.jpg') },
    ]);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const grade = (training: Array<{ text: string; relevant: string[] }>) => {
    const feedback = new TrainingLabelFeedback(training);
    const search = new SearchService({
      embedder: new KnownVectorEmbedder(3, { 'red truck': [1, 0.5, 0], 'a dog': [0, 0, 1] }),
      store,
      minRelativeScore: 0,
      feedback,
      logger: createSilentLogger(),
    });
    return gradeHeldOut({ search, feedback, heldOut: [{ text: 'red truck', relevant: [TRUCK] }], tenant: 'local', images: 3, ks: [1] });
  };

  it('grades the held-out question with the training labels of the same question', async () => {
    const grades = await grade([{ text: 'Red  truck', relevant: [TRUCK] }]);
    expect(grades).toMatchObject({ heldOut: 1, withLabels: 1, window: 3 });
    // Plain: CAR, TRUCK, DOG (R@1 0, MRR 1/2). With the truck as a positive example it ranks first.
    expect(grades.plain.find((m) => m.name === 'R@1')?.estimate.value).toBe(0);
    expect(grades.plain.find((m) => m.name === 'MRR')?.estimate.value).toBe(0.5);
    expect(grades.withFeedback?.find((m) => m.name === 'R@1')?.estimate.value).toBe(1);
  });

  it('fits nothing when no training query asked the held-out question', async () => {
    const grades = await grade([{ text: 'a dog', relevant: [DOG] }]);
    expect(grades.withLabels).toBe(0);
    expect(grades.withFeedback).toBeUndefined();
  });
});
