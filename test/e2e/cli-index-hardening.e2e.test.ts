// `findimage index` and `similar` against a hostile folder, through the real binary: an
// unreadable subfolder, a 3 GB file, six 600 MB files (the process must not grow), a name that
// is not UTF-8, links (to files, to folders, in loops, to nothing), identical files, two runs at
// once on one data folder, and the exit codes and messages of `similar` and `--offset`.
import { execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, type CliResult } from './cli-process.js';

async function png(rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/** Runs a command (here: node with the findimage binary) and collects its output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The command prefix that runs node as `nobody` (setpriv, else runuser), checked by running the
 * binary's --help that way; or, when neither can, the reason (for the test's skip note).
 */
function asNobody(uid: number, gid: number): string[] | string {
  const ways = [
    ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', process.execPath],
    ['runuser', '-u', 'nobody', '--', process.execPath],
  ];
  const failures: string[] = [];
  for (const way of ways) {
    try {
      execFileSync(way[0] as string, [...way.slice(1), BIN, '--help'], { stdio: 'ignore', cwd: tmpdir() });
      return way;
    } catch (error) {
      failures.push(`${way[0]}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return `running as root, and neither setpriv nor runuser could run findimage as nobody (${failures.join('; ')}); chmod 000 does not stop root`;
}

/** The summary's counts, or undefined when there is no summary line. */
function countsOf(stdout: string): { indexed: number; duplicates: number; skipped: number } | undefined {
  const match = /Indexed (\d+) images?, (\d+) already indexed, (\d+) skipped\./.exec(stdout);
  if (match === null) return undefined;
  return { indexed: Number(match[1]), duplicates: Number(match[2]), skipped: Number(match[3]) };
}

/** Tests that run the binary several times: each run loads the model (seconds on a busy machine). */
const SEVERAL_RUNS_MS = 180_000;

const LATIN1_CAFE = Buffer.from([...Buffer.from('caf'), 0xe9, ...Buffer.from('.jpg')]);

describe('findimage index on a hostile folder', () => {
  let home: string;
  let photos: string;
  let preload: string;
  /** The first `findimage index` of the hostile folder: the later runs find its images stored, in any order. */
  let firstIndex: CliResult;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-hostile-'));
    photos = join(home, 'photos');
    await mkdir(join(photos, 'album'), { recursive: true });
    await mkdir(join(home, 'elsewhere'));
    const red = await png([220, 20, 20]);
    await writeFile(join(photos, 'red.png'), red);
    await writeFile(join(photos, 'album', 'red copy.png'), red);
    await writeFile(join(photos, 'album', 'blue.png'), await png([20, 20, 220]));
    await writeFile(Buffer.concat([Buffer.from(`${photos}/`), LATIN1_CAFE]), await png([20, 200, 20]));
    await writeFile(join(home, 'elsewhere', 'yellow.png'), await png([230, 230, 20]));
    await symlink(join(photos, 'album', 'blue.png'), join(photos, 'link-to-blue.png'));
    await symlink(join(home, 'elsewhere'), join(photos, 'linked'));
    await symlink(photos, join(photos, 'album', 'loop'));
    await symlink(join(home, 'gone.png'), join(photos, 'dangling.png'));
    // Sparse: no disk used, but over 2 GiB, which readFile() refuses with an exception.
    execFileSync('truncate', ['-s', '3G', join(photos, 'scan.tif')]);
    // Reports the process's peak resident memory (kB) when it exits.
    preload = join(home, 'max-rss.mjs');
    await writeFile(
      preload,
      "import { writeFileSync } from 'node:fs';\n" +
        "process.on('exit', () => writeFileSync(process.env.MAX_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
    );
    firstIndex = await runCli(['index', photos], cliEnv(home));
  }, SEVERAL_RUNS_MS);
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** Runs findimage with the peak-memory probe loaded; resolves to its result and peak in MB. */
  async function indexMeasured(folder: string, env: NodeJS.ProcessEnv): Promise<CliResult & { peakMb: number }> {
    const rssFile = join(home, `rss-${Date.now()}-${Math.random()}`);
    const result = await run(
      process.execPath,
      ['--import', pathToFileURL(preload).href, BIN, 'index', folder],
      { ...env, MAX_RSS_FILE: rssFile },
      home,
    );
    return { ...result, peakMb: Number(await readFile(rssFile, 'utf8')) / 1024 };
  }

  it('indexes every good image once, follows links, and lists each bad entry with the reason', async () => {
    const env = cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
    const result = firstIndex;
    expect(result.code, result.stderr).toBe(0);
    // red, blue, café and yellow (through the folder link); "red copy" has red's bytes.
    expect(result.stdout).toContain('Indexed 4 images, 1 already indexed, 4 skipped.');
    const skipped = result.stdout.split('\n').filter((line) => line.startsWith('  skipped '));
    expect(skipped.sort()).toEqual([
      '  skipped album/loop/: a link back to a folder above it (a loop), so not followed',
      '  skipped dangling.png: a symbolic link that was not followed: it points to nothing (the target is missing)',
      '  skipped link-to-blue.png: the same file as album/blue.png (reached again through a link), indexed once',
      '  skipped scan.tif: The file is 3072.0 MB; findimage reads images up to 50 MB.',
    ]);

    // The summary matches what the store holds.
    const stats = await runCli(['stats', '--json'], env);
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: 4 });

    // The Latin-1 name was read through its bytes, and is stored and shown escaped.
    const search = await runCli(['search', 'green', '--json'], env);
    const paths = (JSON.parse(search.stdout) as { results: Array<{ path: string }> }).results.map((r) => r.path);
    expect(paths).toHaveLength(4);
    expect(paths).toEqual(expect.arrayContaining([join(photos, 'album', 'blue.png'), `${photos}/caf\\xe9.jpg`, join(photos, 'linked', 'yellow.png')]));
    // Red is stored once, under whichever of its two names was indexed first.
    expect(paths.filter((p) => p === join(photos, 'red.png') || p === join(photos, 'album', 'red copy.png'))).toHaveLength(1);
  }, SEVERAL_RUNS_MS);

  it('refuses six 600 MB files from their size without the process growing, and embeds nothing again', async () => {
    const env = cliEnv(home);
    const before = await indexMeasured(photos, env);
    expect(countsOf(before.stdout)).toEqual({ indexed: 0, duplicates: 5, skipped: 4 });

    const huge = join(photos, 'huge');
    await mkdir(huge);
    for (let i = 0; i < 6; i++) execFileSync('truncate', ['-s', '600M', join(huge, `scan${i}.jpg`)]);
    try {
      const after = await indexMeasured(photos, env);
      expect(countsOf(after.stdout)).toEqual({ indexed: 0, duplicates: 5, skipped: 10 });
      expect(after.stdout).toContain('  skipped huge/scan0.jpg: The file is 600.0 MB; findimage reads images up to 50 MB.');
      console.info(`peak memory: ${before.peakMb.toFixed(0)} MB without the big files, ${after.peakMb.toFixed(0)} MB with them`);
      // Read whole, even one of them would add 600 MB; six in flight took 3.2 GB.
      expect(after.peakMb, `peak ${after.peakMb.toFixed(0)} MB vs ${before.peakMb.toFixed(0)} MB without the big files`).toBeLessThan(
        before.peakMb + 200,
      );
    } finally {
      await rm(huge, { recursive: true, force: true });
    }
  }, SEVERAL_RUNS_MS);

  it('skips an unreadable subfolder and reports it like a bad file (run as an unprivileged user)', async (context) => {
    const root = join(home, 'locked-case');
    const pics = join(root, 'pics');
    await mkdir(join(pics, 'locked'), { recursive: true });
    await writeFile(join(pics, 'ok.png'), await png([10, 120, 240]));
    await writeFile(join(pics, 'locked', 'secret.png'), await png([240, 120, 10]));
    await chmod(join(pics, 'locked'), 0o000);
    let command = process.execPath;
    let prefix: string[] = [];
    if (process.getuid?.() === 0) {
      // root reads through chmod 000, so the run drops to "nobody", as a user would run it.
      const uid = Number(execFileSync('id', ['-u', 'nobody']).toString());
      const gid = Number(execFileSync('id', ['-g', 'nobody']).toString());
      for (const path of [root, pics, join(pics, 'ok.png')]) await chown(path, uid, gid);
      await chmod(home, 0o755);
      const dropped = asNobody(uid, gid);
      if (typeof dropped === 'string') {
        context.skip(dropped);
        return;
      }
      command = dropped[0] as string;
      prefix = dropped.slice(1);
    }
    const env = cliEnv(root);
    const result = await run(command, [...prefix, BIN, 'index', pics], env, root);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Indexed 1 image, 0 already indexed, 1 skipped.');
    expect(result.stdout).toContain('  skipped locked/: the folder could not be read: permission denied');
  }, SEVERAL_RUNS_MS);

  it('embeds each image once when two runs index the same folder at the same time', async () => {
    const many = join(home, 'many');
    await mkdir(many);
    const count = 60;
    for (let i = 0; i < count; i++) {
      await writeFile(join(many, `img${String(i).padStart(2, '0')}.png`), await png([i * 4, 255 - i * 4, (i * 37) % 256]));
    }
    const env = cliEnv(home, { FINDIMAGE_DATA: join(home, 'shared-data') });
    const [a, b] = await Promise.all([runCli(['index', many], env), runCli(['index', many], env)]);
    const [ca, cb] = [countsOf(a.stdout), countsOf(b.stdout)];
    expect(ca, a.stdout + a.stderr).toBeDefined();
    expect(cb, b.stdout + b.stderr).toBeDefined();
    // Every image is embedded by exactly one of the two; the other found it stored.
    expect((ca?.indexed ?? 0) + (cb?.indexed ?? 0)).toBe(count);
    expect((ca?.duplicates ?? 0) + (cb?.duplicates ?? 0)).toBe(count);
    const stats = await runCli(['stats', '--json'], env);
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: count });
  }, SEVERAL_RUNS_MS);
});

describe('findimage similar and --offset: exit codes and messages', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-similar-'));
    await mkdir(join(home, 'pics'));
    await writeFile(join(home, 'pics', 'one.png'), await png([1, 2, 3]));
    await symlink('loop.png', join(home, 'loop.png'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it.each([
    ['a missing file', 'missing.png', /^findimage: .*missing\.png: there is no such file\.$/m],
    ['a folder', 'pics', /^findimage: .*pics is a folder, not an image file\.$/m],
    ['a symbolic link loop', 'loop.png', /^findimage: .*loop\.png: it is a symbolic link that loops back on itself\.$/m],
  ])('similar on %s exits 5 and says what is wrong', async (_what, name, message) => {
    const result = await runCli(['similar', join(home, name)], cliEnv(home));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('Something went wrong');
  }, SEVERAL_RUNS_MS);

  it('explains an --offset past the deepest ranking, and a page past the last result', async () => {
    const env = cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
    const tooDeep = await runCli(['search', 'red', '--offset', '20000'], env);
    expect(tooDeep.code).toBe(2);
    expect(tooDeep.stderr).toContain('a search ranks its best 10000 results at most, so give an offset from 0 to 9999.');

    expect((await runCli(['index', join(home, 'pics')], env)).code).toBe(0);
    const pastTheEnd = await runCli(['search', 'red', '--offset', '50'], env);
    expect(pastTheEnd.code).toBe(0);
    expect(pastTheEnd.stdout).toContain('No results at --offset 50: this search has 50 or fewer. Give a smaller --offset (0 is the first page).');
    expect(pastTheEnd.stdout).not.toContain('Index a folder first');
  }, SEVERAL_RUNS_MS);
});
