// Model-only speed of a model against its int8 variant, in one process: the ViT-B/32-shaped
// random model (fp32) and its dynamic-int8 copy (scripts/quantize-bench-model.py), each loaded in
// turn and timed in alternating rounds on the same preprocessed tensors and queries, so the ratio
// is fair under the machine's load. Also how far the int8 vectors move (cosine to fp32).
//   node --import tsx bench/model-variants.ts [--images 32] [--texts 64] [--rounds 3] [--quick]
// --quick compares tiny-test with tiny-test-q8 (seconds, for a smoke run).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import type { PreparedImage } from '../src/core/embedding/embedder.js';
import { openEmbedding, type OpenedEmbedding } from '../src/findimage.js';
import { createLogger } from '../src/logger.js';
import { chooseBenchModel } from './bench-model.js';
import type { BenchModel } from './bench-options.js';
import { describeMachine } from './machine-info.js';
import { randomImages } from './random-pixels.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '32' },
    texts: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
  },
});
const IMAGES = Number(values.images);
const TEXTS = Number(values.texts);
const ROUNDS = Number(values.rounds);
const PAIR: [BenchModel, BenchModel] = values.quick ? ['tiny-test', 'tiny-test-q8'] : ['vit-b32-random', 'vit-b32-random-q8'];
const log = (line: string) => process.stderr.write(`${line}\n`);

const texts = Array.from({ length: TEXTS }, (_, i) => `a photo of object number ${i} on a ${['red', 'blue', 'green'][i % 3]} table`);

async function open(model: BenchModel, dataDir: string): Promise<OpenedEmbedding> {
  const choice = chooseBenchModel(model, ROOT, log);
  const config = loadConfig({ ...choice.env, FINDIMAGE_DATA: dataDir, FINDIMAGE_CACHE: join(ROOT, '.bench', 'cache'), FINDIMAGE_DEVICE: 'cpu' });
  const logger = createLogger({ level: 'warn', pretty: false });
  const { findModelSpec } = await import('../src/core/models/registered-models.js');
  return openEmbedding({ config, logger, model: choice.spec ?? findModelSpec(config.model, dataDir) });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number);
  return dot;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  log(`${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAverageAtStart}; ${PAIR.join(' vs ')}, ${IMAGES} images and ${TEXTS} texts per round, ${ROUNDS} rounds`);
  const dataDir = await mkdtemp(join(tmpdir(), 'findimage-variants-'));
  const inputs = randomImages(IMAGES);
  const totals = PAIR.map(() => ({ imageMs: 0, textMs: 0 }));
  /** The first round's vectors of each model, for the cosine between fp32 and int8. */
  const vectors = PAIR.map(() => ({ images: [] as Float32Array[], texts: [] as Float32Array[] }));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // One model loaded at a time: an idle pool's ONNX threads would otherwise compete with the
      // timed one. Which model goes first alternates, so a load spike does not always land on one.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of order) {
        const embedding = await open(PAIR[index] as BenchModel, dataDir);
        try {
          // Warm-up: first runs allocate buffers.
          await embedding.embedder.embedImage(inputs[0] as PreparedImage);
          await embedding.embedder.embedQuery(texts[0] as string);
          const total = totals[index] as { imageMs: number; textMs: number };
          let started = performance.now();
          const imageVectors = await Promise.all(inputs.map((image) => embedding.embedder.embedImage(image, { lane: 'bulk' })));
          total.imageMs += performance.now() - started;
          started = performance.now();
          const textVectors = await Promise.all(texts.map((text) => embedding.embedder.embedQuery(text, { lane: 'bulk' })));
          total.textMs += performance.now() - started;
          if (round === 0) vectors[index] = { images: imageVectors, texts: textVectors };
        } finally {
          await embedding.embedder.close();
        }
      }
    }
    const [fp32, q8] = vectors as [{ images: Float32Array[]; texts: Float32Array[] }, { images: Float32Array[]; texts: Float32Array[] }];
    const imageCosines = fp32.images.map((v, i) => cosine(v, q8.images[i] as Float32Array));
    const textCosines = fp32.texts.map((v, i) => cosine(v, q8.texts[i] as Float32Array));
    const rates = totals.map((t) => ({ imagesPerSecond: (IMAGES * ROUNDS) / (t.imageMs / 1000), textsPerSecond: (TEXTS * ROUNDS) / (t.textMs / 1000) }));
    const result = {
      machine,
      models: PAIR,
      rates,
      q8OverFp32: { images: (rates[1]?.imagesPerSecond ?? 0) / (rates[0]?.imagesPerSecond ?? 1), texts: (rates[1]?.textsPerSecond ?? 0) / (rates[0]?.textsPerSecond ?? 1) },
      cosineToFp32: { imagesMin: Math.min(...imageCosines), textsMin: Math.min(...textCosines) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
