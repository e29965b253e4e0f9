// The tower runner at a graph's boundary: it reads the element types each session declares, feeds
// a float16 input the float16 bits of the float32 pixels, widens a float16 output before the L2
// normalisation, and refuses at load a graph whose embedding is neither float32 nor float16. Runs
// the committed tiny models' fp16 twins (one per style of fp16 export) in this thread.
import { fileURLToPath } from 'node:url';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { cutAfterEndToken, GraphMismatch, TowerRunner, type TowerSpec } from './tower-runner.js';

const model = (path: string) => fileURLToPath(new URL(`../../models/${path}`, import.meta.url));
const CLIP_VISION: TowerSpec = { tower: 'vision', inputName: 'pixel_values', outputName: 'image_embeds', imageSize: 224 };
const SIGLIP_VISION: TowerSpec = { tower: 'vision', inputName: 'pixel_values', outputName: 'pooler_output', imageSize: 224 };
const CLIP_TEXT: TowerSpec = { tower: 'text', inputName: 'input_ids', outputName: 'text_embeds', contextLength: 77 };

const runners: TowerRunner[] = [];
async function runner(path: string, spec: TowerSpec, dimension: number): Promise<TowerRunner> {
  const created = new TowerRunner(await InferenceSession.create(model(path)), spec, dimension);
  runners.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(runners.map((r) => r.release()));
});

/** Two distinct images' CHW pixels in one packed buffer. */
function twoImages(): ArrayBuffer {
  const pixels = new Float32Array(2 * 3 * 224 * 224);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.001) * (i < pixels.length / 2 ? 1.5 : -0.7);
  return pixels.buffer;
}

function rows(vectors: Float32Array, dimension: number): Float32Array[] {
  return [vectors.subarray(0, dimension), vectors.subarray(dimension, 2 * dimension)];
}
const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);

describe('TowerRunner with fp16 graphs', () => {
  it('reads float16 inputs and outputs from a graph that declares them, and float32 from one that casts inside', async () => {
    expect((await runner('tiny-test/onnx/vision_model_fp16.onnx', CLIP_VISION, 512)).elementTypes).toEqual({ input: 'float16', output: 'float16' });
    expect((await runner('tiny-siglip/onnx/vision_model_fp16.onnx', SIGLIP_VISION, 768)).elementTypes).toEqual({ input: 'float32', output: 'float32' });
    expect((await runner('tiny-test/onnx/text_model_fp16.onnx', CLIP_TEXT, 512)).elementTypes).toEqual({ input: null, output: 'float16' });
    expect((await runner('tiny-test/onnx/vision_model.onnx', CLIP_VISION, 512)).elementTypes).toEqual({ input: 'float32', output: 'float32' });
  });

  it.each([
    ['float16 in and out', 'tiny-test/onnx/vision_model', CLIP_VISION, 512],
    ['float32 in and out around float16 weights', 'tiny-siglip/onnx/vision_model', SIGLIP_VISION, 768],
  ] as const)('gives float32 unit rows within cosine 0.99 of the fp32 graph (%s)', async (_style, base, spec, dimension) => {
    const fp32 = rows(await (await runner(`${base}.onnx`, spec, dimension)).run(twoImages(), 2), dimension);
    const fp16 = rows(await (await runner(`${base}_fp16.onnx`, spec, dimension)).run(twoImages(), 2), dimension);
    for (const [index, row] of fp16.entries()) {
      expect(row).toBeInstanceOf(Float32Array);
      expect(dot(row, row)).toBeCloseTo(1, 5);
      expect(dot(row, fp32[index] as Float32Array)).toBeGreaterThanOrEqual(0.99);
    }
    expect(dot(fp16[0] as Float32Array, fp16[1] as Float32Array)).toBeLessThan(0.9999);
  });

  it('refuses at load a graph whose embedding is neither float32 nor float16, naming it', () => {
    const session = {
      inputNames: ['pixel_values'],
      outputNames: ['image_embeds'],
      inputMetadata: [{ name: 'pixel_values', isTensor: true, type: 'float32', shape: [] }],
      outputMetadata: [{ name: 'image_embeds', isTensor: true, type: 'float64', shape: [] }],
    } as unknown as InferenceSession;
    expect(() => new TowerRunner(session, CLIP_VISION, 512)).toThrow(GraphMismatch);
    expect(() => new TowerRunner(session, CLIP_VISION, 512)).toThrow(
      'the vision graph\'s output "image_embeds" is float64; findimage handles float32 and float16',
    );
  });
});

describe('TowerRunner cutting text rows after their end-of-text token', () => {
  const BOS = 49406n;
  const EOS = 49407n;
  const LENGTH = 77;
  const dynamicText = fileURLToPath(new URL('../../test/fixtures/dynamic-text/text_model.onnx', import.meta.url));

  /** Packs rows of content ids as the tokenizer does: start, content, end, then `pad`. */
  function packed(contents: bigint[][], pad = EOS): BigInt64Array<ArrayBuffer> {
    const ids = new BigInt64Array(contents.length * LENGTH).fill(pad);
    contents.forEach((content, row) => {
      ids.set([BOS, ...content, EOS], row * LENGTH);
    });
    return ids;
  }

  /** A session that records the shape of every input it is fed, then runs the real one. */
  async function recordingSession(path: string): Promise<{ session: InferenceSession; fed: number[][] }> {
    const real = await InferenceSession.create(path);
    const fed: number[][] = [];
    const session = Object.create(real) as InferenceSession;
    session.run = ((feeds: InferenceSession.FeedsType, fetches: InferenceSession.FetchesType) => {
      fed.push([...(feeds.input_ids?.dims ?? [])]);
      if (feeds.attention_mask !== undefined) fed.push([...feeds.attention_mask.dims]);
      return real.run(feeds, fetches);
    }) as InferenceSession['run'];
    runners.push({ release: () => real.release() } as TowerRunner);
    return { session, fed };
  }

  it('cuts packed rows to the latest first end token of any row, and keeps rows whole when one has none', () => {
    const ids = packed([[320n, 1125n], [320n, 1125n, 539n, 1929n], [7n]]);
    const cut = cutAfterEndToken(ids, 3, LENGTH, EOS);
    expect(cut.width).toBe(6);
    expect([...cut.ids]).toEqual([BOS, 320n, 1125n, EOS, EOS, EOS, BOS, 320n, 1125n, 539n, 1929n, EOS, BOS, 7n, EOS, EOS, EOS, EOS]);
    // With 0 as the padding (open_clip's exports), the same width.
    expect(cutAfterEndToken(packed([[320n, 1125n], [320n, 1125n, 539n, 1929n]], 0n), 2, LENGTH, EOS).width).toBe(6);
    const endless = packed([[1n]]).fill(5n);
    expect(cutAfterEndToken(endless, 1, LENGTH, EOS)).toEqual({ ids: endless, width: LENGTH });
  });

  it('feeds a graph with a dynamic sequence axis the cut rows and mask, with the same vectors as whole rows', async () => {
    const rowsOfIds = packed([[320n, 1125n], [320n, 1125n, 539n, 320n, 1929n], [2368n]]);
    const whole = new TowerRunner(await InferenceSession.create(dynamicText), CLIP_TEXT, 512);
    runners.push(whole);
    const { session, fed } = await recordingSession(dynamicText);
    const cut = new TowerRunner(session, { ...CLIP_TEXT, endOfTextId: 49407 }, 512);
    expect(whole.cutAfter).toBeNull();
    expect(cut.cutAfter).toBe(EOS);
    const expected = await whole.run(rowsOfIds.slice().buffer, 3);
    const actual = await cut.run(rowsOfIds.slice().buffer, 3);
    // input_ids and the all-ones attention_mask the graph declares, both cut to 7 ids.
    expect(fed).toEqual([[3, 7], [3, 7]]);
    expect([...actual]).toEqual([...expected]);
  });

  it('feeds a graph fixed at the context length whole rows, even for a family whose text ends at its end token', async () => {
    const { session, fed } = await recordingSession(model('tiny-test/onnx/text_model.onnx'));
    const fixed = new TowerRunner(session, { ...CLIP_TEXT, endOfTextId: 49407 }, 512);
    expect(fixed.cutAfter).toBeNull();
    await fixed.run(packed([[320n, 1125n]]).buffer, 1);
    expect(fed).toEqual([[1, LENGTH]]);
  });
});
