// The vision tower alone through ONNX Runtime, no pool: images per second at each batch size,
// on random CHW tensors held in host memory (each run copies its batch to the device, as the
// product does). The ceiling that bench/pool-throughput.ts's figures are compared against.
//   node --import tsx bench/gpu-model-throughput.ts --model-dir DIR [--device cuda|cpu]
//     [--batches 1,32,256] [--seconds 5] [--json]
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { disableOnnxTelemetry } from '../src/gpu-worker/onnx-telemetry.js';

const { values } = parseArgs({
  options: {
    'model-dir': { type: 'string' },
    device: { type: 'string', default: 'cuda' },
    batches: { type: 'string', default: '1,32,256' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const SIZE = 224;
/** Untimed runs per batch size: the first runs pick kernels and grow the arenas. */
const WARMUP_RUNS = 3;
/** Timed runs at least, however long they take. */
const MIN_RUNS = 3;

if (values['model-dir'] === undefined) throw new Error('--model-dir is required');
const device = values.device;
if (device !== 'cuda' && device !== 'cpu') throw new Error('--device must be cuda or cpu');
disableOnnxTelemetry();
const path = `${values['model-dir']}/onnx/vision_model.onnx`;
// CUDA alone, never a silent CPU fallback: a figure from the wrong device would mislead.
const session = await InferenceSession.create(path, {
  executionProviders: device === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : ['cpu'],
  graphOptimizationLevel: 'all',
});
const seconds = Number(values.seconds);
const results = [];
for (const batch of values.batches.split(',').map(Number)) {
  const data = new Float32Array(batch * 3 * SIZE * SIZE);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 2;
  const feeds = { [session.inputNames[0] as string]: new Tensor('float32', data, [batch, 3, SIZE, SIZE]) };
  for (let i = 0; i < WARMUP_RUNS; i++) await session.run(feeds);
  let runs = 0;
  const started = performance.now();
  while (runs < MIN_RUNS || performance.now() - started < seconds * 1000) {
    await session.run(feeds);
    runs++;
  }
  const elapsed = (performance.now() - started) / 1000;
  const result = { model: values['model-dir'], device, batch, runs, msPerBatch: (elapsed * 1000) / runs, imagesPerSecond: (batch * runs) / elapsed };
  results.push(result);
  process.stderr.write(`${values['model-dir']} ${device} batch ${batch}: ${result.imagesPerSecond.toFixed(0)} images/s (${result.msPerBatch.toFixed(2)} ms a batch)\n`);
}
await session.release();
if (values.json) for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
