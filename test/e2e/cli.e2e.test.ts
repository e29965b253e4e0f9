// The command line, end to end: the real binary indexes a folder of good and bad files,
// searches it, survives kill -9, and explains what to do when the model is missing.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli, type CliResult } from './cli-process.js';
import { eventually } from '../fakes/slack/eventually.js';

async function solid(path: string, rgb: [number, number, number], format: 'png' | 'jpeg' | 'webp'): Promise<void> {
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .toFormat(format)
    .toFile(path);
}

describe('findimage CLI', () => {
  let home: string;
  let photos: string;
  /** The first `findimage index` of the photos: every test searches what it indexed, in any order. */
  let firstIndex: CliResult;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-'));
    photos = join(home, 'photos');
    await mkdir(join(photos, 'trip'), { recursive: true });
    await solid(join(photos, 'red.png'), [220, 20, 20], 'png');
    await solid(join(photos, 'trip', 'blue.jpg'), [20, 20, 220], 'jpeg');
    await solid(join(photos, 'trip', 'green.webp'), [20, 200, 20], 'webp');
    await writeFile(join(photos, 'empty.jpg'), Buffer.alloc(0));
    await writeFile(join(photos, 'notes.jpg'), 'this is a text file, not a picture\n');
    const jpeg = await readFile(join(photos, 'trip', 'blue.jpg'));
    await writeFile(join(photos, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await writeFile(join(photos, 'readme.txt'), 'not looked at');
    firstIndex = await runCli(['index', photos], cliEnv(home));
    // A test's deadline, not a hook's: the binary loads the model per process, slow on a loaded machine.
  }, 90_000);
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('indexes the images of a folder, skips the bad files and says why', () => {
    const result = firstIndex;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Indexed 3 images, 0 already indexed, 3 skipped.');
    expect(result.stdout).toContain('Ignored 1 file(s) whose names are not images.');
    expect(result.stdout).toMatch(/skipped empty\.jpg: .+/);
    expect(result.stdout).toMatch(/skipped notes\.jpg: .+/);
    expect(result.stdout).toMatch(/skipped truncated\.jpg: .+/);
  });

  it('recognises everything on a second run without embedding again', async () => {
    const result = await runCli(['index', photos], cliEnv(home));
    expect(result.stdout).toContain('Indexed 0 images, 3 already indexed, 3 skipped.');
  });

  it('searches and prints JSON results with scores, highest first', async () => {
    const result = await runCli(['search', 'a', 'red', 'square', '--json'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { query: string; results: Array<{ id: string; score: number; source: string; path: string }> };
    expect(body.query).toBe('a red square');
    expect(body.results).toHaveLength(3);
    const scores = body.results.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(body.results.map((r) => r.path))).toEqual(
      new Set([join(photos, 'red.png'), join(photos, 'trip', 'blue.jpg'), join(photos, 'trip', 'green.webp')]),
    );
    expect(body.results.every((r) => r.source === 'local' && /^[0-9a-f-]{36}$/.test(r.id))).toBe(true);
  });

  it('prints a table for people and warns that the test model ranks at random', async () => {
    const result = await runCli(['search', 'red', '--k', '2'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((l) => /^\s+\d+\s+-?\d\.\d{4}\s+\//.test(l))).toHaveLength(2);
    expect(result.stderr).toContain('random weights');
  });

  it('numbers a later page from where it starts', async () => {
    const result = await runCli(['search', 'red', '--k', '2', '--offset', '1'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
    const ranks = result.stdout.split('\n').flatMap((l) => /^\s+(\d+)\s+-?\d\.\d{4}\s+\//.exec(l)?.[1] ?? []);
    expect(ranks).toEqual(['2', '3']);
  });

  it('finds images similar to a file', async () => {
    const result = await runCli(['similar', join(photos, 'red.png'), '--json'], cliEnv(home));
    const body = JSON.parse(result.stdout) as { results: Array<{ path: string; score: number }> };
    expect(body.results[0]?.path).toBe(join(photos, 'red.png'));
    expect(body.results[0]?.score).toBeCloseTo(1, 4);
  });

  it('refuses an empty query politely', async () => {
    const result = await runCli(['search', '   '], cliEnv(home));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^findimage: .*(empty|describe)/im);
  });

  it('counts images by source and model', async () => {
    const result = await runCli(['stats', '--json'], cliEnv(home));
    expect(JSON.parse(result.stdout)).toMatchObject({ model: 'tiny-test', total: 3, bySource: { local: 3 }, byModel: { 'tiny-test': 3 } });
  });

  it('explains how to get the model when it is missing and cannot be downloaded', async () => {
    const result = await runCli(
      ['search', 'a black car'],
      // Retries 1, 2, 4 and 8 ms apart, not the default seconds: same tries, same message.
      cliEnv(home, { FINDIMAGE_MODEL: 'clip-vit-b32', FINDIMAGE_MODEL_URL: 'http://127.0.0.1:9', FINDIMAGE_MODEL_RETRY_MS: '1' }),
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('FINDIMAGE_MODEL_DIR');
    expect(result.stderr).toContain('FINDIMAGE_MODEL=tiny-test');
  });

  it('names a bad setting', async () => {
    const result = await runCli(['stats'], cliEnv(home, { FINDIMAGE_DEVICE: 'gpu9' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FINDIMAGE_DEVICE');
  });

  it('serves the web app when no bot is configured, says where, and how to add a bot', async () => {
    const child = startCli(['serve'], cliEnv(home));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const url = await eventually(() => /http:\/\/127\.0\.0\.1:\d+\//.exec(stderr)?.[0], 'the page address', 15_000);
      expect(stderr).toContain('SLACK_BOT_TOKEN');
      expect((await fetch(`${url}healthz`)).status).toBe(200);
      await eventually(async () => (await fetch(`${url}readyz`)).status === 200 || undefined, 'the model to load', 15_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('loses nothing and re-embeds nothing after kill -9 during indexing', async () => {
    const many = join(home, 'many');
    await mkdir(many);
    for (let i = 0; i < 40; i++) await solid(join(many, `img${String(i).padStart(2, '0')}.png`), [i * 6, 255 - i * 6, (i * 37) % 256], 'png');
    const env = cliEnv(home, { LOG_LEVEL: 'debug', FINDIMAGE_DATA: join(home, 'kill-data') });

    const child = startCli(['index', many], env);
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let acknowledged = 0;
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (d: Buffer) => {
        acknowledged += (d.toString().match(/image indexed/g) ?? []).length;
        if (acknowledged >= 5) resolve();
      });
      void closed.then(resolve);
    });
    child.kill('SIGKILL');
    // Waits on the one 'close' promise: a child that already ended is not waited for twice.
    await closed;

    const rerun = await runCli(['index', many], { ...env, LOG_LEVEL: 'warn' });
    const match = /Indexed (\d+) images?, (\d+) already indexed, 0 skipped\./.exec(rerun.stdout);
    expect(match, rerun.stdout + rerun.stderr).not.toBeNull();
    const [indexed, duplicates] = [Number(match?.[1]), Number(match?.[2])];
    expect(indexed + duplicates).toBe(40);
    expect(duplicates).toBeGreaterThanOrEqual(acknowledged >= 5 ? 5 : 0);
    const stats = await runCli(['stats', '--json'], { ...env, LOG_LEVEL: 'warn' });
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: 40 });
  });
});
