// `node --import tsx bench/text-rows.ts [--queries N]`: the text tower of the bench's ViT-B/32-shaped
// model (dynamic sequence axis) fed whole 77-id rows against rows cut after their end-of-text
// token, as the workers now feed a CLIP graph that allows it (tower-runner.ts). One session, the
// product's session options (weights prepacked, as a serving worker loads them), the two feeds
// alternating query by query; checks that both give the same vectors. Prints medians and p99s.
import { fileURLToPath } from 'node:url';
import { InferenceSession } from 'onnxruntime-node';
import { ClipTokenizer } from '../src/core/text/clip-tokenizer.js';
import { getModelSpec } from '../src/core/models/model-registry.js';
import { sessionOptions, threadsPerWorker } from '../src/gpu-worker/execution-providers.js';
import { TowerRunner } from '../src/gpu-worker/tower-runner.js';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureRandomVitB32 } from './bench-model.js';
import { describeMachine } from './machine-info.js';
import { percentile } from './latency-summary.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Queries of the lengths people type: two to a dozen words. */
const QUERIES = [
  'black car',
  'a dog on the beach',
  'whiteboard with the q3 roadmap',
  'screenshot of the login error in safari',
  'team photo at the offsite in lisbon last summer with everyone',
];

const { values } = parseArgs({ options: { queries: { type: 'string', default: '200' } } });
const count = Number(values.queries);
const dir = ensureRandomVitB32(ROOT, (line) => process.stderr.write(`${line}\n`));
const text = getModelSpec('clip-vit-b32').text;
const tokenizer = await ClipTokenizer.fromFile(join(dir, 'tokenizer.json'), text);
const session = await InferenceSession.create(
  join(dir, 'onnx', 'text_model.onnx'),
  sessionOptions({ provider: 'cpu', executionProviders: ['cpu'] }, threadsPerWorker(availableParallelism(), 1)),
);
const spec = { tower: 'text', inputName: text.inputName, outputName: text.outputName, contextLength: text.contextLength } as const;
const whole = new TowerRunner(session, spec, 512);
const cut = new TowerRunner(session, { ...spec, endOfTextId: text.eosId }, 512);
if (cut.cutAfter === null) throw new Error('the bench model has a fixed sequence axis: delete .bench/models/vit-b32-random to rebuild it');

const times = { whole: [] as number[], cut: [] as number[] };
let differing = 0;
for (let i = -10; i < count; i++) {
  const ids = tokenizer.encode(`a photo of ${QUERIES[((i % QUERIES.length) + QUERIES.length) % QUERIES.length]}`);
  const order = i % 2 === 0 ? (['whole', 'cut'] as const) : (['cut', 'whole'] as const);
  const vectors: Record<string, Float32Array> = {};
  for (const name of order) {
    const runner = name === 'whole' ? whole : cut;
    const started = performance.now();
    vectors[name] = await runner.run(ids.slice().buffer, 1);
    if (i >= 0) times[name].push(performance.now() - started);
  }
  if (vectors.whole!.some((value, k) => value !== vectors.cut![k])) differing++;
}
await session.release();

const at = (values: number[], percent: number) => percentile([...values].sort((a, b) => a - b), percent);
const line = (name: 'whole' | 'cut') =>
  `${name === 'whole' ? 'whole rows (77 ids)' : 'cut after the end token'}: p50 ${at(times[name], 50).toFixed(1)} ms, p99 ${at(times[name], 99).toFixed(1)} ms`;
const machine = describeMachine();
console.log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart}; ${count} queries each`);
console.log(line('whole'));
console.log(line('cut'));
console.log(`cut / whole p50: ${(at(times.cut, 50) / at(times.whole, 50)).toFixed(2)}x; vectors differing: ${differing} of ${count + 10}`);
