// Reads what bench/gpu.sh wrote and prints it as a table against issue 11's GPU goals.
//   node --import tsx bench/gpu-summary.ts DIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Issue 11's goals on a GPU. */
const GOAL_FP16_MODEL_ONLY = 15_000;
const GOAL_END_TO_END = 3_000;
const GOAL_P99_RATIO = 1.5;

interface ModelLine { model: string; device: string; batch: number; imagesPerSecond: number; msPerBatch: number }
interface PoolLine { modelDir?: string; provider?: string; maxBatch?: number; imagesPerSecond?: number }
interface Rate { images: number; imagesPerSecond: number }
interface EndToEnd { provider: string; inFlight: number; uvThreadpoolSize: string; decodeOnly: Rate; modelOnly: Rate; endToEnd: Rate }
interface Summary { p50: number; p99: number; count: number }
interface Fp16 { device: string; rates: { fp32: { imagesPerSecond: number; textsPerSecond: number }; fp16: { imagesPerSecond: number; textsPerSecond: number } }; fp16OverFp32: { images: number; texts: number }; cosineToFp32: { imagesMin: number; textsMin: number } }
interface Latency { idle: Summary; loaded: Summary; p99Ratio: number; p50Ratio: number; bulkImagesPerSecond: number; vectors: number }

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: gpu-summary.ts DIR');
/** The JSON lines of a step's file; none when the step failed before writing any. */
const lines = <T>(name: string): T[] =>
  existsSync(join(dir, name))
    ? readFileSync(join(dir, name), 'utf8').split('\n').filter((line) => line.trim().startsWith('{')).map((line) => JSON.parse(line) as T)
    : [];
const precision = (path: string | undefined): string => (path?.includes('fp16') ? 'fp16' : 'fp32');
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const out: string[] = [];

const model = lines<ModelLine>('model.jsonl');
const pool = lines<PoolLine>('pool.jsonl').filter((line) => line.maxBatch !== undefined);
out.push('Vision tower images/s (model only)', '  precision | batch | ONNX Runtime alone | through the pool');
for (const line of model) {
  const pooled = pool.find((p) => precision(p.modelDir) === precision(line.model) && p.maxBatch === line.batch);
  out.push(
    `  ${precision(line.model).padEnd(9)} | ${String(line.batch).padStart(5)} | ${line.imagesPerSecond.toFixed(0).padStart(18)} | ${(pooled?.imagesPerSecond?.toFixed(0) ?? '-').padStart(16)}`,
  );
}
const fp16Best = Math.max(0, ...pool.filter((p) => precision(p.modelDir) === 'fp16').map((p) => p.imagesPerSecond ?? 0));
const fp16Raw = Math.max(0, ...model.filter((m) => precision(m.model) === 'fp16').map((m) => m.imagesPerSecond));

const e2e = lines<EndToEnd>('end-to-end.json')[0];
const latency = lines<Latency>('latency.json')[0];
if (e2e === undefined) out.push('', 'End to end: no result (the step failed; see its output above)');
else out.push(
  '',
  `End to end, 1-2 MP JPEGs (${e2e.provider}, ${e2e.inFlight} in flight, UV_THREADPOOL_SIZE ${e2e.uvThreadpoolSize})`,
  `  decode + preprocess only: ${e2e.decodeOnly.imagesPerSecond.toFixed(0)} images/s`,
  `  model only (pool):        ${e2e.modelOnly.imagesPerSecond.toFixed(0)} images/s`,
  `  end to end (indexer):     ${e2e.endToEnd.imagesPerSecond.toFixed(0)} images/s (${e2e.endToEnd.images} images)`,
);

if (latency === undefined) out.push('', 'Search latency: no result (the step failed; see its output above)');
else out.push(
  '',
  `Search latency at ${latency.vectors} vectors, ms (bulk index at ${latency.bulkImagesPerSecond.toFixed(0)} images/s)`,
  `  idle   p50 ${latency.idle.p50.toFixed(1)}  p99 ${latency.idle.p99.toFixed(1)}  (${latency.idle.count} queries)`,
  `  loaded p50 ${latency.loaded.p50.toFixed(1)}  p99 ${latency.loaded.p99.toFixed(1)}  (${latency.loaded.count} queries)`,
  `  loaded / idle: p50 ${latency.p50Ratio.toFixed(2)}x, p99 ${latency.p99Ratio.toFixed(2)}x`,
);
const fp16 = lines<Fp16>('fp16.json')[0];
if (fp16 === undefined) out.push('', 'fp16 against fp32 through findimage: no result (the step failed; see its output above)');
else out.push(
  '',
  `fp16 against fp32 through findimage (${fp16.device}, npm run bench -- fp16)`,
  `  images/s fp32 ${fp16.rates.fp32.imagesPerSecond.toFixed(0)}, fp16 ${fp16.rates.fp16.imagesPerSecond.toFixed(0)}: fp16/fp32 ${fp16.fp16OverFp32.images.toFixed(2)}`,
  `  texts/s  fp32 ${fp16.rates.fp32.textsPerSecond.toFixed(0)}, fp16 ${fp16.rates.fp16.textsPerSecond.toFixed(0)}: fp16/fp32 ${fp16.fp16OverFp32.texts.toFixed(2)}`,
  `  lowest cosine to fp32: images ${fp16.cosineToFp32.imagesMin.toFixed(5)}, texts ${fp16.cosineToFp32.textsMin.toFixed(5)}`,
);
const onGpu = e2e?.provider === 'cuda' || model.some((m) => m.device === 'cuda');
const e2eRate = e2e?.endToEnd.imagesPerSecond ?? Number.NaN;
const ratio = latency?.p99Ratio ?? Number.NaN;
out.push(
  '',
  onGpu ? 'Goals (issue 11, on a GPU)' : 'Goals (issue 11, on a GPU; this ran on the CPU, so the verdicts only show the script works)',
  `  fp16 model only >= ${GOAL_FP16_MODEL_ONLY}/s: pool ${fp16Best.toFixed(0)}/s ${verdict(fp16Best >= GOAL_FP16_MODEL_ONLY)}; ONNX Runtime alone ${fp16Raw.toFixed(0)}/s ${verdict(fp16Raw >= GOAL_FP16_MODEL_ONLY)}`,
  `  end to end >= ${GOAL_END_TO_END}/s: ${e2eRate.toFixed(0)}/s ${verdict(e2eRate >= GOAL_END_TO_END)}`,
  `  search p99 under bulk <= ${GOAL_P99_RATIO}x idle: ${ratio.toFixed(2)}x ${verdict(ratio <= GOAL_P99_RATIO)}`,
);
process.stdout.write(`${out.join('\n')}\n`);
