// How the pool keeps indexing out of a search's way, on the real tiny model: bulk batches grow
// only while no search is about, and the threads that index run at a lower OS priority (Linux).
// Its own file: lowering libuv's thread pool is one-way for the process that runs these tests.
import { readFileSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { createSilentLogger } from '../logger.js';
import { createEmbeddingPool, type EmbeddingPool, type EmbeddingPoolOptions } from './embedding-pool.js';
import { lowerThreadpoolPriority, perThreadPriority } from './thread-priority.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-test/onnx/', import.meta.url));
const SIZE = 224;
const CONTEXT = 77;

let pools: EmbeddingPool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

async function open(overrides: Partial<EmbeddingPoolOptions>): Promise<EmbeddingPool> {
  const pool = await createEmbeddingPool({
    textModelPath: join(MODEL_DIR, 'text_model.onnx'),
    visionModelPath: join(MODEL_DIR, 'vision_model.onnx'),
    text: { inputName: 'input_ids', outputName: 'text_embeds', contextLength: CONTEXT },
    vision: { inputName: 'pixel_values', outputName: 'image_embeds', imageSize: SIZE },
    dimension: 512,
    device: { kind: 'cpu' },
    workers: 1,
    batchWaitMs: 5,
    logger: createSilentLogger(),
    ...overrides,
  });
  pools.push(pool);
  return pool;
}

const image = new Float32Array(3 * SIZE * SIZE).fill(0.5);
const query = (): BigInt64Array => {
  const ids = new BigInt64Array(CONTEXT).fill(49407n);
  ids[0] = 49406n;
  ids[1] = 320n;
  return ids;
};

/** Batches run since `before`, by size. */
function batchesSince(pool: EmbeddingPool, before: Record<number, number>): Record<number, number> {
  const delta: Record<number, number> = {};
  for (const [size, count] of Object.entries(pool.stats().batchSizes)) {
    const n = count - (before[Number(size)] ?? 0);
    if (n > 0) delta[Number(size)] = n;
  }
  return delta;
}

describe('adaptive bulk batches', () => {
  test('bulk batches are quietBulkBatch while no search ran, and maxBatch for quietMs after one', async () => {
    const pool = await open({ maxBatch: 2, quietBulkBatch: 8, quietMs: 60_000 });
    // Submitted in one turn of the event loop: the first batch fills before the batch wait ends.
    await Promise.all(Array.from({ length: 16 }, () => pool.embedPixels(image)));
    expect(pool.stats().batchSizes).toEqual({ 8: 2 });

    await pool.embedTokens(query());
    const before = pool.stats().batchSizes;
    await Promise.all(Array.from({ length: 16 }, () => pool.embedPixels(image)));
    expect(batchesSince(pool, before)).toEqual({ 2: 8 });
  });

  test('without quietBulkBatch bulk batches stay at maxBatch', async () => {
    const pool = await open({ maxBatch: 2 });
    await Promise.all(Array.from({ length: 8 }, () => pool.embedPixels(image)));
    expect(pool.stats().batchSizes).toEqual({ 2: 4 });
  });
});

/** Nice value of each thread of this process, by thread id. */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised name: state is field 3, nice field 19.
      nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nice;
}

const count = (nice: Map<number, number>, value: number): number => [...nice.values()].filter((n) => n === value).length;

/** The nice value the tests started at (0 unless the runner itself was started with nice). */
const BASE = getPriority();
/** Room above BASE for three distinct lower priorities. */
const ROOM = 19 - BASE >= 3;

describe.skipIf(!perThreadPriority() || !ROOM)('lower priority for bulk threads (Linux)', () => {
  test("lowerThreadpoolPriority finds libuv's pool threads and lowers them, never the main thread", async () => {
    const target = BASE + 1;
    const result = await lowerThreadpoolPriority(target);
    expect(result.lowered.length).toBeGreaterThan(0);
    expect(result.lowered).not.toContain(process.pid);
    const nice = niceByThread();
    for (const tid of result.lowered) expect(nice.get(tid)).toBe(target);
    expect(nice.get(process.pid)).toBe(BASE);
  });

  test('with a search worker, the general worker and its inference threads run at bulkNiceness; the search worker does not', async () => {
    const threadsBefore = new Set(niceByThread().keys());
    const target = BASE + 2;
    const pool = await open({ workers: 1, searchWorkers: 1, bulkNiceness: target, maxBatch: 2 });
    await Promise.all([pool.embedPixels(image), pool.embedTokens(query())]);
    const nice = niceByThread();
    const started = new Map([...nice].filter(([tid]) => !threadsBefore.has(tid)));
    // The general worker's thread (and its inference threads) lowered; the search worker's not.
    expect(count(started, target)).toBeGreaterThan(0);
    expect(count(started, BASE)).toBeGreaterThan(0);
    expect(nice.get(process.pid)).toBe(BASE);
  });

  test('without search workers (a one-shot command), no worker is lowered: general workers answer searches', async () => {
    const threadsBefore = new Set(niceByThread().keys());
    const target = BASE + 3;
    const pool = await open({ workers: 1, searchWorkers: 0, bulkNiceness: target, maxBatch: 2 });
    await pool.embedTokens(query());
    const started = [...niceByThread()].filter(([tid]) => !threadsBefore.has(tid));
    expect(started.length).toBeGreaterThan(0);
    expect(started.filter(([, nice]) => nice === target)).toEqual([]);
  });
});
