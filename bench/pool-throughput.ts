// Images per second through the embedding pool at batch 1 and batch 8 (and any other sizes asked
// for), on preprocessed tensors, so the figure is the pool and the model without decoding.
//   node --import tsx bench/pool-throughput.ts [--model-dir models/tiny-test] [--images 400]
//     [--batches 1,8] [--workers 1] [--device auto|cpu|cuda:N]
import { parseArgs } from 'node:util';
import type { Device } from '../src/config.js';
import { createEmbeddingPool } from '../src/gpu-worker/embedding-pool.js';
import { createLogger } from '../src/logger.js';
import { describeMachine } from './machine-info.js';
import { randomPixels } from './random-pixels.js';

const { values } = parseArgs({
  options: {
    'model-dir': { type: 'string', default: 'models/tiny-test' },
    images: { type: 'string', default: '400' },
    batches: { type: 'string', default: '1,8' },
    workers: { type: 'string', default: '1' },
    device: { type: 'string', default: 'auto' },
  },
});

function parseDevice(text: string): Device {
  if (text === 'auto' || text === 'cpu') return { kind: text };
  const match = /^cuda(?::(\d+))?$/.exec(text);
  if (match === null) throw new Error(`--device must be auto, cpu or cuda:N, not ${text}`);
  return { kind: 'cuda', deviceId: Number(match[1] ?? 0) };
}

const modelDir = values['model-dir'];
const images = Number(values.images);
const workers = Number(values.workers);
const device = parseDevice(values.device);
const SIZE = 224;

console.log(JSON.stringify({ machine: describeMachine(), modelDir, images, workers, device }));
const inputs = randomPixels(Math.min(images, 64));
for (const maxBatch of values.batches.split(',').map(Number)) {
  const pool = await createEmbeddingPool({
    textModelPath: `${modelDir}/onnx/text_model.onnx`,
    visionModelPath: `${modelDir}/onnx/vision_model.onnx`,
    text: { inputName: 'input_ids', outputName: 'text_embeds', contextLength: 77 },
    vision: { inputName: 'pixel_values', outputName: 'image_embeds', imageSize: SIZE },
    dimension: 512,
    device,
    workers,
    maxBatch,
    batchWaitMs: 2,
    maxQueue: images,
    logger: createLogger({ level: 'warn', pretty: false }),
  });
  const embedAll = (count: number): Promise<Float32Array[]> =>
    Promise.all(Array.from({ length: count }, (_, i) => pool.embedPixels(inputs[i % inputs.length] as Float32Array)));
  await embedAll(Math.min(images, 4 * maxBatch)); // warm-up: first runs allocate and tune
  const before = pool.stats();
  const start = performance.now();
  await embedAll(images);
  const seconds = (performance.now() - start) / 1000;
  const after = pool.stats();
  const sizes: Record<string, number> = {};
  for (const [size, count] of Object.entries(after.batchSizes)) {
    const delta = count - (before.batchSizes[Number(size)] ?? 0);
    if (delta > 0) sizes[size] = delta;
  }
  console.log(
    JSON.stringify({
      provider: pool.provider,
      maxBatch,
      images,
      seconds: Number(seconds.toFixed(3)),
      imagesPerSecond: Number((images / seconds).toFixed(1)),
      batchSizes: sizes,
    }),
  );
  await pool.close();
}
