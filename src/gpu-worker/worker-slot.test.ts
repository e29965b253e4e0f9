// One worker thread as the pool drives it: tensors are handed over, not copied.
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import type { BatchDoneMessage, BatchFailedMessage, WorkerSetup } from './messages.js';
import { defaultWorkerUrl } from './worker-entry.js';
import { WorkerSlot } from './worker-slot.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-test/onnx/', import.meta.url));
const SETUP: WorkerSetup = {
  textModelPath: `${MODEL_DIR}text_model.onnx`,
  visionModelPath: `${MODEL_DIR}vision_model.onnx`,
  text: { inputName: 'input_ids', outputName: 'text_embeds', contextLength: 77 },
  vision: { inputName: 'pixel_values', outputName: 'image_embeds', imageSize: 224 },
  dimension: 512,
  device: { kind: 'cpu' },
  intraOpNumThreads: 1,
};

let slot: WorkerSlot | undefined;
afterEach(async () => {
  await slot?.terminate();
});

test('transfers the batch buffer to the worker (no copy left behind) and gets unit rows back', async () => {
  let answer: (value: BatchDoneMessage | BatchFailedMessage) => void = () => undefined;
  const answered = new Promise<BatchDoneMessage | BatchFailedMessage>((resolve) => {
    answer = resolve;
  });
  slot = new WorkerSlot(0, defaultWorkerUrl(), SETUP, {
    onAnswer: (_slot, message) => answer(message),
    onCrash: () => undefined,
  });
  await expect(slot.ready).resolves.toEqual({
    type: 'ready',
    provider: 'cpu',
    towers: ['text', 'vision'],
    elementTypes: { text: { input: null, output: 'float32' }, vision: { input: 'float32', output: 'float32' } },
  });
  expect(slot.state).toBe('idle');

  const data = new Float32Array(2 * 3 * 224 * 224).fill(0.5).buffer;
  slot.run({ type: 'run', batchId: 7, tower: 'vision', rows: 2, data });
  expect(data.byteLength).toBe(0);
  expect(slot.state).toBe('busy');

  const message = await answered;
  expect(message.type).toBe('done');
  const rows = new Float32Array((message as BatchDoneMessage).data);
  expect(rows).toHaveLength(2 * 512);
  const first = rows.subarray(0, 512);
  expect(Math.sqrt(first.reduce((s, v) => s + v * v, 0))).toBeCloseTo(1, 5);
  expect(slot.state).toBe('idle');
});

test('a batch the model rejects comes back as failed and leaves the worker usable', async () => {
  const answers: Array<BatchDoneMessage | BatchFailedMessage> = [];
  let wake: () => void = () => undefined;
  slot = new WorkerSlot(1, defaultWorkerUrl(), SETUP, {
    onAnswer: (_slot, message) => {
      answers.push(message);
      wake();
    },
    onCrash: () => undefined,
  });
  await slot.ready;
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  // 3 rows declared but data for 1: ONNX Runtime refuses the tensor.
  let waiting = next();
  slot.run({ type: 'run', batchId: 1, tower: 'text', rows: 3, data: new BigInt64Array(77).fill(1n).buffer });
  await waiting;
  expect(answers[0]).toMatchObject({ type: 'failed', batchId: 1 });
  waiting = next();
  slot.run({ type: 'run', batchId: 2, tower: 'text', rows: 1, data: new BigInt64Array(77).fill(1n).buffer });
  await waiting;
  expect(answers[1]).toMatchObject({ type: 'done', batchId: 2 });
});
