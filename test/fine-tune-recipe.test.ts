// docs/models.md's full fine-tune recipe, scripts/fine-tune-open-clip.py, is checked here for
// syntax only: it needs torch >= 2.0 and open_clip, which this machine cannot install (no torch
// wheel in its package mirror; Debian's python3-torch is 1.13). Where they exist, the end-to-end
// run is test/e2e/fine-tune-recipe.e2e.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/fine-tune-open-clip.py', import.meta.url));

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the open_clip fine-tune recipe', () => {
  it.skipIf(!hasPython())('is a Python script that compiles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'findimage-py-compile-'));
    try {
      // Compiled into a scratch file, so no __pycache__ is left beside the script.
      const compile = 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)';
      expect(() => execFileSync('python3', ['-c', compile, SCRIPT, join(dir, 'script.pyc')], { stdio: 'pipe' })).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
