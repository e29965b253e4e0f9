// A captioned dataset is graded exactly: metric values on small hand-made vectors equal the
// ones worked out by hand, shared captions make every image carrying them relevant, and the
// bootstrap interval is the same on every run.
import { describe, expect, it } from 'vitest';
import { normalize } from '../embedding/vector-math.js';
import { bootstrap, median } from './bootstrap.js';
import { captionQueries, parseCaptionsJsonl } from './caption-dataset.js';
import { gradeDataset } from './dataset-evaluator.js';
import { holdOut } from './held-out-feedback.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));
const metric = (list: Array<{ name: string; estimate: { value: number } }>, name: string) =>
  list.find((m) => m.name === name)?.estimate.value;

describe('captioned datasets', () => {
  it('reads captions.jsonl and makes every caption a query, relevant to each image sharing it', () => {
    const rows = parseCaptionsJsonl('{"image":"a.png","captions":["a dog","a pet"]}\n\n{"image":"b.png","captions":["a pet"]}\n');
    expect(captionQueries(rows)).toEqual([
      { text: 'a dog', image: 0, relevant: [0] },
      { text: 'a pet', image: 0, relevant: [0, 1] },
      { text: 'a pet', image: 1, relevant: [0, 1] },
    ]);
  });

  it('names the line of a malformed row', () => {
    expect(() => parseCaptionsJsonl('{"image":"a.png","captions":["x"]}\nnot json')).toThrow(/line 2 is not JSON/);
    expect(() => parseCaptionsJsonl('{"image":"../a.png","captions":["x"]}')).toThrow(/inside the dataset folder/);
    expect(() => parseCaptionsJsonl('{"image":"a.png","captions":[]}')).toThrow(/non-empty list/);
    expect(() => parseCaptionsJsonl('{"image":"a.png","captions":["x"]}\n{"image":"a.png","captions":["y"]}')).toThrow(/again/);
  });
});

describe('grading a dataset', () => {
  // Images A, B, C. "red" is nearest A, then B, then C; "blue" nearest C, then B, then A;
  // "pet" (the caption of both B and C) nearest A, then B, then C.
  const images = new Map([
    ['A', v(1, 0, 0)],
    ['B', v(0.6, 0.8, 0)],
    ['C', v(0, 0.6, 0.8)],
  ]);
  const queryVectors = new Map([
    ['red', v(1, 0.1, 0)],
    ['blue', v(0, 0.1, 1)],
    ['pet', v(1, 0.2, 0)],
  ]);
  const queries = [
    { text: 'red', relevant: ['B'] },
    { text: 'blue', relevant: ['C'] },
    { text: 'pet', relevant: ['B', 'C'] },
  ];

  it('computes text-to-image metrics equal to hand-computed ones', () => {
    const grades = gradeDataset({ images, queries, queryVectors }, [1, 2]);
    const t2i = grades.textToImage;
    // Ranks of the first relevant image: red 2 (A, B, C), blue 1 (C, B, A), pet 2 (A, B, C).
    expect(grades.queries.map((q) => q.firstRank)).toEqual([2, 1, 2]);
    // R@1: red 0, blue 1, pet 0. R@2: red 1, blue 1, pet 1/2.
    expect(metric(t2i, 'R@1')).toBeCloseTo(1 / 3, 10);
    expect(metric(t2i, 'R@2')).toBeCloseTo((1 + 1 + 0.5) / 3, 10);
    // P@2: red 1/2, blue 1/2, pet 1/2.
    expect(metric(t2i, 'P@2')).toBeCloseTo(0.5, 10);
    expect(metric(t2i, 'MRR')).toBeCloseTo((0.5 + 1 + 0.5) / 3, 10);
    expect(metric(t2i, 'median rank')).toBe(2);
    // nDCG@10: red 1/log2(3); blue 1; pet (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3)).
    const pet = (1 / Math.log2(3) + 0.5) / (1 + 1 / Math.log2(3));
    expect(metric(t2i, 'nDCG@10')).toBeCloseTo((1 / Math.log2(3) + 1 + pet) / 3, 10);
  });

  it('computes image-to-text recall: an image is found when any of its captions ranks in the top K', () => {
    const grades = gradeDataset({ images, queries, queryVectors }, [1, 2]);
    // A has no caption, so it is not graded. B ranks pet, red, blue: found at 1.
    // C ranks blue first (0.8 + 0.06), so found at 1.
    expect(metric(grades.imageToText, 'R@1')).toBe(1);
    expect(grades.imageToText.map((m) => m.name)).toEqual(['R@1', 'R@2']);
  });

  it('separates the scores of relevant pairs from the rest', () => {
    const grades = gradeDataset({ images, queries, queryVectors }, [1]);
    expect(grades.scores.relevant.counts.reduce((a, b) => a + b)).toBe(4);
    expect(grades.scores.irrelevant.counts.reduce((a, b) => a + b)).toBe(5);
  });
});

describe('bootstrap intervals and splits', () => {
  it('are the same on every run with a seed, and contain the value', () => {
    const values = [0, 1, 1, 0, 1, 1, 1, 0, 1, 1];
    const first = bootstrap(values, undefined, { seed: 7 });
    expect(bootstrap(values, undefined, { seed: 7 })).toEqual(first);
    expect(first.value).toBeCloseTo(0.7, 10);
    expect(first.low).toBeLessThanOrEqual(0.7);
    expect(first.high).toBeGreaterThanOrEqual(0.7);
    expect(first.high - first.low).toBeGreaterThan(0);
    expect(bootstrap([3, 3, 3], median)).toEqual({ value: 3, low: 3, high: 3 });
  });

  it('holds out the asked share of queries, the same ones each time', () => {
    const held = holdOut(10, 0.3, 1);
    expect(held.size).toBe(3);
    expect(holdOut(10, 0.3, 1)).toEqual(held);
  });
});
