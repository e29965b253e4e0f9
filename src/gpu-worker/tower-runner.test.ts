// The tower runner at a graph's boundary: it reads the element types each session declares, feeds
// a float16 input the float16 bits of the float32 pixels, widens a float16 output before the L2
// normalisation, and refuses at load a graph whose embedding is neither float32 nor float16. Runs
// the committed tiny models' fp16 twins (one per style of fp16 export) in this thread.
import { fileURLToPath } from 'node:url';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphMismatch, TowerRunner, type TowerSpec } from './tower-runner.js';

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
