// Each model family end to end with its tiny model, through the composed embedding (config,
// openEmbedding and the real worker pool, so this test lives beside findimage.ts, not in core):
// the spec selects the tokenizer and the preprocessing, the worker feeds the tensor names the
// spec gives, and what comes back is a unit vector of the model's dimension that depends on the
// input. The int8 variant of tiny-test runs through the same path and lands near its fp32 model,
// and so do the fp16 twins, in both styles of fp16 export: tiny-test-fp16's graphs take and give
// float16 tensors (the worker converts), tiny-siglip-fp16's keep float32 ones around float16 weights.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { familyOf } from './core/models/model-family.js';
import { getModelSpec } from './core/models/model-registry.js';
import { openEmbedding, type OpenedEmbedding } from './findimage.js';
import { createSilentLogger } from './logger.js';

let dir: string;
let photo: Buffer;
/** Each model opened once for the whole file, by id, whichever test asks first (tests run in any order). */
const opened = new Map<string, Promise<OpenedEmbedding>>();

function norm(vector: Float32Array): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
}
function cosine(a: Float32Array, b: Float32Array): number {
  return a.reduce((sum, v, i) => sum + v * (b[i] as number), 0) / (norm(a) * norm(b));
}

function open(modelId: string): Promise<OpenedEmbedding> {
  let embedding = opened.get(modelId);
  if (embedding === undefined) {
    embedding = openModel(modelId);
    opened.set(modelId, embedding);
  }
  return embedding;
}

async function openModel(modelId: string): Promise<OpenedEmbedding> {
  const config = loadConfig({
    FINDIMAGE_MODEL: modelId,
    FINDIMAGE_DATA: join(dir, 'data'),
    FINDIMAGE_CACHE: join(dir, 'cache'),
    FINDIMAGE_DEVICE: 'cpu',
    FINDIMAGE_WORKERS: '1',
  });
  return openEmbedding({ config, logger: createSilentLogger(), model: getModelSpec(modelId) });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'findimage-families-'));
  const raw = Buffer.alloc(320 * 200 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
  photo = await sharp(raw, { raw: { width: 320, height: 200, channels: 3 } }).png().toBuffer();
});

afterAll(async () => {
  for (const embedding of await Promise.allSettled(opened.values())) {
    if (embedding.status === 'fulfilled') await embedding.value.embedder.close();
  }
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  { model: 'tiny-test', family: 'openai-clip', dimension: 512 },
  { model: 'tiny-siglip', family: 'siglip', dimension: 768 },
  { model: 'tiny-test-q8', family: 'openai-clip', dimension: 512 },
  { model: 'tiny-test-fp16', family: 'openai-clip', dimension: 512 },
  { model: 'tiny-siglip-fp16', family: 'siglip', dimension: 768 },
])('$model ($family) through the embedding pool', ({ model, family, dimension }) => {
  let embedding: OpenedEmbedding;
  beforeAll(async () => {
    embedding = await open(model);
  });

  it('is selected by the spec', () => {
    expect(familyOf(getModelSpec(model)).id).toBe(family);
    expect(embedding.embedder.dimension).toBe(dimension);
  });

  it('embeds text to a unit vector that depends on the text', async () => {
    const cat = await embedding.embedder.embedQuery('a photo of a cat');
    const dog = await embedding.embedder.embedQuery('two dogs on the beach');
    expect(cat).toHaveLength(dimension);
    expect(norm(cat)).toBeCloseTo(1, 5);
    expect(cosine(cat, dog)).toBeLessThan(0.9999);
  });

  it('embeds a query with digits, "9" included (the last id of tiny-siglip\'s vocabulary)', async () => {
    const vector = await embedding.embedder.embedQuery('9 cats in 2019');
    expect(vector).toHaveLength(dimension);
    expect(norm(vector)).toBeCloseTo(1, 5);
  });

  it('embeds an image to a unit vector', async () => {
    const image = await embedding.prepareImage(photo);
    expect(image.pixels).toHaveLength(3 * 224 * 224);
    const vector = await embedding.embedder.embedImage(image);
    expect(vector).toHaveLength(dimension);
    expect(norm(vector)).toBeCloseTo(1, 5);
  });
});

describe('a quantized variant', () => {
  it('is named model:q8 or model-q8 and gives vectors near, but not equal to, its fp32 model', async () => {
    expect(getModelSpec('tiny-test:q8').id).toBe('tiny-test-q8');
    expect(getModelSpec('tiny-test-q8').variantOf).toEqual({ model: 'tiny-test', precision: 'q8' });
    const [fp32, q8] = [await open('tiny-test'), await open('tiny-test-q8')];
    const query = 'a red car on a street';
    const [a, b] = [await fp32.embedder.embedQuery(query), await q8.embedder.embedQuery(query)];
    expect(cosine(a, b)).toBeGreaterThan(0.99);
    expect(cosine(a, b)).toBeLessThan(1);
    const image = await fp32.prepareImage(photo);
    expect(cosine(await fp32.embedder.embedImage(image), await q8.embedder.embedImage(image))).toBeGreaterThan(0.99);
  });
});

describe.each([
  { fp32: 'tiny-test', io: 'float16 inputs and outputs' },
  { fp32: 'tiny-siglip', io: 'float32 inputs and outputs around float16 weights' },
])('the fp16 twin of $fp32 ($io)', ({ fp32: fp32Id }) => {
  const queries = ['a photo of a cat', 'two dogs on the beach', 'a red car on a street', '9 cats in 2019'];

  it('is named model:fp16 and gives every query a vector within cosine 0.99 of the fp32 model\'s', async () => {
    expect(getModelSpec(`${fp32Id}:fp16`).id).toBe(`${fp32Id}-fp16`);
    expect(getModelSpec(`${fp32Id}-fp16`).variantOf).toEqual({ model: fp32Id, precision: 'fp16' });
    const [fp32, fp16] = [await open(fp32Id), await open(`${fp32Id}-fp16`)];
    for (const query of queries) {
      const [a, b] = [await fp32.embedder.embedQuery(query), await fp16.embedder.embedQuery(query)];
      expect(cosine(a, b), query).toBeGreaterThanOrEqual(0.99);
      // Not the fp32 model under another name: float16 weights move the vector a little.
      expect(cosine(a, b), query).toBeLessThan(1);
    }
  });

  it('embeds an image within cosine 0.99 of the fp32 model, and different images differently', async () => {
    const [fp32, fp16] = [await open(fp32Id), await open(`${fp32Id}-fp16`)];
    const image = await fp32.prepareImage(photo);
    const [a, b] = [await fp32.embedder.embedImage(image), await fp16.embedder.embedImage(image)];
    expect(cosine(a, b)).toBeGreaterThanOrEqual(0.99);
    const other = await fp16.prepareImage(await sharp(photo).negate().png().toBuffer());
    expect(cosine(b, await fp16.embedder.embedImage(other))).toBeLessThan(0.9999);
  });
});

describe('an fp16 model on the CPU', () => {
  /** Opens `modelId` on the CPU with a logger that keeps every line, parsed. */
  async function openLogged(modelId: string): Promise<Array<Record<string, unknown>>> {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const config = loadConfig({ FINDIMAGE_MODEL: modelId, FINDIMAGE_DATA: join(dir, 'data'), FINDIMAGE_CACHE: join(dir, 'cache'), FINDIMAGE_DEVICE: 'cpu' });
    const embedding = await openEmbedding({ config, logger, model: getModelSpec(modelId), towers: ['text'] });
    await embedding.embedder.close();
    return lines;
  }

  it('says at load that fp16 is usually slower there and names the fp32 model to use instead', async () => {
    const lines = await openLogged('tiny-test:fp16');
    const advice = lines.find((line) => line.level === 40 && line.model === 'tiny-test-fp16');
    expect(advice).toMatchObject({ provider: 'cpu', suggestedModel: 'tiny-test' });
    expect(advice?.msg).toContain('fp16 is usually slower than fp32');
    expect(advice?.msg).toContain('FINDIMAGE_MODEL=tiny-test');
  });

  it('says nothing of the kind for the fp32 model a bare name picks', async () => {
    const lines = await openLogged('tiny-test');
    expect(lines.filter((line) => String(line.msg).includes('fp16'))).toEqual([]);
  });
});

describe("each family's query clean-up on the way to its model", () => {
  it('SigLIP reads U+001C as a space (Python whitespace, as SiglipTokenizer does)', async () => {
    const siglip = await open('tiny-siglip');
    const [separated, spaced, joined] = await Promise.all(['red\u001ccar', 'red car', 'redcar'].map((q) => siglip.embedder.embedQuery(q)));
    expect([...(separated as Float32Array)]).toEqual([...(spaced as Float32Array)]);
    expect(cosine(separated as Float32Array, joined as Float32Array)).toBeLessThan(0.9999);
  });

  it('CLIP deletes U+001C, as ftfy does in its reference clean-up', async () => {
    const clip = await open('tiny-test');
    const [separated, joined] = await Promise.all(['red\u001ccar', 'redcar'].map((q) => clip.embedder.embedQuery(q)));
    expect([...(separated as Float32Array)]).toEqual([...(joined as Float32Array)]);
  });
});
