// `findimage tune` and FINDIMAGE_ADAPTER through the real binary, with the tiny random-weight
// model: on the committed colours dataset and on labels a team gave, the held-out figures come
// out both ways and nothing is saved without --force (random weights have nothing to learn); a
// forced adapter is a file search reads back; W = -I turns every text score exactly around; an
// adapter for another model or vector length stops findimage with exit code 2.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { decodeAdapterFile, encodeAdapterFile } from '../../src/core/tuning/adapter-file.js';
import { QueryAdapter } from '../../src/core/tuning/query-adapter.js';
import { createSilentLogger } from '../../src/logger.js';
import { cliEnv, failuresIn, runCli } from './cli-process.js';

const DATASET = fileURLToPath(new URL('../fixtures/datasets/colours/', import.meta.url));
/** tiny-test's vector length. */
const TINY_DIMENSION = 512;

interface Estimate {
  value: number;
  low: number;
  high: number;
}
interface TuneJson {
  model: string;
  sources: Array<{ name: string; heldOutQuestions: number; trainingQuestions: number; plain: Record<string, Estimate>; adapted: Record<string, Estimate> }>;
  ndcgChange: Estimate;
  helps: boolean;
  saved: string | null;
}

describe('findimage tune', () => {
  let home: string;
  let ids: string[];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-tune-'));
    expect((await runCli(['index', join(DATASET, 'images')], cliEnv(home))).code).toBe(0);
    const search = await runCli(['search', 'a square', '--json', '--k', '6'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
    ids = (JSON.parse(search.stdout) as { results: Array<{ id: string }> }).results.map((r) => r.id);
    expect(ids).toHaveLength(6);
    // Ten questions a team judged: a thumbs-up on one image and a thumbs-down on another each.
    const labels = await openSqliteLabelStore({ path: join(home, 'data', 'labels.sqlite'), logger: createSilentLogger() });
    for (let q = 0; q < 10; q++) {
      const text = `colour number ${q}`;
      await labels.recordQuery({ queryId: `q${q}`, tenant: 'local', kind: 'text', text, searchText: text, negativeTerms: [], scope: { tenant: 'local' }, filters: {}, user: 'U1', conversation: 'C1', createdAt: new Date('2026-11-01T00:00:00Z') });
      await labels.addLabel({ tenant: 'local', queryId: `q${q}`, queryText: text, imageId: ids[q % 6] as string, user: 'U1', value: 1 });
      await labels.addLabel({ tenant: 'local', queryId: `q${q}`, queryText: text, imageId: ids[(q + 1) % 6] as string, user: 'U1', value: -1 });
    }
    await labels.close();
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('grades held-out captions with and without the adapter, and saves nothing when random weights give no lift', async () => {
    const result = await runCli(['tune', '--dataset', DATASET, '--json'], cliEnv(home));
    expect(failuresIn(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as TuneJson;
    expect(report.model).toBe('tiny-test');
    expect(report.sources).toHaveLength(1);
    const [source] = report.sources;
    // Six images, one group each: one held out (0.2 x 6 rounded), its captions graded.
    expect(source?.heldOutQuestions).toBeGreaterThan(0);
    expect(Object.keys(source?.plain ?? {})).toEqual(['R@1', 'R@5', 'R@10', 'nDCG@10', 'MRR']);
    expect(Object.keys(source?.adapted ?? {})).toEqual(['R@1', 'R@5', 'R@10', 'nDCG@10', 'MRR']);
    expect(report.helps).toBe(false);
    expect(report.ndcgChange.low).toBeLessThanOrEqual(0);
    expect(report.saved).toBeNull();
    await expect(readdir(join(home, 'data', 'adapters'))).rejects.toThrow(/ENOENT/);
  });

  it('prints the table and says why nothing was saved', async () => {
    const result = await runCli(['tune', '--dataset', DATASET], cliEnv(home));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^metric\s+plain search\s+with the adapter$/m);
    expect(result.stdout).toMatch(/^nDCG@10\s+\d\.\d{3} \[/m);
    expect(result.stdout).toContain('nDCG@10 change on held-out questions:');
    expect(result.stdout).toContain('Not saved (--force saves it anyway).');
  });

  it('learns from the labels a team gave (--tenant), beside a dataset, and --force saves what search then reads', async () => {
    const out = join(home, 'forced.json');
    const result = await runCli(['tune', '--tenant', 'local', '--dataset', DATASET, '--force', '--out', out, '--json'], cliEnv(home));
    expect(failuresIn(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as TuneJson;
    expect(report.sources.map((s) => s.name)).toEqual([`dataset ${DATASET.replace(/\/$/, '')}`, 'tenant local']);
    // Ten questions, 0.2 held out: two graded, eight trained on.
    expect(report.sources[1]).toMatchObject({ heldOutQuestions: 2, trainingQuestions: 8 });
    expect(report.saved).toBe(out);
    const file = decodeAdapterFile(await readFile(out, 'utf8'), out);
    expect(file.adapter).toMatchObject({ modelId: 'tiny-test', dimension: TINY_DIMENSION });
    expect(file.training).toMatchObject({ sources: report.sources.map((s) => s.name), forced: !report.helps });
    const search = await runCli(['search', 'a red square', '--json'], cliEnv(home, { FINDIMAGE_ADAPTER: out }));
    expect(search.code).toBe(0);
  });

  it('asks for a source', async () => {
    const result = await runCli(['tune'], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Give --tenant <id>');
  });
});

describe('FINDIMAGE_ADAPTER', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-adapter-'));
    await mkdir(join(home, 'adapters'));
    expect((await runCli(['index', join(DATASET, 'images')], cliEnv(home))).code).toBe(0);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const adapterFile = async (name: string, adapter: QueryAdapter) => {
    const path = join(home, 'adapters', name);
    await writeFile(path, encodeAdapterFile(adapter, {}));
    return path;
  };
  const searchScores = async (extra: Record<string, string>, args: string[] = ['search', 'a red square']) => {
    const result = await runCli([...args, '--json', '--k', '6'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0', ...extra }));
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { results: Array<{ id: string; score: number }> }).results;
  };

  /** W = -I: every text query turned around. */
  const minusIdentity = () => {
    const minus = QueryAdapter.identity('tiny-test', TINY_DIMENSION);
    for (let i = 0; i < minus.weights.length; i++) minus.weights[i] = -(minus.weights[i] as number);
    return adapterFile('minus.json', minus);
  };

  it('applies W to text queries: with W = -I every score is negated and the ranking reversed', async () => {
    const path = await minusIdentity();
    const plain = await searchScores({});
    const adapted = await searchScores({ FINDIMAGE_ADAPTER: path });
    expect(adapted.map((r) => r.id)).toEqual(plain.map((r) => r.id).reverse());
    const plainScore = new Map(plain.map((r) => [r.id, r.score]));
    for (const hit of adapted) expect(hit.score).toBeCloseTo(-(plainScore.get(hit.id) as number), 5);
  });

  it('leaves image queries alone: "similar" ranks and scores as without the adapter', async () => {
    const path = await minusIdentity();
    const image = join(DATASET, 'images', 'red.png');
    expect(await searchScores({ FINDIMAGE_ADAPTER: path }, ['similar', image])).toEqual(await searchScores({}, ['similar', image]));
  });

  it('refuses an adapter made for another model, or for another vector length, with exit code 2', async () => {
    const other = await adapterFile('other.json', QueryAdapter.identity('clip-vit-b32', 4));
    const wrongModel = await runCli(['search', 'a red square'], cliEnv(home, { FINDIMAGE_ADAPTER: other }));
    expect(wrongModel.code).toBe(2);
    expect(wrongModel.stderr).toContain('was made for the model clip-vit-b32, but FINDIMAGE_MODEL is tiny-test');
    const short = await adapterFile('short.json', QueryAdapter.identity('tiny-test', 4));
    const wrongLength = await runCli(['search', 'a red square'], cliEnv(home, { FINDIMAGE_ADAPTER: short }));
    expect(wrongLength.code).toBe(2);
    expect(wrongLength.stderr).toContain('takes 4-float vectors, but tiny-test makes 512-float ones');
  });
});
