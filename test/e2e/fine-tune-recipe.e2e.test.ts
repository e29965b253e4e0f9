// docs/models.md's full fine-tune recipe end to end, on a tiny configuration: open_clip fine-tunes
// a small random CLIP on the colours dataset, exports both towers with findimage's tensor names,
// and `findimage model add` registers the folder (it runs both towers once), after which the model
// indexes and searches. Skipped where torch and open_clip cannot be imported (as on the machine
// this was written on: see test/fine-tune-recipe.test.ts, which checks the script's syntax).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from './cli-process.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/fine-tune-open-clip.py', import.meta.url));
const DATASET = fileURLToPath(new URL('../fixtures/datasets/colours/', import.meta.url));
const TOKENIZER = fileURLToPath(new URL('../../models/tiny-test/tokenizer.json', import.meta.url));

function recipeCanRun(): boolean {
  try {
    execFileSync('python3', ['-c', 'import torch, open_clip, onnx, tokenizers, PIL'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!recipeCanRun())('the open_clip fine-tune recipe, end to end', () => {
  let home: string | undefined;
  afterAll(async () => {
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  it('trains, exports towers findimage loads, and registers them with model add', { timeout: 600_000 }, async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-fine-tune-'));
    const out = join(home, 'tiny-tuned');
    execFileSync(
      'python3',
      [SCRIPT, '--dataset', DATASET, '--model', 'tiny', '--pretrained', 'none', '--tokenizer', TOKENIZER, '--out', out, '--name', 'tiny-tuned', '--epochs', '1', '--batch-size', '4', '--device', 'cpu'],
      { stdio: 'pipe', timeout: 540_000 },
    );
    const env = cliEnv(home);
    const added = await runCli(['model', 'add', out], env);
    expect(added.stderr + added.stdout).not.toMatch(/findimage: /);
    expect(added.code).toBe(0);
    const tuned = cliEnv(home, { FINDIMAGE_MODEL: 'tiny-tuned', FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
    expect((await runCli(['index', join(DATASET, 'images')], tuned)).code).toBe(0);
    const search = await runCli(['search', 'a red square', '--json', '--k', '6'], tuned);
    expect(search.code).toBe(0);
    expect((JSON.parse(search.stdout) as { model: string; results: unknown[] }).results).toHaveLength(6);
  });
});
