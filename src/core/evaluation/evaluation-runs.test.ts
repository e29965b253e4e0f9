// Background dataset evaluations: one at a time, cancellable, every run kept on disk and found
// again by a new process, and no folder outside the datasets folder ever read. The models are
// fakes whose vectors come from the bytes and words they are given, held at a gate where a test
// needs a run to stay running.
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { Embedder, PreparedImage } from '../embedding/embedder.js';
import { normalize } from '../embedding/vector-math.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import { waitUntil } from '../testing/wait-until.js';
import { stepsOf, type EvaluationModel, type OpenEvaluationModel } from './dataset-evaluation.js';
import { EvaluationRuns, MAX_KEPT_RUNS, type EvaluationRequest } from './evaluation-runs.js';

const COLOURS = fileURLToPath(new URL('../../../test/fixtures/datasets/colours', import.meta.url));
const DIMENSION = 8;

/** A unit vector drawn from a digest: the same input always embeds the same way. */
function vectorOf(input: string | Uint8Array): Float32Array {
  const digest = createHash('sha256').update(input).digest();
  return normalize(Float32Array.from({ length: DIMENSION }, (_, i) => (digest[i] as number) - 127.5));
}

class DigestEmbedder implements Embedder {
  readonly dimension = DIMENSION;
  constructor(readonly modelId: string) {}
  async embedQuery(text: string): Promise<Float32Array> {
    return vectorOf(`${this.modelId}:${text}`);
  }
  async embedImage(image: PreparedImage): Promise<Float32Array> {
    return normalize(image.pixels.slice(0, DIMENSION));
  }
  async close(): Promise<void> {}
}

/** Fake models; each open waits at `gate` until the test opens it. */
function fakeModels(): { open: OpenEvaluationModel; release(): void; opened: string[] } {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const opened: string[] = [];
  const open: OpenEvaluationModel = async (modelId, scratchDir): Promise<EvaluationModel> => {
    opened.push(modelId);
    await gate;
    const store = await openSqliteVectorStore({ path: join(scratchDir, `${modelId}.sqlite`), dimension: DIMENSION, logger: createSilentLogger() });
    return {
      embedder: new DigestEmbedder(modelId),
      prepareImage: async (bytes) => ({ pixels: vectorOf(bytes), width: 8, height: 8, format: 'png' }),
      normalizeQuery: (text) => text,
      store,
      close: () => store.close(),
    };
  };
  return { open, release: () => release(), opened };
}

describe('background dataset evaluations', () => {
  let dir: string;
  let root: string;
  let models: ReturnType<typeof fakeModels>;
  let runs: EvaluationRuns;
  const request: EvaluationRequest = { dataset: 'colours', models: ['fake-a', 'fake-b'], templates: [['{}'], ['a photo of {}']], ks: [1, 5] };

  const open = () =>
    new EvaluationRuns({
      dir: join(dir, 'data', 'evaluations'),
      datasetsRoot: root,
      openModel: models.open,
      models: async () => ['fake-a', 'fake-b'].map((id) => ({ id, description: id, onThisMachine: true, configured: id === 'fake-a' })),
      defaultTemplates: [['a photo of {}'], ['{}']],
      logger: createSilentLogger(),
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-eval-runs-'));
    root = join(dir, 'datasets');
    await mkdir(root);
    await cp(COLOURS, join(root, 'colours'), { recursive: true });
    models = fakeModels();
    runs = open();
  });
  afterEach(async () => {
    models.release();
    await runs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the datasets below the datasets folder', async () => {
    await mkdir(join(root, 'nested', 'flickr-mini'), { recursive: true });
    await writeFile(join(root, 'nested', 'flickr-mini', 'captions.jsonl'), '{"image": "a.jpg", "captions": ["a"]}\n\n');
    await mkdir(join(root, 'not-a-dataset'));
    expect(await runs.datasets()).toEqual([
      { name: 'colours', images: 6 },
      { name: 'nested/flickr-mini', images: 1 },
    ]);
  });

  it('runs in the background, reports its progress, and keeps the report', async () => {
    const started = await runs.start(request);
    expect(started.state).toBe('running');
    expect(runs.current()?.id).toBe(started.id);
    // Held at the first model's open: the running record says how far it is, out of how many steps.
    await waitUntil(() => models.opened.length === 1, 'the first model to be opened');
    const progress = runs.current()?.progress;
    expect(progress).toMatchObject({ steps: stepsOf(request) });
    expect(progress?.step).toBeLessThan(stepsOf(request));
    expect(progress?.label).toEqual(expect.any(String));
    expect((await runs.list())[0]?.progress).toEqual(progress);
    models.release();
    await waitUntil(async () => (await runs.get(started.id)).state === 'done', 'the run to finish');
    const done = await runs.get(started.id);
    expect(runs.current()).toBeUndefined();
    expect(done.progress).toBeUndefined();
    expect(done.finishedAt).toBeDefined();
    const report = done.report!;
    expect(report).toMatchObject({ images: 6, queries: 14, ks: [1, 5] });
    expect(report.runs.map((r) => r.label)).toEqual(['fake-a, no template', 'fake-a, "a photo of {}"', 'fake-b, no template', 'fake-b, "a photo of {}"']);
    for (const run of report.runs) {
      expect(run.textToImage.map((m) => m.name)).toEqual(['R@1', 'R@5', 'P@1', 'P@5', 'nDCG@10', 'MRR', 'median rank']);
      expect(run.imageToText.map((m) => m.name)).toEqual(['R@1', 'R@5']);
      for (const { estimate } of run.textToImage) expect(estimate.low).toBeLessThanOrEqual(estimate.high);
      // 14 captions, of which "a warm colour" and "a cool colour" (two each) have two images.
      expect(run.scores.relevant.counts.reduce((a, b) => a + b, 0)).toBe(18);
    }
    // The two fake models rank differently, so some queries are listed where they disagree.
    expect(report.disagreements.length).toBeGreaterThan(0);
    expect(report.disagreements[0]?.runs).toHaveLength(4);
  });

  it('runs one evaluation at a time, and a cancelled one stops and says so', async () => {
    const first = await runs.start(request);
    await expect(runs.start(request)).rejects.toMatchObject({ code: 'evaluation_busy', message: expect.stringMatching(/already running \(colours/) });
    await expect(runs.delete(first.id)).rejects.toMatchObject({ code: 'evaluation_busy' });
    const cancelling = runs.cancel(first.id);
    models.release();
    expect(await cancelling).toBe(true);
    expect((await runs.get(first.id)).state).toBe('cancelled');
    expect(runs.current()).toBeUndefined();
    // The scratch index is gone with it; only the record stays.
    expect(await readdir(join(dir, 'data', 'evaluations'))).toEqual([`${first.id}.json`]);
    // Once it has stopped, the next one may start.
    const second = await runs.start(request);
    await waitUntil(async () => (await runs.get(second.id)).state === 'done', 'the second run to finish');
    expect(await runs.cancel(second.id)).toBe(false);
  });

  it('keeps every run on disk: another process lists and opens it, and delete removes it', async () => {
    models.release();
    const run = await runs.start(request);
    await waitUntil(async () => (await runs.get(run.id)).state === 'done', 'the run to finish');
    const later = open();
    expect((await later.list()).map((r) => [r.id, r.state])).toEqual([[run.id, 'done']]);
    expect((await later.list())[0]).not.toHaveProperty('report');
    expect((await later.get(run.id)).report?.runs).toHaveLength(4);
    await later.delete(run.id);
    expect(await later.list()).toEqual([]);
    await expect(later.get(run.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(later.delete(run.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('marks a run the server stopped during as interrupted', async () => {
    const run = await runs.start(request);
    // Another process finds the record still "running" on disk: its server stopped.
    const after = open();
    await after.recover();
    expect((await after.get(run.id)).state).toBe('interrupted');
  });

  it('keeps at most the newest runs', async () => {
    models.release();
    const store = join(dir, 'data', 'evaluations');
    await mkdir(store, { recursive: true });
    for (let i = 0; i < MAX_KEPT_RUNS + 3; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      await writeFile(join(store, `${id}.json`), JSON.stringify({ id, request, state: 'done', startedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }));
    }
    const run = await runs.start(request);
    const kept = (await runs.list()).map((r) => r.id);
    expect(kept).toHaveLength(MAX_KEPT_RUNS);
    expect(kept[0]).toBe(run.id);
    expect(kept).not.toContain('00000000-0000-4000-8000-000000000000');
  });

  it('refuses any folder outside the datasets folder, links included, and folders that are not datasets', async () => {
    const outside = join(dir, 'secret');
    await cp(COLOURS, outside, { recursive: true });
    await symlink(outside, join(root, 'link-out'));
    await mkdir(join(root, 'empty'));
    for (const dataset of ['../secret', outside, 'link-out', 'colours/../../secret', 'empty', 'missing', '']) {
      await expect(runs.start({ ...request, dataset }), dataset).rejects.toMatchObject({ code: 'dataset_refused', message: expect.stringContaining(`inside ${root}`) });
    }
    expect(models.opened).toEqual([]);
    // A link that stays inside is fine.
    await symlink(join(root, 'colours'), join(root, 'link-in'));
    const run = await runs.start({ ...request, dataset: 'link-in' });
    expect(run.state).toBe('running');
  });

  it('reads and deletes only its own records, whatever id it is given', async () => {
    // A record-shaped file beside the records' folder: an id that climbs out must not reach it.
    await mkdir(join(dir, 'data', 'evaluations'), { recursive: true });
    await writeFile(join(dir, 'data', 'outside.json'), JSON.stringify({ id: 'outside', request, state: 'done', startedAt: '2026-01-01T00:00:00.000Z' }));
    await expect(runs.get('../outside')).rejects.toMatchObject({ code: 'not_found' });
    await expect(runs.delete('../outside')).rejects.toMatchObject({ code: 'not_found' });
    expect(await readdir(join(dir, 'data'))).toContain('outside.json');
  });

  it('refuses a model that is not offered', async () => {
    await expect(runs.start({ ...request, models: ['fake-a', 'no-such-model'] })).rejects.toMatchObject({ code: 'model_unknown', message: expect.stringContaining('fake-a, fake-b') });
    expect(runs.current()).toBeUndefined();
  });
});
