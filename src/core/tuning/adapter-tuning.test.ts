// `findimage tune`'s core on generated data with a known answer: captions that are a rotation of
// their images (plus noise) must be lifted clearly on held-out questions, and the adapter judged
// to help; captions unrelated to their images must show no lift, and the adapter must not pass.
import { describe, expect, it } from 'vitest';
import { distortedCaptions } from '../testing/distorted-captions.js';
import { weightsSha256 } from './adapter-file.js';
import { adapterHelps, tuneAdapter, type TuningReport } from './adapter-tuning.js';

const D = 32;
const OPTIONS = { modelId: 'synthetic', dimension: D, holdout: 0.2, seed: 3, ks: [1, 5, 10] };

const value = (report: TuningReport, name: string, which: 'plain' | 'adapted') =>
  report.sources[0]?.[which].find((m) => m.name === name)?.estimate.value as number;

describe('tuning a query adapter', () => {
  it('undoes a known linear distortion: held-out R@1 and nDCG@10 rise from chance to near 1, and the adapter helps', async () => {
    const source = distortedCaptions({ dimension: D, images: 300, seed: 1, structure: true });
    const report = await tuneAdapter([source], OPTIONS);
    expect(report.sources[0]).toMatchObject({ name: 'distorted captions', heldOutQuestions: 60, trainingQuestions: 240 });
    // A random rotation leaves plain cosine near chance (1/300 at R@1).
    expect(value(report, 'R@1', 'plain')).toBeLessThan(0.1);
    expect(value(report, 'R@1', 'adapted')).toBeGreaterThan(0.8);
    expect(value(report, 'nDCG@10', 'adapted') - value(report, 'nDCG@10', 'plain')).toBeGreaterThan(0.7);
    expect(value(report, 'MRR', 'adapted')).toBeGreaterThan(value(report, 'MRR', 'plain'));
    expect(report.ndcgChange.low).toBeGreaterThan(0.5);
    expect(report.helps).toBe(true);
    expect(report.training.bestEpoch).toBeGreaterThan(0);
  });

  it('finds no lift where captions are unrelated to their images, and the adapter does not pass the rule', async () => {
    const source = distortedCaptions({ dimension: D, images: 300, seed: 1, structure: false });
    const report = await tuneAdapter([source], OPTIONS);
    expect(Math.abs(value(report, 'nDCG@10', 'adapted') - value(report, 'nDCG@10', 'plain'))).toBeLessThan(0.05);
    expect(report.ndcgChange.low).toBeLessThanOrEqual(0);
    expect(report.helps).toBe(false);
  });

  it('gives the same adapter for the same data and seed', async () => {
    const source = distortedCaptions({ dimension: 16, images: 120, seed: 2, structure: true });
    const [a, b] = await Promise.all([tuneAdapter([source], { ...OPTIONS, dimension: 16, epochs: 3 }), tuneAdapter([source], { ...OPTIONS, dimension: 16, epochs: 3 })]);
    expect(weightsSha256(a.adapter.weights)).toBe(weightsSha256(b.adapter.weights));
    const other = await tuneAdapter([source], { ...OPTIONS, dimension: 16, epochs: 3, seed: 4 });
    expect(weightsSha256(other.adapter.weights)).not.toBe(weightsSha256(a.adapter.weights));
  });

  it('holds out whole groups: no image has captions on both sides of the split', async () => {
    const source = distortedCaptions({ dimension: 8, images: 40, seed: 2, structure: true });
    // Two captions per image, in one group: 40 groups, 8 held out, so 16 held-out questions.
    const doubled = { ...source, questions: source.questions.flatMap((q) => [q, { ...q, text: `${q.text} again` }]) };
    const report = await tuneAdapter([doubled], { ...OPTIONS, dimension: 8, epochs: 1 });
    expect(report.sources[0]).toMatchObject({ heldOutQuestions: 16, trainingQuestions: 64 });
    const held = new Set(report.sources[0]?.heldOutTexts);
    for (const text of held) expect(held.has(text.endsWith(' again') ? text.slice(0, -' again'.length) : `${text} again`), text).toBe(true);
  });

  it('refuses a source too small to split, saying what to do', async () => {
    const source = distortedCaptions({ dimension: 8, images: 2, seed: 2, structure: true });
    await expect(tuneAdapter([source], { ...OPTIONS, dimension: 8, holdout: 0.2 })).rejects.toThrow(/too few questions.*Gather more labels or captions/);
  });

  it('saves only an adapter whose whole nDCG@10 interval is above zero', () => {
    expect(adapterHelps({ value: 0.2, low: 0.01, high: 0.4 })).toBe(true);
    expect(adapterHelps({ value: 0.2, low: 0, high: 0.4 })).toBe(false);
    expect(adapterHelps({ value: 0.05, low: -0.02, high: 0.1 })).toBe(false);
  });
});
