// `findimage eval --dataset` and `findimage dataset import` through the real binary, on the
// committed colours dataset. The metrics are checked against values computed here, independently,
// from `findimage search --json` on the scratch index the eval kept; the tiny model ranks at
// random, so only that agreement (and what holds for any ranking) is asserted.
import { access, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, failuresIn, runCli } from './cli-process.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/datasets/', import.meta.url));
const DATASET = join(FIXTURES, 'colours');

interface Estimate {
  value: number;
  low: number;
  high: number;
}
interface EvalJson {
  images: number;
  queries: number;
  keptIndex: string;
  runs: Array<{ model: string; templates: string[]; textToImage: Record<string, Estimate>; imageToText: Record<string, Estimate> }>;
}

describe('findimage eval --dataset', () => {
  let home: string;
  let rows: Array<{ image: string; captions: string[] }>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-eval-dataset-'));
    rows = (await readFile(join(DATASET, 'captions.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { image: string; captions: string[] });
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('prints the summary table, writes a self-contained report and leaves the user index alone', async () => {
    const report = join(home, 'report.html');
    const result = await runCli(['eval', '--dataset', DATASET, '--templates', '{};a photo of {}', '--report', report], cliEnv(home));
    // Warnings a loaded machine may log are allowed; any error line, message or stack is not.
    expect(failuresIn(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('6 images, 14 caption queries');
    expect(result.stdout).toMatch(/^metric\s+tiny-test, no template\s+tiny-test, "a photo of \{\}"$/m);
    for (const name of ['R@1', 'R@5', 'R@10', 'P@5', 'nDCG@10', 'MRR', 'median rank', 'image→text R@1']) {
      expect(result.stdout).toMatch(new RegExp(`^${name.replace(/[@→]/g, '.')}\\s+\\d`, 'm'));
    }
    const html = await readFile(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Recall against K');
    expect(html).toContain('With and without templates');
    expect(html).toContain('data:image/jpeg;base64,');
    // Nothing is fetched at view time: no external src, href or url().
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/url\(/);
    // The scratch index went to a temporary folder, not FINDIMAGE_DATA.
    await expect(access(join(home, 'data'))).rejects.toThrow();
  });

  it('reports metrics equal to those computed from findimage search --json on the kept index', async () => {
    const kept = join(home, 'kept');
    const result = await runCli(['eval', '--dataset', DATASET, '--templates', '{}', '--k', '1,2,6', '--json', '--keep-index', kept], cliEnv(home));
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as EvalJson;
    expect(report).toMatchObject({ images: 6, queries: 14, keptIndex: kept });
    const run = report.runs[0];
    expect(run?.templates).toEqual(['{}']);

    // Independently: each caption searched in the kept index through the CLI, graded here.
    const searchEnv = cliEnv(home, { FINDIMAGE_DATA: kept, FINDIMAGE_PROMPT_TEMPLATES: '{}', FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
    const rankings = new Map<string, string[]>();
    const captions = [...new Set(rows.flatMap((r) => r.captions))];
    // A few searches at once: each is a process that loads the model.
    const searchOne = async () => {
      for (let caption = captions.pop(); caption !== undefined; caption = captions.pop()) {
        const search = await runCli(['search', caption, '--json', '--k', '6'], searchEnv);
        expect(search.code).toBe(0);
        const results = (JSON.parse(search.stdout) as { results: Array<{ path: string }> }).results;
        rankings.set(caption, results.map((r) => `images/${basename(r.path)}`));
      }
    };
    await Promise.all([searchOne(), searchOne(), searchOne(), searchOne()]);
    const recall: Record<number, number[]> = { 1: [], 2: [], 6: [] };
    const reciprocal: number[] = [];
    const firstRanks: number[] = [];
    for (const row of rows) {
      for (const caption of row.captions) {
        const relevant = new Set(rows.filter((r) => r.captions.includes(caption)).map((r) => r.image));
        const ranking = rankings.get(caption) as string[];
        expect(ranking).toHaveLength(6);
        for (const k of [1, 2, 6]) recall[k]?.push(ranking.slice(0, k).filter((img) => relevant.has(img)).length / relevant.size);
        const first = ranking.findIndex((img) => relevant.has(img)) + 1;
        reciprocal.push(1 / first);
        firstRanks.push(first);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const t2i = run?.textToImage as Record<string, Estimate>;
    expect(t2i['R@1']?.value).toBeCloseTo(mean(recall[1] as number[]), 10);
    expect(t2i['R@2']?.value).toBeCloseTo(mean(recall[2] as number[]), 10);
    expect(t2i['R@6']?.value).toBe(1);
    expect(t2i['MRR']?.value).toBeCloseTo(mean(reciprocal), 10);
    const sorted = [...firstRanks].sort((a, b) => a - b);
    expect(t2i['median rank']?.value).toBe(((sorted[6] as number) + (sorted[7] as number)) / 2);
    for (const estimate of Object.values(t2i)) {
      expect(estimate.low).toBeLessThanOrEqual(estimate.value + 1e-12);
      expect(estimate.high).toBeGreaterThanOrEqual(estimate.value - 1e-12);
    }
    const i2t = run?.imageToText as Record<string, Estimate>;
    expect(i2t['R@1']?.value).toBeLessThanOrEqual(i2t['R@2']?.value as number);
    expect(i2t['R@2']?.value).toBeLessThanOrEqual(i2t['R@6']?.value as number);
  });

  it('grades label feedback only on held-out queries, and says so when it has no labels to learn from', async () => {
    // Seed 4 holds out two queries whose caption ("a warm colour", "a cool colour") is also a training caption.
    const fitted = await runCli(['eval', '--dataset', DATASET, '--templates', '{}', '--split', '0.5', '--seed', '4'], cliEnv(home));
    expect(fitted.code).toBe(0);
    expect(fitted.stdout).toContain('Held-out queries (7; 2 share a caption with training queries; top 6 ranked)');
    expect(fitted.stdout).toMatch(/^tiny-test\s+no template\s+plain\s+\d/m);
    expect(fitted.stdout).toMatch(/^tiny-test\s+no template\s+label feedback\s+\d/m);
    // Seed 1 holds out no query whose caption is a training caption.
    const unfitted = await runCli(['eval', '--dataset', DATASET, '--templates', '{}', '--split', '0.5', '--seed', '1'], cliEnv(home));
    expect(unfitted.code).toBe(0);
    expect(unfitted.stdout).toContain('Held-out queries (7; 0 share a caption');
    expect(unfitted.stdout).toContain('Label feedback was not graded');
    expect(unfitted.stdout).not.toMatch(/^tiny-test\s+no template\s+label feedback/m);
  });

  it('refuses a folder without captions.jsonl, naming the file', async () => {
    const result = await runCli(['eval', '--dataset', home], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No captions.jsonl');
  });
});

describe('findimage dataset import', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-dataset-import-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('converts the test split of a Karpathy Flickr30k file, leaving out images it cannot find', async () => {
    const out = join(home, 'flickr');
    const result = await runCli(['dataset', 'import', '--format', 'flickr30k', join(FIXTURES, 'flickr30k-karpathy.json'), join(DATASET, 'images'), out], cliEnv(home));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 images, 3 captions');
    expect(result.stdout).toContain('1 images were not found');
    expect(await readFile(join(out, 'captions.jsonl'), 'utf8')).toBe(
      '{"image":"images/red.png","captions":["A red square .","A warm colour ."]}\n{"image":"images/blue.png","captions":["A blue square ."]}\n',
    );
    expect((await readdir(join(out, 'images'))).sort()).toEqual(['blue.png', 'red.png']);
    // The imported folder is a dataset the eval reads.
    const evaluation = await runCli(['eval', '--dataset', out, '--templates', '{}', '--json'], cliEnv(home));
    expect(evaluation.code).toBe(0);
    expect(JSON.parse(evaluation.stdout)).toMatchObject({ images: 2, queries: 3 });
  });

  it('converts a COCO captions file, grouping captions by image', async () => {
    const out = join(home, 'coco');
    const result = await runCli(['dataset', 'import', '--format', 'coco', join(FIXTURES, 'coco-captions.json'), join(DATASET, 'images'), out], cliEnv(home));
    expect(result.code).toBe(0);
    expect(await readFile(join(out, 'captions.jsonl'), 'utf8')).toBe(
      '{"image":"images/black.png","captions":["A black square.","A dark tile"]}\n{"image":"images/white.png","captions":["A white square."]}\n',
    );
  });

  it('refuses --karpathy-split with --format coco, which has no such split, with exit code 2', async () => {
    const out = join(home, 'coco-split');
    const result = await runCli(
      ['dataset', 'import', '--format', 'coco', '--karpathy-split', 'val', join(FIXTURES, 'coco-captions.json'), join(DATASET, 'images'), out],
      cliEnv(home),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--karpathy-split works with --format flickr30k only');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('refuses an unknown format', async () => {
    const result = await runCli(['dataset', 'import', '--format', 'imagenet', 'a.json', 'imgs', join(home, 'x')], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown dataset format "imagenet"');
  });
});
