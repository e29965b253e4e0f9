// `npm run bench -- fp16`: an fp16 model against its fp32 model, in one process, on the same
// inputs: the ViT-B/32-shaped random towers (bench/build-vit-b32-model.py) and their fp16 copy
// (bench/gpu-fp16-model.py: float16 weights, float32 inputs and outputs), loaded one at a time
// through findimage's pool and timed in alternating rounds, so the ratio holds under the machine's
// load. Also how far the fp16 vectors move (cosine to fp32) and what the worker's float32<->float16
// conversion at a graph's boundary costs per image (for exports whose inputs are float16).
//   npm run bench -- fp16 [--device cpu|cuda] [--images 8] [--texts 16] [--rounds 2] [--quick]
//       [--fp32-dir DIR --fp16-dir DIR] [--json]
// --quick compares tiny-test with its fp16 copy (seconds, a smoke run). bench/gpu.sh runs it on
// a GPU with --device cuda and its own folders.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import type { PreparedImage } from '../src/core/embedding/embedder.js';
import { getModelSpec } from '../src/core/models/model-registry.js';
import type { ModelFile, ModelSpec } from '../src/core/models/model-spec.js';
import { openEmbedding, type OpenedEmbedding } from '../src/findimage.js';
import { float32ToFloat16 } from '../src/gpu-worker/half-precision.js';
import { createLogger } from '../src/logger.js';
import { ensureRandomVitB32 } from './bench-model.js';
import { describeMachine, type MachineInfo } from './machine-info.js';
import { randomImages } from './random-pixels.js';

/** Debian's Python, which has python3-onnx; gpu.sh passes its own through GPU_PYTHON. */
const PYTHON = process.env.GPU_PYTHON ?? '/usr/bin/python3';
const MANIFEST = 'manifest.json';

/** Figures of one run, as --json prints them and docs/benchmarks.md quotes them. */
export interface Fp16BenchResult {
  /** Where it ran. */
  machine: MachineInfo;
  /** cpu or cuda, as asked. */
  device: string;
  /** The two model folders. */
  models: { fp32: string; fp16: string };
  /** Inputs per round and rounds. */
  counts: { images: number; texts: number; rounds: number };
  /** Throughput of each model, summed over the rounds. */
  rates: { fp32: Rates; fp16: Rates };
  /** fp16's throughput over fp32's: above 1, fp16 is faster. */
  fp16OverFp32: { images: number; texts: number };
  /** The lowest cosine between a vector of fp16 and of fp32 for the same input. */
  cosineToFp32: { imagesMin: number; textsMin: number };
  /** Median ms to convert one 3x224x224 image to float16 bits in JavaScript (float16-input exports). */
  boundaryConversionMsPerImage: number;
}

interface Rates {
  imagesPerSecond: number;
  textsPerSecond: number;
}

interface Manifest {
  textModel: ModelFile;
  visionModel: ModelFile;
  tokenizer: ModelFile;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number);
  return dot;
}

function convert(args: string[], log: (line: string) => void): void {
  log(`${PYTHON} bench/gpu-fp16-model.py ${args.join(' ')}`);
  const built = spawnSync(PYTHON, [join(dirname(import.meta.dirname), 'bench', 'gpu-fp16-model.py'), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.error !== undefined || built.status !== 0) {
    throw new Error(`bench/gpu-fp16-model.py failed (${built.error?.message ?? `exit ${String(built.status)}`}); it needs Python with onnx and numpy (GPU_PYTHON)`);
  }
}

/** The two folders to compare, built when missing. */
function modelDirs(root: string, quick: boolean, fp32Dir: string | undefined, fp16Dir: string | undefined, log: (line: string) => void): { fp32: string; fp16: string } {
  if (fp32Dir !== undefined && fp16Dir !== undefined) return { fp32: resolve(fp32Dir), fp16: resolve(fp16Dir) };
  const fp32 = quick ? join(root, '.bench', 'models', 'tiny-test-fp32') : ensureRandomVitB32(root, log);
  if (quick && !existsSync(join(fp32, MANIFEST))) convert(['--src', join(root, 'models', 'tiny-test'), '--out', fp32, '--dtype', 'float32'], log);
  const fp16 = join(root, '.bench', 'models', quick ? 'tiny-test-fp16' : 'vit-b32-random-fp16');
  if (!existsSync(join(fp16, MANIFEST))) convert(['--src', fp32, '--out', fp16], log);
  return { fp32, fp16 };
}

/** clip-vit-b32's settings with the folder's files; the fp16 one marked as clip-vit-b32's fp16 variant. */
function specFor(root: string, dir: string, precision: 'fp32' | 'fp16'): ModelSpec {
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  const base = getModelSpec(precision === 'fp16' ? 'clip-vit-b32-fp16' : 'clip-vit-b32');
  return {
    ...base,
    id: precision === 'fp16' ? 'bench-random-fp16' : 'bench-random',
    description: 'ViT-B/32-shaped CLIP with random weights, for benchmarks only.',
    developmentOnly: true,
    ...(precision === 'fp16' ? { variantOf: { model: 'bench-random', precision: 'fp16' as const } } : {}),
    source: { kind: 'bundled', dir: relative(root, dir) },
    files: { textModel: manifest.textModel, visionModel: manifest.visionModel, tokenizer: manifest.tokenizer },
  };
}

function medianMs(runs: number, work: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** Runs the comparison; returns the exit code. */
export async function runFp16Bench(argv: readonly string[], root: string, log: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      device: { type: 'string', default: 'cpu' },
      images: { type: 'string' },
      texts: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      quick: { type: 'boolean', default: false },
      'fp32-dir': { type: 'string' },
      'fp16-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const imageCount = Number(values.images ?? '8');
  const textCount = Number(values.texts ?? '16');
  const rounds = Number(values.rounds);
  const dirs = modelDirs(root, values.quick, values['fp32-dir'], values['fp16-dir'], log);
  const machine = describeMachine();
  log(`${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverageAtStart}; ${values.device}; fp32 ${dirs.fp32} vs fp16 ${dirs.fp16}; ${imageCount} images and ${textCount} texts per round, ${rounds} rounds`);
  const dataDir = await mkdtemp(join(tmpdir(), 'findimage-fp16-'));
  const inputs = randomImages(imageCount);
  const texts = Array.from({ length: textCount }, (_, i) => `a photo of object number ${i} on a ${['red', 'blue', 'green'][i % 3]} table`);
  const kinds = ['fp32', 'fp16'] as const;
  const totals = { fp32: { imageMs: 0, textMs: 0 }, fp16: { imageMs: 0, textMs: 0 } };
  const vectors = { fp32: { images: [] as Float32Array[], texts: [] as Float32Array[] }, fp16: { images: [] as Float32Array[], texts: [] as Float32Array[] } };
  // Warnings only: the fp16 model's "slower on the CPU" line shows as it would to a user.
  const logger = createLogger({ level: 'warn', pretty: false });
  try {
    for (let round = 0; round < rounds; round++) {
      // One model loaded at a time, first one alternating, so a load spike does not always land on one.
      for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
        const spec = specFor(root, dirs[kind], kind);
        const config = loadConfig({ FINDIMAGE_MODEL: spec.id, FINDIMAGE_MODEL_DIR: dirs[kind], FINDIMAGE_DATA: dataDir, FINDIMAGE_CACHE: join(root, '.bench', 'cache'), FINDIMAGE_DEVICE: values.device });
        const embedding: OpenedEmbedding = await openEmbedding({ config, logger, model: spec });
        try {
          await embedding.embedder.embedImage(inputs[0] as PreparedImage);
          await embedding.embedder.embedQuery(texts[0] as string);
          let started = performance.now();
          const imageVectors = await Promise.all(inputs.map((image) => embedding.embedder.embedImage(image, { lane: 'bulk' })));
          totals[kind].imageMs += performance.now() - started;
          started = performance.now();
          const textVectors = await Promise.all(texts.map((text) => embedding.embedder.embedQuery(text, { lane: 'bulk' })));
          totals[kind].textMs += performance.now() - started;
          if (round === 0) vectors[kind] = { images: imageVectors, texts: textVectors };
        } finally {
          await embedding.embedder.close();
        }
      }
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  const rate = (kind: 'fp32' | 'fp16'): Rates => ({
    imagesPerSecond: (imageCount * rounds) / (totals[kind].imageMs / 1000),
    textsPerSecond: (textCount * rounds) / (totals[kind].textMs / 1000),
  });
  const rates = { fp32: rate('fp32'), fp16: rate('fp16') };
  const pixels = (inputs[0] as PreparedImage).pixels as Float32Array;
  const result: Fp16BenchResult = {
    machine,
    device: values.device,
    models: { fp32: relative(root, dirs.fp32), fp16: relative(root, dirs.fp16) },
    counts: { images: imageCount, texts: textCount, rounds },
    rates,
    fp16OverFp32: { images: rates.fp16.imagesPerSecond / rates.fp32.imagesPerSecond, texts: rates.fp16.textsPerSecond / rates.fp32.textsPerSecond },
    cosineToFp32: {
      imagesMin: Math.min(...vectors.fp32.images.map((v, i) => cosine(v, vectors.fp16.images[i] as Float32Array))),
      textsMin: Math.min(...vectors.fp32.texts.map((v, i) => cosine(v, vectors.fp16.texts[i] as Float32Array))),
    },
    boundaryConversionMsPerImage: medianMs(21, () => float32ToFloat16(pixels)),
  };
  if (values.out !== undefined) {
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(
    [
      `fp16 against fp32 on ${values.device} (${result.models.fp32} / ${result.models.fp16})`,
      `  images/s   fp32 ${f(rates.fp32.imagesPerSecond)}   fp16 ${f(rates.fp16.imagesPerSecond)}   fp16/fp32 ${result.fp16OverFp32.images.toFixed(2)}`,
      `  texts/s    fp32 ${f(rates.fp32.textsPerSecond)}   fp16 ${f(rates.fp16.textsPerSecond)}   fp16/fp32 ${result.fp16OverFp32.texts.toFixed(2)}`,
      `  lowest cosine fp16 to fp32: images ${result.cosineToFp32.imagesMin.toFixed(5)}, texts ${result.cosineToFp32.textsMin.toFixed(5)}`,
      `  float32 -> float16 conversion of one 3x224x224 image in JavaScript: ${result.boundaryConversionMsPerImage.toFixed(2)} ms`,
      '',
    ].join('\n'),
  );
  return 0;
}
