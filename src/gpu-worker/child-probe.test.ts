// A probe run in a child process: its reason when it fails, and a probe that never returns (a
// CUDA driver stuck while loading) is killed once its check runs out of time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runInChild } from './child-probe.js';

/** Whether process `pid` still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runInChild', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-child-probe-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves when the probe succeeds, and rejects with the reason it printed when it fails', async () => {
    const never = new AbortController().signal;
    await expect(runInChild('process.exit(0)', [], never)).resolves.toBeUndefined();
    const failing = "process.stderr.write('[E:onnxruntime] native noise\\n'); console.log('Failed to load shared library'); process.exit(1)";
    await expect(runInChild(failing, [], never)).rejects.toThrow(/^Failed to load shared library$/);
  });

  it('kills a probe that never returns once its signal aborts', async () => {
    const pidFile = join(dir, 'pid');
    const outOfTime = new AbortController();
    const probe = runInChild("require('node:fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 60_000)", [pidFile], outOfTime.signal);
    const pid = await vi.waitFor(async () => Number(await readFile(pidFile, 'utf8')));
    expect(alive(pid)).toBe(true);

    outOfTime.abort();

    await expect(probe).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
  });
});
