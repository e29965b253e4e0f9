// `findimage index` on decompression bombs, through the real binary: twelve 118-megapixel WebPs of
// a few dozen bytes, six 40-megapixel GIFs of 27 KB, and the hostile folder's bad files (a 3 GB
// file, six 600 MB files, links in a loop and to nothing). The process's peak resident memory,
// read from the kernel (VmHWM) as it exits, must stay under 600 MB: a memory bound, not a timing.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, type CliResult } from './cli-process.js';

/** The goal of issue 16: bombs and bad files together stay under this peak, in MB. */
const PEAK_LIMIT_MB = 600;

/** A 16000x7375 lossless WebP of one colour, 38 bytes (test/fixtures/images/README.md). */
const WEBP_BOMB = new URL('../fixtures/images/bomb-16000x7375.webp', import.meta.url);

/** Generating and decoding the bombs takes tens of seconds on a loaded 2-core machine. */
const BOMBS_MS = 240_000;

describe('findimage index on decompression bombs', () => {
  let home: string;
  let folder: string;
  let probe: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-bombs-'));
    folder = join(home, 'photos');
    await mkdir(join(folder, 'huge'), { recursive: true });
    const webp = await readFile(WEBP_BOMB);
    // Decoders ignore bytes after the RIFF chunk: twelve different files, one bomb each.
    for (let i = 0; i < 12; i++) {
      await writeFile(join(folder, `bomb${i}.webp`), Buffer.concat([webp, Buffer.alloc(i + 1)]));
    }
    // One 8000x5000 GIF (40 MP, 27 KB), made six times different through its first palette
    // entry (byte 13, right after the logical screen descriptor). GIF has no shrink-on-load: each
    // is decoded whole, so only the decode budget keeps six from being decoded at once.
    const gif = await sharp({ create: { width: 8000, height: 5000, channels: 3, background: { r: 0, g: 90, b: 30 } } })
      .gif({ effort: 1 })
      .toBuffer();
    for (let i = 0; i < 6; i++) {
      const variant = Buffer.from(gif);
      variant[13] = 40 * i;
      await writeFile(join(folder, `wide${i}.gif`), variant);
    }
    await writeFile(
      join(folder, 'ok.png'),
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } }).png().toBuffer(),
    );
    // The hostile folder's bad files (test/e2e/cli-index-hardening.e2e.test.ts), sparse on disk.
    execFileSync('truncate', ['-s', '3G', join(folder, 'scan.tif')]);
    for (let i = 0; i < 6; i++) execFileSync('truncate', ['-s', '600M', join(folder, 'huge', `scan${i}.jpg`)]);
    await symlink(folder, join(folder, 'huge', 'loop'));
    await symlink(join(home, 'gone.png'), join(folder, 'dangling.png'));
    // Writes the process's peak resident memory (kB, the kernel's VmHWM) when it exits.
    probe = join(home, 'peak-rss.mjs');
    await writeFile(
      probe,
      "import { readFileSync, writeFileSync } from 'node:fs';\n" +
        "process.on('exit', () => writeFileSync(process.env.PEAK_RSS_FILE, /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]));\n",
    );
  }, BOMBS_MS);
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('indexes or refuses every file and stays under 600 MB peak resident memory', async () => {
    const peakFile = join(home, 'peak');
    const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, BIN, 'index', folder], {
      env: { ...cliEnv(home), PEAK_RSS_FILE: peakFile },
      cwd: home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const result = await new Promise<CliResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code, result.stderr).toBe(0);
    // 12 WebPs, 6 GIFs and ok.png; the 3 GB file, six 600 MB files, the loop and the dangling link.
    expect(result.stdout).toContain('Indexed 19 images, 0 already indexed, 9 skipped.');
    const peakMb = Number(await readFile(peakFile, 'utf8')) / 1024;
    console.info(`peak resident memory: ${peakMb.toFixed(0)} MB`);
    expect(peakMb).toBeLessThan(PEAK_LIMIT_MB);
  }, BOMBS_MS);
});
