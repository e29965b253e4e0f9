// A local copy of each tower's ONNX graph with its weights moved to a separate data file, made by
// ONNX Runtime itself the first time a tower loads on the CPU and used from then on. A graph whose
// weights sit inside the .onnx protobuf is parsed and copied several times on every load (3 s of
// CPU for the ViT-B/32 text tower on the 2-core machine, mostly memmove and page faults); from
// the external data file ONNX Runtime maps the weights instead: 0.75 s and half the memory
// (docs/benchmarks.md, "Cold search"). Lives inside a worker thread.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import type { Tower } from './messages.js';

/** The graph file inside a cached folder; its weights are beside it in GRAPH_DATA_FILE. */
const GRAPH_FILE = 'model.onnx';
const GRAPH_DATA_FILE = 'model.onnx.data';
/**
 * Tensors at least this large go to the data file. Smaller ones (shapes, scalars) stay inline,
 * where ONNX Runtime's own constant folding expects them.
 */
const EXTERNAL_MIN_BYTES = 1024;

/** The onnxruntime-node version: a graph saved by one version is only read back by the same. */
const ORT_VERSION = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;

/** Where a source graph's cached copy lives, and whether it is there yet. */
export interface CachedGraph {
  /** The cached folder (absent until the first save has finished). */
  dir: string;
  /** The cached graph file to load. */
  path: string;
}

/**
 * The cached copy's place for `source`: named by the source file's path, size and modification
 * time and by ONNX Runtime's version, so a replaced model file or an upgraded runtime never reads
 * a copy made from something else.
 */
export async function cachedGraphFor(cacheDir: string, tower: Tower, source: string): Promise<CachedGraph> {
  const info = await stat(source);
  const key = createHash('sha256')
    .update(JSON.stringify([source, info.size, info.mtimeMs, ORT_VERSION]))
    .digest('hex')
    .slice(0, 24);
  const dir = join(cacheDir, `${tower}-${key}`);
  return { dir, path: join(dir, GRAPH_FILE) };
}

/**
 * Loads `source` once with ONNX Runtime's basic (hardware-independent) optimisations and has it
 * write the graph with external weights to a private folder, then renames that folder into
 * place: readers see a complete copy or none, and of two processes saving at once one wins and
 * the other's copy is dropped. The saving session is released; the caller loads the copy.
 */
export async function saveGraphCopy(source: string, graph: CachedGraph, options: InferenceSession.SessionOptions): Promise<void> {
  const staging = `${graph.dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  try {
    const saver = await InferenceSession.create(source, {
      ...options,
      graphOptimizationLevel: 'basic',
      optimizedModelFilePath: join(staging, GRAPH_FILE),
      extra: {
        ...options.extra,
        'session.optimized_model_external_initializers_file_name': GRAPH_DATA_FILE,
        'session.optimized_model_external_initializers_min_size_in_bytes': String(EXTERNAL_MIN_BYTES),
      },
    });
    await saver.release();
    await rename(staging, graph.dir).catch(async (error: unknown) => {
      // Another process put its copy there first: keep that one.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Removes a cached copy that could not be loaded, so the next load makes a fresh one. */
export async function dropGraphCopy(graph: CachedGraph): Promise<void> {
  await rm(graph.dir, { recursive: true, force: true });
}
