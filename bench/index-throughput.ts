// Indexing throughput: 12-megapixel JPEGs end to end through `findimage index` (read, decode,
// embed, store), against the model alone on tensors that are already preprocessed. The ratio
// says how well decoding overlaps inference.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runIndex } from '../src/cli/commands/index-command.js';
import type { Terminal } from '../src/cli/terminal.js';
import type { PreparedImage } from '../src/core/embedding/embedder.js';
import { ImageIndexer } from '../src/core/indexing/image-indexer.js';
import { createLogger } from '../src/logger.js';
import type { Findimage } from '../src/findimage.js';
import { withComment } from './jpeg-corpus.js';

/** A rate: how many images in how long. */
export interface Rate {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /**
   * CPU time of the whole process meanwhile (every thread: sharp's, the pool's workers), seconds.
   * Other processes on a shared machine slow the clock, not this: CPU per image compares runs
   * made under different load.
   */
  cpuSeconds?: number;
}

export interface ThroughputResult {
  /** `findimage index` on folders of new 12 MP JPEGs, summed over the rounds. */
  endToEnd: Rate;
  /** embedder.embedImage on preprocessed tensors, all submitted at once, summed over the rounds. */
  modelOnly: Rate;
  /** Decoding and preprocessing alone (prepareImage), as many in flight as the index uses. */
  preprocessOnly: Rate;
  /** endToEnd / modelOnly images per second. */
  ratio: number;
  /**
   * The best ratio possible when decoding and inference both need every core (CPU inference):
   * 1 / (1 + modelOnly rate / preprocessOnly rate). Only a separate device (a GPU) lifts it.
   */
  sharedCoreCeiling: number;
}

export interface ThroughputOptions {
  findimage: Findimage;
  photos: readonly Uint8Array[];
  /** Scratch folder for the round folders (deleted afterwards). */
  workDir: string;
  /** Alternating end-to-end and model-only rounds: alternation spreads other load on a shared machine over both. */
  rounds: number;
  /** Model-only tensors per round, as multiples of the photo count. */
  modelCopies: number;
  /** Makes this run's images new to the store. */
  label: string;
  /**
   * Preprocessing to measure instead of findimage's own (end to end through an indexer that uses
   * it, and decode only): `npm run bench -- index` passes the full-size decode for its "before".
   */
  prepare?: (bytes: Uint8Array) => Promise<PreparedImage>;
}

/** Preprocessing concurrency for the decode-only figure: that of `findimage index`. */
const PREPROCESS_IN_FLIGHT = 6;

const SILENT_TERMINAL: Terminal = {
  out: () => {},
  err: () => {},
  progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
};

function rate(images: number, ms: number, cpuMs?: number): Rate {
  return { images, seconds: ms / 1000, imagesPerSecond: (images * 1000) / ms, ...(cpuMs === undefined ? {} : { cpuSeconds: cpuMs / 1000 }) };
}

/** Runs `work` and adds the process's CPU time meanwhile to `total.cpuMs`; resolves to its result. */
async function countingCpu<T>(total: { cpuMs: number }, work: () => Promise<T>): Promise<T> {
  const before = process.cpuUsage();
  try {
    return await work();
  } finally {
    const used = process.cpuUsage(before);
    total.cpuMs += (used.user + used.system) / 1000;
  }
}

async function writeRoundFolder(dir: string, photos: readonly Uint8Array[], label: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [i, photo] of photos.entries()) {
    await writeFile(join(dir, `photo-${String(i).padStart(2, '0')}.jpg`), withComment(photo, `${label} ${i}`));
  }
}

async function timeEndToEnd(findimage: Findimage, dir: string, expected: number, indexer?: ImageIndexer): Promise<number> {
  const started = performance.now();
  const summary = await runIndex(findimage, dir, SILENT_TERMINAL, indexer === undefined ? {} : { indexer });
  const elapsed = performance.now() - started;
  if (summary.indexed !== expected) {
    throw new Error(
      `expected ${expected} new images in ${dir}, indexed ${summary.indexed} (duplicates ${summary.duplicates}, skipped ${summary.skipped.length})`,
    );
  }
  return elapsed;
}

async function timeModelOnly(findimage: Findimage, prepared: readonly PreparedImage[], copies: number): Promise<number> {
  // The pool transfers each tensor's buffer to its worker, so every call needs its own copy;
  // copies are made before the clock starts.
  const inputs: PreparedImage[] = [];
  for (let c = 0; c < copies; c++) for (const image of prepared) inputs.push({ ...image, pixels: image.pixels.slice() });
  const started = performance.now();
  await Promise.all(inputs.map((image) => findimage.embedder.embedImage(image, { lane: 'bulk' })));
  return performance.now() - started;
}

async function timePreprocess(
  prepare: (bytes: Uint8Array) => Promise<PreparedImage>,
  photos: readonly Uint8Array[],
): Promise<{ ms: number; prepared: PreparedImage[] }> {
  const prepared: PreparedImage[] = new Array(photos.length);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < photos.length) {
      const i = next++;
      prepared[i] = await prepare(photos[i] as Uint8Array);
    }
  };
  await Promise.all(Array.from({ length: PREPROCESS_IN_FLIGHT }, worker));
  return { ms: performance.now() - started, prepared };
}

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { findimage, photos, workDir, rounds, modelCopies, label } = options;
  const prepare = options.prepare ?? findimage.prepareImage;
  // The same store, embedder and batching as findimage's own indexer, with the other preprocessing.
  const indexer =
    options.prepare === undefined
      ? undefined
      : new ImageIndexer({
          embedder: findimage.embedder,
          store: findimage.store,
          prepare: options.prepare,
          batching: findimage.indexer.batching,
          logger: createLogger({ level: 'warn', pretty: false }),
        });
  const { prepared } = await timePreprocess(prepare, photos);

  // Warm-up, untimed: the first vision batches allocate ONNX Runtime's arenas.
  await timeModelOnly(findimage, prepared, 1);

  let endToEndMs = 0;
  let modelMs = 0;
  let preprocessMs = 0;
  const cpu = { endToEnd: { cpuMs: 0 }, model: { cpuMs: 0 }, preprocess: { cpuMs: 0 } };
  try {
    for (let round = 0; round < rounds; round++) {
      const dir = join(workDir, `round-${round}`);
      await writeRoundFolder(dir, photos, `${label} round ${round}`);
      endToEndMs += await countingCpu(cpu.endToEnd, () => timeEndToEnd(findimage, dir, photos.length, indexer));
      modelMs += await countingCpu(cpu.model, () => timeModelOnly(findimage, prepared, modelCopies));
      preprocessMs += (await countingCpu(cpu.preprocess, () => timePreprocess(prepare, photos))).ms;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const endToEnd = rate(photos.length * rounds, endToEndMs, cpu.endToEnd.cpuMs);
  const modelOnly = rate(prepared.length * modelCopies * rounds, modelMs, cpu.model.cpuMs);
  const preprocessOnly = rate(photos.length * rounds, preprocessMs, cpu.preprocess.cpuMs);
  return {
    endToEnd,
    modelOnly,
    preprocessOnly,
    ratio: endToEnd.imagesPerSecond / modelOnly.imagesPerSecond,
    sharedCoreCeiling: 1 / (1 + modelOnly.imagesPerSecond / preprocessOnly.imagesPerSecond),
  };
}
