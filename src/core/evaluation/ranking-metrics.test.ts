import { describe, expect, it } from 'vitest';
import {
  firstRelevantRank,
  hitAtK,
  meanMetrics,
  ndcgAtK,
  precisionAtK,
  rankingMetrics,
  recallAtK,
  reciprocalRank,
} from './ranking-metrics.js';

// Ranked a, b, c, d; a and c were thumbed up, b thumbed down, e (not returned) thumbed up.
const labels = new Map([
  ['a', 1],
  ['b', -1],
  ['c', 1],
  ['e', 1],
]);
const ranked = ['a', 'b', 'c', 'd'];

describe('ranking metrics', () => {
  it('precision@K counts relevant results among the top K', () => {
    expect(precisionAtK(ranked, labels, 1)).toBe(1);
    expect(precisionAtK(ranked, labels, 2)).toBe(0.5);
    expect(precisionAtK(ranked, labels, 4)).toBe(0.5);
    // K larger than the list: missing results count as misses.
    expect(precisionAtK(['a'], labels, 4)).toBe(0.25);
  });

  it('recall@K is the share of every relevant image found in the top K', () => {
    expect(recallAtK(ranked, labels, 1)).toBeCloseTo(1 / 3, 10);
    expect(recallAtK(ranked, labels, 4)).toBeCloseTo(2 / 3, 10);
    expect(recallAtK(ranked, new Map([['b', -1]]), 4)).toBe(0);
  });

  it('nDCG@K matches the hand-computed value', () => {
    // DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal (3 relevant, K=4) = 1 + 1/log2(3) + 1/log2(4).
    const ideal = 1 + 1 / Math.log2(3) + 0.5;
    expect(ndcgAtK(ranked, labels, 4)).toBeCloseTo(1.5 / ideal, 10);
    expect(ndcgAtK(['a', 'c', 'e'], labels, 3)).toBeCloseTo(1, 10);
    expect(ndcgAtK(['d'], labels, 3)).toBe(0);
  });

  it('averages metrics over queries', () => {
    const one = rankingMetrics(['a'], labels, 1);
    const zero = rankingMetrics(['d'], labels, 1);
    expect(meanMetrics([one, zero])).toEqual({ precisionAtK: 0.5, recallAtK: 1 / 6, ndcgAtK: 0.5 });
    expect(meanMetrics([])).toEqual({ precisionAtK: 0, recallAtK: 0, ndcgAtK: 0 });
  });

  it('counts an id repeated in a ranking once, at its first place', () => {
    // a, a, a, c: two distinct relevant images of three, although four places were filled.
    const repeated = ['a', 'a', 'a', 'c'];
    expect(recallAtK(repeated, labels, 4)).toBeCloseTo(2 / 3, 10);
    expect(recallAtK(['a', 'a', 'a', 'a'], new Map([['a', 1]]), 4)).toBe(1);
    // Top 4 distinct are a, c: 2 relevant over K=4.
    expect(precisionAtK(repeated, labels, 4)).toBe(0.5);
    // Distinct ranking a, c: DCG = 1 + 1/log2(3); ideal for 3 relevant at K=4 = 1 + 1/log2(3) + 1/2.
    expect(ndcgAtK(repeated, labels, 4)).toBeCloseTo((1 + 1 / Math.log2(3)) / (1 + 1 / Math.log2(3) + 0.5), 10);
    // d, d, c: c is the second distinct id, so rank 2.
    expect(firstRelevantRank(['d', 'd', 'c'], labels)).toBe(2);
  });

  it('reciprocal rank and the first relevant rank match hand-computed values', () => {
    expect(firstRelevantRank(ranked, labels)).toBe(1);
    expect(reciprocalRank(['d', 'b', 'c'], labels)).toBeCloseTo(1 / 3, 10);
    expect(firstRelevantRank(['d', 'b'], labels)).toBeUndefined();
    expect(reciprocalRank(['d', 'b'], labels)).toBe(0);
  });

  it('hit@K is 1 once any relevant image is in the top K', () => {
    expect(hitAtK(['d', 'b', 'c'], labels, 2)).toBe(0);
    expect(hitAtK(['d', 'b', 'c'], labels, 3)).toBe(1);
  });
});
