// `findimage dataset import`'s options: --karpathy-split belongs to Karpathy split files only, and
// with a format that has no such split it is refused (exit code 2) rather than silently ignored.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { exitCodeFor, EXIT_USAGE } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';
import { runDatasetImport } from './dataset-import-command.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/datasets/', import.meta.url));
const IMAGES = join(FIXTURES, 'colours', 'images');

const terminal: Terminal = {
  out: () => {},
  err: () => {},
  progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
};

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'findimage-dataset-import-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('runDatasetImport --karpathy-split', () => {
  it('is refused with --format coco, which has no Karpathy split, before anything is written', async () => {
    const out = join(home, 'coco');
    const error = await runDatasetImport(join(FIXTURES, 'coco-captions.json'), IMAGES, out, { format: 'coco', karpathySplit: 'val' }, terminal).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(exitCodeFor((error as ConfigError).code)).toBe(EXIT_USAGE);
    expect((error as ConfigError).message).toContain('--karpathy-split works with --format flickr30k only');
    expect(await readdir(home)).toEqual([]);
  });

  it('is not needed with --format coco, which imports the whole file', async () => {
    const summary = await runDatasetImport(join(FIXTURES, 'coco-captions.json'), IMAGES, join(home, 'coco'), { format: 'coco' }, terminal);
    expect(summary.images).toBe(2);
  });

  it('defaults to the test split with --format flickr30k, and keeps the split it is given', async () => {
    const annotations = join(FIXTURES, 'flickr30k-karpathy.json');
    const test = await runDatasetImport(annotations, IMAGES, join(home, 'test'), { format: 'flickr30k' }, terminal);
    const named = await runDatasetImport(annotations, IMAGES, join(home, 'named'), { format: 'flickr30k', karpathySplit: 'test' }, terminal);
    expect(test).toEqual(named);
    expect(await readFile(join(home, 'test', 'captions.jsonl'), 'utf8')).toBe(await readFile(join(home, 'named', 'captions.jsonl'), 'utf8'));
  });
});
