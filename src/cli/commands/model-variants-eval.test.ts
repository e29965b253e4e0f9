// eval --dataset compares models of different families and precisions in one run: the
// committed colour fixture graded with tiny-test, its int8 variant (named "tiny-test:q8") and
// tiny-siglip, each on its own scratch index. What is checked is the plumbing (every model is
// indexed, queried and graded, under its own id), not quality: the weights are random.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { NO_TEMPLATE, type DatasetEvaluation } from '../../core/evaluation/dataset-evaluation.js';
import { createSilentLogger } from '../../logger.js';
import type { Terminal } from '../terminal.js';
import { runEvalDataset } from './eval-dataset-command.js';

const DATASET = fileURLToPath(new URL('../../../test/fixtures/datasets/colours', import.meta.url));

let dir: string;
let evaluation: DatasetEvaluation;
const lines: string[] = [];
const terminal: Terminal = {
  out: (t) => lines.push(t),
  err: () => {},
  progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'findimage-variants-eval-'));
  const config = loadConfig({ FINDIMAGE_DATA: join(dir, 'data'), FINDIMAGE_CACHE: join(dir, 'cache'), FINDIMAGE_DEVICE: 'cpu' });
  evaluation = await runEvalDataset(
    config,
    { dataset: DATASET, models: ['tiny-test', 'tiny-test:q8', 'tiny-siglip'], templates: [[NO_TEMPLATE]], ks: [1, 5], json: false },
    terminal,
    createSilentLogger(),
  );
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('eval --dataset --models across families and variants', () => {
  it('indexes the dataset once per model, under each model id', () => {
    expect(evaluation.indexing.map((i) => i.model)).toEqual(['tiny-test', 'tiny-test-q8', 'tiny-siglip']);
    for (const indexing of evaluation.indexing) expect(indexing.skipped).toEqual([]);
  });

  it('grades every model on every query, and the int8 variant ranks close to its fp32 model', () => {
    const byModel = new Map(evaluation.runs.map((run) => [run.model, run]));
    expect([...byModel.keys()]).toEqual(['tiny-test', 'tiny-test-q8', 'tiny-siglip']);
    for (const run of evaluation.runs) {
      expect(run.grades.queries).toHaveLength(evaluation.queries);
      expect(run.grades.textToImage.map((m) => m.name)).toContain('R@5');
    }
    const rank = (model: string) => byModel.get(model)?.grades.queries.map((q) => q.firstRank);
    const fp32 = rank('tiny-test') ?? [];
    const q8 = rank('tiny-test-q8') ?? [];
    // Rounding the weights to int8 moves a few close scores, not the whole ranking.
    const same = fp32.filter((r, i) => r === q8[i]).length;
    expect(same / fp32.length).toBeGreaterThan(0.5);
  });
});
