// The embedding pool against the real tiny CLIP-shaped model: results, batching, priority,
// back-pressure, abort, crashes, startup failures and device selection.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FindimageError } from '../core/errors.js';
import { createSilentLogger, type Logger } from '../logger.js';
import { DEFAULT_MAX_BATCH, createEmbeddingPool, type EmbeddingPool, type EmbeddingPoolOptions } from './embedding-pool.js';
import { CRASH_MARKER, FAIL_STARTUP_ENV } from './testing/crash-marker.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-test/onnx/', import.meta.url));
const TEXT_MODEL = join(MODEL_DIR, 'text_model.onnx');
const VISION_MODEL = join(MODEL_DIR, 'vision_model.onnx');
const MASKED_TEXT_MODEL = fileURLToPath(new URL('./testing/masked-text-model.onnx', import.meta.url));
const CRASHING_WORKER = new URL('./testing/crashing-embedding-worker.ts', import.meta.url);
const CONTEXT = 77;
const SIZE = 224;
const PIXELS = 3 * SIZE * SIZE;
const DIM = 512;

function poolOptions(overrides: Partial<EmbeddingPoolOptions> = {}): EmbeddingPoolOptions {
  return {
    textModelPath: TEXT_MODEL,
    visionModelPath: VISION_MODEL,
    text: { inputName: 'input_ids', outputName: 'text_embeds', contextLength: CONTEXT },
    vision: { inputName: 'pixel_values', outputName: 'image_embeds', imageSize: SIZE },
    dimension: DIM,
    device: { kind: 'cpu' },
    workers: 1,
    maxBatch: 8,
    batchWaitMs: 5,
    logger: createSilentLogger(),
    ...overrides,
  };
}

/** A CLIP-style row: start token, a few word ids, end token, padded with the end token. */
function tokens(seed: number): BigInt64Array {
  const ids = new BigInt64Array(CONTEXT).fill(49407n);
  ids[0] = 49406n;
  for (let i = 1; i <= 4; i++) ids[i] = BigInt(((seed * 7919 + i * 104729) % 49000) + 256);
  return ids;
}

/** Deterministic pseudo-random pixels in CLIP's normalised range. */
function pixels(seed: number): Float32Array {
  const out = new Float32Array(PIXELS);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < out.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out[i] = (state / 2147483648) * 4 - 2;
  }
  return out;
}

function norm(vector: Float32Array): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

async function rejection(promise: Promise<unknown>): Promise<FindimageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FindimageError);
  return error as FindimageError;
}

/** A logger that keeps every line, parsed, for assertions. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

let pools: EmbeddingPool[] = [];
async function open(overrides: Partial<EmbeddingPoolOptions> = {}): Promise<EmbeddingPool> {
  const pool = await createEmbeddingPool(poolOptions(overrides));
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

describe('results', () => {
  let text: InferenceSession;
  let vision: InferenceSession;

  beforeAll(async () => {
    text = await InferenceSession.create(TEXT_MODEL);
    vision = await InferenceSession.create(VISION_MODEL);
  });
  afterAll(async () => {
    await text.release();
    await vision.release();
  });

  async function direct(session: InferenceSession, feed: Tensor, output: string): Promise<Float32Array> {
    const result = await session.run({ [session.inputNames[0] as string]: feed });
    return result[output]?.data as Float32Array;
  }

  test('text and image vectors are unit-length 512 floats equal to a direct onnxruntime session, batched or not', async () => {
    const batched = await open({ maxBatch: 8, batchWaitMs: 50 });
    const single = await open({ maxBatch: 1, batchWaitMs: 0 });
    const texts = [0, 1, 2, 3, 4].map(tokens);
    const images = [0, 1, 2].map(pixels);

    const [fromBatchedText, fromSingleText, fromBatchedImages, fromSingleImages] = await Promise.all([
      Promise.all(texts.map((ids) => batched.embedTokens(ids))),
      Promise.all(texts.map((ids) => single.embedTokens(ids))),
      Promise.all(images.map((p) => batched.embedPixels(p))),
      Promise.all(images.map((p) => single.embedPixels(p))),
    ]);

    for (const [i, ids] of texts.entries()) {
      const expected = await direct(text, new Tensor('int64', ids, [1, CONTEXT]), 'text_embeds');
      for (const got of [fromBatchedText[i] as Float32Array, fromSingleText[i] as Float32Array]) {
        expect(got).toHaveLength(DIM);
        expect(norm(got)).toBeCloseTo(1, 5);
        expect(maxDifference(got, expected)).toBeLessThan(1e-5);
      }
    }
    for (const [i, p] of images.entries()) {
      const expected = await direct(vision, new Tensor('float32', p, [1, 3, SIZE, SIZE]), 'image_embeds');
      for (const got of [fromBatchedImages[i] as Float32Array, fromSingleImages[i] as Float32Array]) {
        expect(got).toHaveLength(DIM);
        expect(norm(got)).toBeCloseTo(1, 5);
        expect(maxDifference(got, expected)).toBeLessThan(1e-5);
      }
    }
    // Different inputs give different vectors, so a row mix-up inside a batch would show.
    expect(maxDifference(fromBatchedText[0] as Float32Array, fromBatchedText[1] as Float32Array)).toBeGreaterThan(1e-3);
    expect(batched.stats().batchSizes).toEqual({ 5: 1, 3: 1 });
    expect(single.stats().batchSizes).toEqual({ 1: 8 });
  });

  test('feeds an all-ones attention_mask to a text graph that declares one', async () => {
    const pool = await open({ textModelPath: MASKED_TEXT_MODEL });
    const masked = await InferenceSession.create(MASKED_TEXT_MODEL);
    try {
      const ids = tokens(3);
      const got = await pool.embedTokens(ids);
      const feeds = (mask: number): Record<string, Tensor> => ({
        input_ids: new Tensor('int64', ids, [1, CONTEXT]),
        attention_mask: new Tensor('int64', new BigInt64Array(CONTEXT).fill(BigInt(mask)), [1, CONTEXT]),
      });
      const ones = (await masked.run(feeds(1))).text_embeds?.data as Float32Array;
      const zeros = (await masked.run(feeds(0))).text_embeds?.data as Float32Array;
      expect(maxDifference(got, ones)).toBeLessThan(1e-5);
      expect(maxDifference(got, zeros)).toBeGreaterThan(1e-3);
    } finally {
      await masked.release();
    }
  });
});

describe('batching and priority', () => {
  test('concurrent requests for one tower run as batches of at most maxBatch', async () => {
    // Inputs are made before any is submitted: making one can take longer than batchWaitMs.
    const texts = [0, 1, 2, 3, 4, 5, 6, 7].map(tokens);
    const images = [0, 1, 2, 3, 4, 5, 6].map(pixels);
    const pool = await open({ maxBatch: 8, batchWaitMs: 50 });
    await Promise.all(texts.map((ids) => pool.embedTokens(ids)));
    expect(pool.stats().batchSizes).toEqual({ 8: 1 });

    const small = await open({ maxBatch: 3, batchWaitMs: 5 });
    await Promise.all(images.map((p) => small.embedPixels(p)));
    const stats = small.stats();
    expect(stats.batchSizes).toEqual({ 3: 2, 1: 1 });
    expect(stats.batches).toBe(3);
    expect(stats.embedded).toBe(7);
  });

  test('an interactive text query overtakes bulk images queued before it', async () => {
    // A long batch wait, so that batches form by count alone: with 1 ms, a loaded machine took
    // over a millisecond to submit the first images and ran a first batch of 2 (seen in CI order
    // 1796665983471). The query's partial batch waits it out while bulk work holds back.
    const pool = await open({ maxBatch: 4, batchWaitMs: 500 });
    const image = pixels(1);
    const finished: string[] = [];
    const bulk = Array.from({ length: 40 }, (_, i) =>
      pool.embedPixels(image).then(() => void finished.push(`image ${i}`)),
    );
    const query = pool.embedTokens(tokens(1)).then(() => void finished.push('query'));
    await Promise.all([...bulk, query]);
    // The first bulk batch of 4 was already running when the query arrived; nothing else was.
    expect(finished.indexOf('query')).toBe(4);
    expect(finished.slice(0, 4)).toEqual(['image 0', 'image 1', 'image 2', 'image 3']);
  });
});

describe('search workers', () => {
  test('a reserved search worker loads only the text tower and is never sent images', async () => {
    const pool = await open({ workers: 1, searchWorkers: 1, maxBatch: 2, batchWaitMs: 1 });
    const image = pixels(2);
    const bulk = Array.from({ length: 30 }, () => pool.embedPixels(image));
    const queries = Array.from({ length: 6 }, (_, i) => pool.embedTokens(tokens(i)));
    const similar = pool.embedPixels(image, { lane: 'interactive' });
    const vectors = await Promise.all([...bulk, ...queries, similar]);
    expect(vectors.every((v) => v.length === 512 && Math.abs(norm(v) - 1) < 1e-5)).toBe(true);
    expect(pool.stats()).toMatchObject({ workers: 2, embedded: 37, crashes: 0 });
  });

  test('without a configured batch size the CPU default applies', async () => {
    const pool = await open({ maxBatch: undefined, batchWaitMs: 50 });
    await Promise.all([0, 1, 2, 3].map((i) => pool.embedTokens(tokens(i))));
    expect(pool.stats().batchSizes).toEqual({ [DEFAULT_MAX_BATCH.cpu]: 4 / DEFAULT_MAX_BATCH.cpu });
  });
});

describe('back-pressure and abort', () => {
  test('a full lane refuses with queue_full, and waitForCapacity resolves once a place frees', async () => {
    // A long batch wait keeps partial batches queued, so the queue's contents are exact.
    const pool = await open({ maxQueue: 2, maxBatch: 8, batchWaitMs: 60_000 });
    const controller = new AbortController();
    const first = pool.embedPixels(pixels(1), { signal: controller.signal });
    const second = pool.embedPixels(pixels(2));
    const refused = await rejection(pool.embedPixels(pixels(3)));
    expect(refused.code).toBe('queue_full');
    expect(pool.stats().queued).toEqual({ interactive: 0, bulk: 2 });

    let roomed = false;
    const room = pool.waitForCapacity('bulk').then(() => {
      roomed = true;
    });
    // Room is only ever given when a task leaves the queue, and none can leave before the abort
    // below; one turn of the event loop lets any wrongly early answer arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomed).toBe(false);
    controller.abort();
    await room;
    expect(roomed).toBe(true);
    expect((await rejection(first)).code).toBe('aborted');

    const secondOutcome = rejection(second);
    await pool.close();
    expect((await secondOutcome).code).toBe('aborted');
    expect((await rejection(pool.embedPixels(pixels(4)))).code).toBe('aborted');
  });

  test('an aborted queued task leaves the queue and rejects with aborted; the others still run', async () => {
    const [a, b, c] = [1, 2, 3].map(pixels) as [Float32Array, Float32Array, Float32Array];
    const pool = await open({ maxBatch: 8, batchWaitMs: 100 });
    const controller = new AbortController();
    const kept1 = pool.embedPixels(a);
    const dropped = pool.embedPixels(b, { signal: controller.signal });
    const kept2 = pool.embedPixels(c);
    controller.abort();
    expect(pool.stats().queued.bulk).toBe(2);
    expect((await rejection(dropped)).code).toBe('aborted');
    expect(await kept1).toHaveLength(DIM);
    expect(await kept2).toHaveLength(DIM);
    expect(pool.stats().batchSizes).toEqual({ 2: 1 });

    const already = AbortSignal.abort();
    expect((await rejection(pool.embedTokens(tokens(1), { signal: already }))).code).toBe('aborted');
  });

  test('refuses an input of the wrong length without queuing it', async () => {
    const pool = await open();
    const error = await rejection(pool.embedTokens(new BigInt64Array(10)));
    expect(error.message).toBe('The text tower takes 77 values per input; got 10.');
    expect(pool.stats().queued).toEqual({ interactive: 0, bulk: 0 });
  });
});

describe('crashes', () => {
  test('a crashed worker is replaced, its batch retried once alone, and a second crash fails only the poison input', async () => {
    const { logger, lines } = capturingLogger();
    const pool = await open({ workerUrl: CRASHING_WORKER, maxBatch: 4, batchWaitMs: 20, logger });
    const poison = pixels(9);
    poison[0] = CRASH_MARKER;
    const healthy = [1, 2, 3].map(pixels);

    const results = await Promise.allSettled([
      pool.embedPixels(poison),
      ...healthy.map((p) => pool.embedPixels(p)),
    ]);

    const [poisoned, ...others] = results;
    expect(poisoned?.status).toBe('rejected');
    const error = (poisoned as PromiseRejectedResult).reason as FindimageError;
    expect(error.code).toBe('worker_crashed');
    // Sent twice (the batch, then alone), and not a third time.
    expect(error.details).toMatchObject({ attempts: 2, tower: 'vision' });
    for (const other of others) {
      expect(other.status).toBe('fulfilled');
      expect((other as PromiseFulfilledResult<Float32Array>).value).toHaveLength(DIM);
    }
    const stats = pool.stats();
    // First crash: the batch of four, each retried once alone. Second: the poison input alone,
    // on its retry, which is not retried again.
    expect(stats.crashes).toBe(2);
    expect(stats.retried).toBe(4);
    expect(stats.batchSizes).toEqual({ 1: 3 });
    expect(lines.filter((l) => l.msg === 'embedding worker crashed; starting a replacement')).toHaveLength(2);

    // The replacement keeps working.
    await expect(pool.embedTokens(tokens(1))).resolves.toHaveLength(DIM);
    expect(pool.stats().workers).toBe(1);
  });

  test('a replacement that cannot start is not respawned, and the pool then refuses work with worker_crashed', async () => {
    const { logger, lines } = capturingLogger();
    const pool = await open({ workerUrl: CRASHING_WORKER, maxBatch: 1, batchWaitMs: 0, logger });
    const poison = pixels(9);
    poison[0] = CRASH_MARKER;
    // Workers copy process.env when they start: only the replacement sees this.
    process.env[FAIL_STARTUP_ENV] = '1';
    try {
      const crashed = pool.embedPixels(poison);
      const queued = pool.embedPixels(pixels(1));
      const [crashedError, queuedError] = await Promise.all([rejection(crashed), rejection(queued)]);
      expect(crashedError.code).toBe('worker_crashed');
      expect(crashedError.message).toContain("a crashed worker's replacement could not start");
      expect(crashedError.message).toContain('this test worker was told not to start');
      expect(queuedError).toBe(crashedError);
      expect((await rejection(pool.embedTokens(tokens(1)))).code).toBe('worker_crashed');
      await expect(pool.waitForCapacity('bulk')).rejects.toBe(crashedError);

      // A respawn would start at once, before the error above was raised. By the time a worker
      // started after it has failed to start too (another pool's, under the same setting), a
      // respawned one would have failed and been logged as well.
      const other = await rejection(createEmbeddingPool(poolOptions({ workerUrl: CRASHING_WORKER })));
      expect(other.code).toBe('worker_crashed');
      expect(lines.filter((l) => l.msg === 'replacement embedding worker could not start')).toHaveLength(1);
      expect(pool.stats()).toMatchObject({ workers: 0, crashes: 1 });
    } finally {
      delete process.env[FAIL_STARTUP_ENV];
    }
  });
});

describe('startup', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-pool-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('tells onWorkersStarted once, when its threads exist and before they are ready, so the caller can overlap other work', async () => {
    const events: string[] = [];
    const starting = createEmbeddingPool(poolOptions({ workers: 2, onWorkersStarted: () => events.push('started') }));
    const pool = await starting;
    pools.push(pool);
    events.push('ready');
    expect(events).toEqual(['started', 'ready']);
  });

  test('does not tell onWorkersStarted when startup fails before any thread exists', async () => {
    let told = false;
    const missing = join(dir, 'nope', 'text_model.onnx');
    await rejection(createEmbeddingPool(poolOptions({ textModelPath: missing, onWorkersStarted: () => (told = true) })));
    expect(told).toBe(false);
  });

  test('a model path that does not exist rejects startup with model_load_failed naming the file', async () => {
    const missing = join(dir, 'nope', 'vision_model.onnx');
    const error = await rejection(createEmbeddingPool(poolOptions({ visionModelPath: missing })));
    expect(error.code).toBe('model_load_failed');
    expect(error.message).toContain(missing);
    expect(error.details).toEqual({ file: missing });
  });

  test('a file that is not an ONNX model rejects startup with model_load_failed naming the file', async () => {
    const corrupt = join(dir, 'text_model.onnx');
    await writeFile(corrupt, 'this is not a protobuf');
    const error = await rejection(createEmbeddingPool(poolOptions({ textModelPath: corrupt, workers: 2 })));
    expect(error.code).toBe('model_load_failed');
    expect(error.message).toContain(`Could not load the text model ${corrupt}`);
  });

  test('a graph without the named output rejects startup and says what it declares', async () => {
    const error = await rejection(
      createEmbeddingPool(
        poolOptions({ vision: { inputName: 'pixel_values', outputName: 'pooled', imageSize: SIZE } }),
      ),
    );
    expect(error.code).toBe('model_load_failed');
    expect(error.message).toContain('has no output "pooled" (it declares "image_embeds")');
  });

  test('device auto on a host without CUDA ends up on the CPU and logs why in one info line', async () => {
    const { logger, lines } = capturingLogger();
    const pool = await open({ device: { kind: 'auto' }, workers: 2, logger });
    expect(pool.provider).toBe('cpu');
    expect(pool.stats().provider).toBe('cpu');
    const info = lines.filter((l) => l.level === 30);
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ provider: 'cpu', device: 'auto', workers: 2 });
    expect(String(info[0]?.reason)).toBe(
      'device is auto and the CUDA execution provider is not installed (onnxruntime-node was installed without it)',
    );
    await expect(pool.embedTokens(tokens(2))).resolves.toHaveLength(DIM);
  });

  test('device cuda:0 on a host without CUDA fails with device_unavailable instead of falling back', async () => {
    const error = await rejection(createEmbeddingPool(poolOptions({ device: { kind: 'cuda', deviceId: 0 } })));
    expect(error.code).toBe('device_unavailable');
    expect(error.message).toContain('The device is set to cuda:0');
    expect(error.message).toContain('FINDIMAGE_DEVICE=cpu');
  });

  test('device cpu logs the CPU and the reason', async () => {
    const { logger, lines } = capturingLogger();
    await open({ logger });
    expect(lines.filter((l) => l.level === 30).map((l) => l.msg)).toEqual(['embedding on the CPU: device is cpu']);
  });
});
