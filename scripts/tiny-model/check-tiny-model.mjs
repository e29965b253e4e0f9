// Smoke check of the built fixture: both ONNX towers load in onnxruntime-node and return
// [batch, 512] unit vectors that depend on the input, and tokenizer.json gives CLIP's ids.
//   node scripts/tiny-model/check-tiny-model.mjs [models/tiny-test]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const dir = process.argv[2] ?? 'models/tiny-test';
const CONTEXT = 77;
const DIM = 512;
const BOS = 49406;
const EOS = 49407;
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

const tokenizer = new Tokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), {});
const cat = tokenizer.encode('a photo of a cat').ids;
check(JSON.stringify(cat) === JSON.stringify([BOS, 320, 1125, 539, 320, 2368, EOS]), `"a photo of a cat" -> ${cat}`);
for (const text of ['🐱 on a sofa', '猫の写真', '東京タワー']) {
  const ids = tokenizer.encode(text).ids;
  check(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 49408), `${text} -> ${ids}`);
}

function row(text) {
  const ids = tokenizer.encode(text).ids.slice(0, CONTEXT);
  while (ids.length < CONTEXT) ids.push(EOS);
  return ids;
}

function unitRows(data, batch) {
  const rows = [];
  for (let b = 0; b < batch; b++) {
    const v = data.subarray(b * DIM, (b + 1) * DIM);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    check(Math.abs(norm - 1) < 1e-5, `row ${b} norm ${norm.toFixed(7)}`);
    rows.push(v);
  }
  return rows;
}
const same = (a, b) => a.every((x, i) => Math.abs(x - b[i]) < 1e-6);

const text = await ort.InferenceSession.create(join(dir, 'onnx/text_model.onnx'));
const vision = await ort.InferenceSession.create(join(dir, 'onnx/vision_model.onnx'));
check(text.inputNames.join() === 'input_ids' && text.outputNames.join() === 'text_embeds', `text io ${text.inputNames} -> ${text.outputNames}`);
check(vision.inputNames.join() === 'pixel_values' && vision.outputNames.join() === 'image_embeds', `vision io ${vision.inputNames} -> ${vision.outputNames}`);

const texts = ['a photo of a cat', 'a photo of a dog', 'a cat photo of a'];
for (const batch of [1, 3]) {
  const ids = BigInt64Array.from(texts.slice(0, batch).flatMap(row), (x) => BigInt(x));
  const t0 = performance.now();
  const out = (await text.run({ input_ids: new ort.Tensor('int64', ids, [batch, CONTEXT]) })).text_embeds;
  const ms = performance.now() - t0;
  check(out.type === 'float32' && out.dims.join() === `${batch},${DIM}`, `text batch ${batch} dims ${out.dims} (${ms.toFixed(2)} ms)`);
  const rows = unitRows(out.data, batch);
  if (batch === 3) check(!same(rows[0], rows[1]) && !same(rows[0], rows[2]) && !same(rows[1], rows[2]), 'different texts give different vectors');
}

const SIZE = 3 * 224 * 224;
const pixels = new Float32Array(3 * SIZE);
let seed = 1;
for (let i = 0; i < pixels.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  pixels[i] = (seed / 2 ** 31) * 4 - 2;
}
for (const batch of [1, 3]) {
  const t0 = performance.now();
  const out = (await vision.run({ pixel_values: new ort.Tensor('float32', pixels.subarray(0, batch * SIZE), [batch, 3, 224, 224]) })).image_embeds;
  const ms = performance.now() - t0;
  check(out.type === 'float32' && out.dims.join() === `${batch},${DIM}`, `vision batch ${batch} dims ${out.dims} (${ms.toFixed(2)} ms)`);
  const rows = unitRows(out.data, batch);
  if (batch === 3) check(!same(rows[0], rows[1]) && !same(rows[1], rows[2]), 'different images give different vectors');
}
console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
