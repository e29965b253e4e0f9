// A one-shot command loads only what it uses (issue 11's cold searches): `findimage search` with
// nothing configured imports none of the chat SDKs, the Qdrant client, sharp or the web server,
// and its embedding pool loads the text tower alone, with no reserved search worker. Runs the
// real binary; the imports are recorded by a resolve hook (import-recorder.mjs), the towers are
// what the pool's workers report when they are ready (its startup log line). The binary runs the
// esbuild bundle (scripts/build-cli.mjs): the recorder sees the packages it keeps external, so the
// test first checks that every package named here is one of those, and it also sees which of the
// bundle's own chunks load, which must hold no chat bot, web or server code.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, type CliResult } from './cli-process.js';

const RECORDER = fileURLToPath(new URL('./import-recorder.mjs', import.meta.url));
const PHOTO = fileURLToPath(new URL('../fixtures/clip-parity/', import.meta.url));
/** Packages a search with nothing configured has no use for. */
const UNUSED_BY_SEARCH = ['@slack/bolt', 'discord.js', '@qdrant/js-client-rest', 'sharp', 'heic-decode', 'fastify', 'ioredis', 'bullmq'];
/** Source folders whose code a search has no use for: the chat bots, the web app, serve. */
const UNUSED_SOURCES = ['src/bots/', 'src/web/', 'src/serve/'];
const BUNDLE_META = fileURLToPath(new URL('../../dist/bundle-meta.json', import.meta.url));

/** What esbuild's metafile says of each output: the sources in it and what it imports. */
interface BundleMeta {
  outputs: Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string; external?: boolean }> }>;
}

async function bundleMeta(): Promise<BundleMeta> {
  return JSON.parse(await readFile(BUNDLE_META, 'utf8')) as BundleMeta;
}

/** Runs the CLI with the recorder; resolves to its result and the packages it imported. */
async function runRecorded(args: string[], env: NodeJS.ProcessEnv, imports: string): Promise<CliResult & { packages: Set<string>; chunks: Set<string> }> {
  const child = spawn(process.execPath, ['--import', RECORDER, BIN, ...args], {
    env: { ...env, FINDIMAGE_TEST_IMPORTS: imports },
    cwd: env.HOME,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const urls = (await readFile(imports, 'utf8')).split('\n');
  const packages = new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));
  const chunks = new Set(urls.flatMap((url) => /\/(dist\/[^/]+\.js)$/.exec(url)?.[1] ?? []));
  return { code, stdout, stderr, packages, chunks };
}

/** The pool's startup line: what its workers loaded. */
function poolStartup(stderr: string): { towers: string[]; searchWorkers: number; workers: number; startedEarly: number } {
  const line = stderr.split('\n').find((l) => l.includes('"component":"embedding-pool"') && l.includes('"towers"'));
  if (line === undefined) throw new Error(`no embedding pool startup line in:\n${stderr}`);
  return JSON.parse(line) as { towers: string[]; searchWorkers: number; workers: number; startedEarly: number };
}

describe('cold one-shot commands', () => {
  let home: string;
  let photos: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cold-'));
    photos = join(home, 'photos');
    await mkdir(photos);
    const fixtures = await import('node:fs/promises').then((fs) => fs.readdir(PHOTO));
    for (const name of fixtures.filter((n) => /\.(jpe?g|png)$/i.test(n)).slice(0, 3)) await copyFile(join(PHOTO, name), join(photos, name));
    const indexed = await runCli(['index', photos], cliEnv(home));
    expect(indexed.code).toBe(0);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('keeps every package a search must not load outside the bundle, where the recorder sees it imported', async () => {
    const meta = await bundleMeta();
    for (const [output, { inputs, imports }] of Object.entries(meta.outputs)) {
      const bundled = UNUSED_BY_SEARCH.filter((name) => Object.keys(inputs).some((input) => input.includes(`/node_modules/${name}/`)));
      expect(bundled, output).toEqual([]);
      const inlined = imports.filter((i) => UNUSED_BY_SEARCH.includes(i.path) && i.external !== true);
      expect(inlined, output).toEqual([]);
    }
  });

  it('search imports no chat SDK, Qdrant client, sharp or web server, and loads the text tower alone', async () => {
    const env = cliEnv(home, { LOG_LEVEL: 'info', FINDIMAGE_SEARCH_WORKERS: '1', FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
    const result = await runRecorded(['search', 'a', 'red', 'car', '--json'], env, join(home, 'search-imports.txt'));
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { results: unknown[] }).results.length).toBeGreaterThan(0);
    // The recorder works: it saw the packages a search does use.
    expect(result.packages).toContain('better-sqlite3');
    expect(result.packages).toContain('onnxruntime-node');
    expect(UNUSED_BY_SEARCH.filter((name) => result.packages.has(name))).toEqual([]);
    // Nor any chunk of the bundle that holds bot, web or server code.
    const meta = await bundleMeta();
    expect(result.chunks.size).toBeGreaterThan(0);
    const unused = [...result.chunks].flatMap((chunk) =>
      Object.keys(meta.outputs[chunk]?.inputs ?? {}).filter((input) => UNUSED_SOURCES.some((folder) => input.startsWith(folder))),
    );
    expect(unused).toEqual([]);
    // One general worker with the text tower, and no search worker even though one is configured;
    // it is the thread bin/findimage.js started before the configuration was read.
    expect(poolStartup(result.stderr)).toMatchObject({ towers: ['text'], searchWorkers: 0, workers: 1, startedEarly: 1 });
  });

  it('similar loads the vision tower alone, and imports sharp to read the image', async () => {
    const [image] = await import('node:fs/promises').then((fs) => fs.readdir(photos));
    const env = cliEnv(home, { LOG_LEVEL: 'info', FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
    const result = await runRecorded(['similar', join(photos, image as string), '--json'], env, join(home, 'similar-imports.txt'));
    expect(result.code).toBe(0);
    expect(result.packages).toContain('sharp');
    expect(['@slack/bolt', 'discord.js', '@qdrant/js-client-rest'].filter((name) => result.packages.has(name))).toEqual([]);
    expect(poolStartup(result.stderr)).toMatchObject({ towers: ['vision'], searchWorkers: 0, startedEarly: 0 });
  });
});
