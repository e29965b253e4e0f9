// The trainer on vectors small enough to follow by hand: a thumbs-down image that plain search
// ranks first ends up below the thumbed-up one, and with nothing to learn W stays the identity.
import { describe, expect, it } from 'vitest';
import { dot, normalize } from '../embedding/vector-math.js';
import { trainAdapter } from './adapter-trainer.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));

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

  it('refuses vectors of another length than the dimension', () => {
    expect(() => trainAdapter({ modelId: 'm', dimension: 3, images: [v(1, 0)], queries: [] }, { seed: 1 })).toThrow(/an image vector has 2 floats, not 3/);
  });
});
