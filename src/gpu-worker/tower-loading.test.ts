// Which towers the embedding workers load: both by default (serve keeps them warm), only the ones
// asked for otherwise (a one-shot search never loads the vision tower), and a tower left out still
// loads the first time a batch needs it; and the graph cache they load from on the CPU. Runs the
// real tiny model in real worker threads.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createSilentLogger } from '../logger.js';
import { createEmbeddingPool, type EmbeddingPool, type EmbeddingPoolOptions } from './embedding-pool.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-test/onnx/', import.meta.url));
const CONTEXT = 77;
const SIZE = 224;

function poolOptions(overrides: Partial<EmbeddingPoolOptions>): EmbeddingPoolOptions {
  return {
    textModelPath: `${MODEL_DIR}text_model.onnx`,
    visionModelPath: `${MODEL_DIR}vision_model.onnx`,
    text: { inputName: 'input_ids', outputName: 'text_embeds', contextLength: CONTEXT },
    vision: { inputName: 'pixel_values', outputName: 'image_embeds', imageSize: SIZE },
    dimension: 512,
    device: { kind: 'cpu' },
    workers: 1,
    batchWaitMs: 1,
    logger: createSilentLogger(),
    ...overrides,
  };
}

const pools: EmbeddingPool[] = [];
async function open(overrides: Partial<EmbeddingPoolOptions>): Promise<EmbeddingPool> {
  const pool = await createEmbeddingPool(poolOptions(overrides));
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function query(): BigInt64Array {
  const ids = new BigInt64Array(CONTEXT).fill(49407n);
  ids[0] = 49406n;
  ids[1] = 320n;
  return ids;
}

test('by default every general worker loads both towers and a search worker the text tower', async () => {
  const pool = await open({ workers: 1, searchWorkers: 1 });
  expect(pool.stats()).toMatchObject({ workers: 2, towersLoaded: { text: 2, vision: 1 } });
});

test('a text-only pool (a one-shot search) loads no vision tower while it answers queries', async () => {
  const pool = await open({ towers: ['text'], searchWorkers: 0 });
  expect(pool.stats()).toMatchObject({ workers: 1, towersLoaded: { text: 1, vision: 0 } });
  const vector = await pool.embedTokens(query());
  expect(vector).toHaveLength(512);
  expect(pool.stats()).toMatchObject({ workers: 1, embedded: 1, towersLoaded: { text: 1, vision: 0 } });
});

test('a tower left out loads on first use, on the same worker, and answers like a warm one', async () => {
  const pool = await open({ towers: ['vision'] });
  expect(pool.stats().towersLoaded).toEqual({ text: 0, vision: 1 });
  const lazy = await pool.embedTokens(query());
  expect(pool.stats()).toMatchObject({ workers: 1, towersLoaded: { text: 1, vision: 1 } });

  const warm = await (await open({})).embedTokens(query());
  expect(Array.from(lazy)).toEqual(Array.from(warm));
});

test('sessions that skip packing their weights (a one-shot search) answer as packed ones do', async () => {
  const packed = await (await open({ towers: ['text'] })).embedTokens(query());
  const unpacked = await (await open({ towers: ['text'], prepackWeights: false })).embedTokens(query());
  let worst = 0;
  for (let i = 0; i < packed.length; i++) worst = Math.max(worst, Math.abs((packed[i] as number) - (unpacked[i] as number)));
  expect(worst).toBeLessThan(1e-5);
});

test('an empty or unknown tower list is refused with a message naming the choices', async () => {
  await expect(open({ towers: [] })).rejects.toThrow(/text, vision or both/);
  await expect(open({ towers: ['audio' as 'text'] })).rejects.toThrow(/text, vision or both/);
});

describe('graph cache', () => {
  let cacheDir: string;
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'findimage-graphs-'));
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  function closeTo(a: Float32Array, b: Float32Array): number {
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
    return worst;
  }

  test('the first load writes a copy with external weights, later loads use it, and the vectors match', async () => {
    const plain = await (await open({ towers: ['text'] })).embedTokens(query());
    const first = await open({ towers: ['text'], graphCacheDir: cacheDir });
    const saved = await readdir(cacheDir);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(/^text-[0-9a-f]{24}$/);
    const files = await readdir(join(cacheDir, saved[0] as string));
    expect(files.sort()).toEqual(['model.onnx', 'model.onnx.data']);
    const written = (await stat(join(cacheDir, saved[0] as string, 'model.onnx'))).mtimeMs;
    expect(closeTo(await first.embedTokens(query()), plain)).toBeLessThan(1e-5);

    const second = await open({ towers: ['text'], graphCacheDir: cacheDir });
    expect(await readdir(cacheDir)).toEqual(saved);
    expect((await stat(join(cacheDir, saved[0] as string, 'model.onnx'))).mtimeMs).toBe(written);
    expect(closeTo(await second.embedTokens(query()), plain)).toBeLessThan(1e-5);
  });

  test('a damaged copy is dropped and the source file loads instead', async () => {
    await open({ towers: ['text'], graphCacheDir: cacheDir });
    const [folder] = await readdir(cacheDir);
    await writeFile(join(cacheDir, folder as string, 'model.onnx'), 'not a graph');
    const pool = await open({ towers: ['text'], graphCacheDir: cacheDir });
    expect(await pool.embedTokens(query())).toHaveLength(512);
    expect(await readdir(cacheDir)).toEqual([]);
  });
});

describe('fp16 graphs', () => {
  test('the pool logs what each graph takes and gives, and that float16 pixels are converted in the worker', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const pool = await open({
      textModelPath: `${MODEL_DIR}text_model_fp16.onnx`,
      visionModelPath: `${MODEL_DIR}vision_model_fp16.onnx`,
      logger,
    });
    const started = lines.find((line) => String(line.msg).startsWith('embedding on the CPU'));
    expect(started?.elementTypes).toEqual({ text: { input: null, output: 'float16' }, vision: { input: 'float16', output: 'float16' } });
    expect(lines.find((line) => String(line.msg).includes('takes float16 pixels'))).toMatchObject({ level: 30, provider: 'cpu' });
    const vector = await pool.embedTokens(query());
    expect(vector).toHaveLength(512);
  });

  test('a float32 graph gets no conversion line', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    await open({ logger });
    expect(lines.filter((line) => String(line.msg).includes('float16'))).toEqual([]);
  });
});
