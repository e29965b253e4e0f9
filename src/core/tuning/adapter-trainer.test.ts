// The trainer on vectors small enough to follow by hand: a thumbs-down image that plain search
// ranks first ends up below the thumbed-up one, with nothing to learn W stays the identity, and
// training stops once validation loss only creeps down.
import { describe, expect, it } from 'vitest';
import { dot, normalize } from '../embedding/vector-math.js';
import { seededRandom } from '../seeded-random.js';
import { MAX_EPOCHS, MIN_IMPROVEMENT, MIN_QUERIES_FOR_VALIDATION, PATIENCE, trainAdapter, type TrainingSet } from './adapter-trainer.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));

/**
 * 40 random images in 8 dimensions, each found by one query: the image with its first two
 * coordinates swapped, plus noise. W learns the swap, so validation loss falls steeply, then
 * creeps towards zero.
 */
function swappedCoordinates(): TrainingSet {
  const random = seededRandom(7);
  const dimension = 8;
  const uniform = () => random() * 2 - 1;
  const images = Array.from({ length: 40 }, () => normalize(Float32Array.from({ length: dimension }, uniform)));
  const queries = images.map((image, i) => {
    const q = Float32Array.from(image);
    [q[0], q[1]] = [image[1] as number, image[0] as number];
    for (let k = 0; k < dimension; k++) q[k] = (q[k] as number) + 0.1 * uniform();
    return { vector: normalize(q), positives: [i], negatives: [] };
  });
  return { modelId: 'm', dimension, images, queries };
}

describe('training a query adapter', () => {
  it('puts the thumbed-up image above a thumbed-down one that plain search ranked first', () => {
    const query = v(1, 0, 0);
    const up = v(0.6, 0.8, 0);
    const down = v(0.95, 0, 0.31);
    expect(dot(query, down)).toBeGreaterThan(dot(query, up));
    const { adapter, bestEpoch } = trainAdapter(
      { modelId: 'm', dimension: 3, images: [up, down], queries: [{ vector: query, positives: [0], negatives: [1] }] },
      { seed: 1, learningRate: 0.05 },
    );
    const adapted = adapter.apply(query);
    expect(dot(adapted, up)).toBeGreaterThan(dot(adapted, down));
    expect(bestEpoch).toBeGreaterThan(0);
  });

  it('keeps the identity when no query has a relevant image to learn from', () => {
    const { adapter, epochs } = trainAdapter(
      { modelId: 'm', dimension: 3, images: [v(1, 0, 0)], queries: [{ vector: v(0, 1, 0), positives: [], negatives: [0] }] },
      { seed: 1 },
    );
    expect(epochs).toEqual([]);
    expect(adapter.distanceFromIdentity()).toBe(0);
  });

  it('stops early once validation loss falls by less than MIN_IMPROVEMENT for PATIENCE epochs, though it still falls', () => {
    const set = swappedCoordinates();
    expect(set.queries.length).toBeGreaterThanOrEqual(MIN_QUERIES_FOR_VALIDATION);
    const { epochs, stoppedEarly, bestEpoch, validationQueries } = trainAdapter(set, { seed: 3, learningRate: 0.05 });
    expect(validationQueries).toBeGreaterThan(0);
    const losses = epochs.map((e) => e.validationLoss as number);
    // Every epoch beats the one before: only the size of the gain can have stopped it.
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1] as number);
    expect(stoppedEarly).toBe(true);
    expect(epochs.length).toBeLessThan(MAX_EPOCHS);
    // The last PATIENCE epochs together gained less than MIN_IMPROVEMENT of the loss (epoch 1's
    // loss is below the identity's, so this bound is the stricter one).
    const last = losses.length - 1;
    expect((losses[last - PATIENCE] as number) - (losses[last] as number)).toBeLessThan(MIN_IMPROVEMENT * (losses[0] as number));
    // W is the one of the lowest validation loss: the last epoch's.
    expect(bestEpoch).toBe(epochs.length);
  });

  it('does not call a run stopped early when the rule fires at the last epoch of the budget', () => {
    const set = swappedCoordinates();
    const unbounded = trainAdapter(set, { seed: 3, learningRate: 0.05 });
    const budget = unbounded.epochs.length;
    const { epochs, stoppedEarly, bestEpoch } = trainAdapter(set, { seed: 3, learningRate: 0.05, epochs: budget });
    expect(epochs).toEqual(unbounded.epochs);
    expect(stoppedEarly).toBe(false);
    expect(bestEpoch).toBe(budget);
  });

  it('refuses vectors of another length than the dimension', () => {
    expect(() => trainAdapter({ modelId: 'm', dimension: 3, images: [v(1, 0)], queries: [] }, { seed: 1 })).toThrow(/an image vector has 2 floats, not 3/);
  });
});
