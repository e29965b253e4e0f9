// The model a bench run loads. The full run uses ViT-B/32-shaped towers with random weights,
// built once by build-vit-b32-model.py into .bench/models/ (never committed), which cost what the
// real CLIP ViT-B/32 costs. Their files cannot match the real model's pinned sha256, so the bench
// hands openFindimage its own ModelSpec: clip-vit-b32's settings with these files' sizes and
// hashes. --quick uses the committed tiny test model from the registry.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { getModelSpec } from '../src/core/models/model-registry.js';
import type { ModelFile, ModelSpec } from '../src/core/models/model-spec.js';
import type { BenchModel } from './bench-options.js';

/** Debian's Python, which has python3-onnx; the pyenv python3 on PATH may not. */
const PYTHON = '/usr/bin/python3';
/** Written last by the builder: its presence means the build finished. */
const MANIFEST = 'manifest.json';
/** The id the random model runs under (payloads, store file name). */
export const RANDOM_VIT_B32_ID = 'vit-b32-random';

/** What openFindimage needs to load the bench's model. */
export interface BenchModelChoice {
  /** FINDIMAGE_* settings for loadConfig. */
  env: { FINDIMAGE_MODEL: string; FINDIMAGE_MODEL_DIR?: string };
  /** A spec to pass to openFindimage instead of the registry's; undefined uses the registry. */
  spec?: ModelSpec;
}

interface Manifest {
  textModel: ModelFile;
  visionModel: ModelFile;
  tokenizer: ModelFile;
}

/** Folder of the random ViT-B/32-shaped model under the repository. */
export function randomVitB32Dir(root: string): string {
  return join(root, '.bench', 'models', 'vit-b32-random');
}

/**
 * The graphs' layout build-vit-b32-model.py writes (its GRAPH_VERSION, kept in the manifest): a
 * folder built by an older script is rebuilt. 2: the text tower's sequence axis is dynamic, as
 * in optimum's CLIP export, so a search feeds it rows cut after their end token.
 */
const GRAPH_VERSION = 2;

/** Builds the random ViT-B/32-shaped model unless a finished build of this version is there (about 10 s). */
export function ensureRandomVitB32(root: string, log: (line: string) => void): string {
  const dir = randomVitB32Dir(root);
  const manifest = join(dir, MANIFEST);
  if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { graphVersion?: number }).graphVersion === GRAPH_VERSION) {
    return dir;
  }
  log(`Building the random ViT-B/32-shaped model into ${dir} (once; about 600 MB)...`);
  const built = spawnSync(PYTHON, [join(root, 'bench', 'build-vit-b32-model.py'), '--out', dir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (built.error !== undefined || built.status !== 0) {
    throw new Error(
      `Could not build the bench model with ${PYTHON} (${built.error?.message ?? `exit ${String(built.status)}`}). ` +
        "Install Debian's onnx and numpy: apt-get update && apt-get install -y python3-onnx python3-numpy",
    );
  }
  return dir;
}

/** clip-vit-b32's tensor names and preprocessing, with the random files' sizes and sha256. */
export function randomVitB32Spec(root: string, dir: string): ModelSpec {
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  const real = getModelSpec('clip-vit-b32');
  return {
    ...real,
    id: RANDOM_VIT_B32_ID,
    description: 'ViT-B/32-shaped CLIP with random weights, for benchmarks only: costs what clip-vit-b32 costs.',
    developmentOnly: true,
    source: { kind: 'bundled', dir: relative(root, dir) },
    files: { textModel: manifest.textModel, visionModel: manifest.visionModel, tokenizer: manifest.tokenizer },
  };
}

/** The id the int8 random model runs under. */
export const RANDOM_VIT_B32_Q8_ID = 'vit-b32-random-q8';

/**
 * The int8 copy of the random model (scripts/quantize-bench-model.py, which needs onnxruntime's
 * Python package): clip-vit-b32-q8's settings with those files' sizes and hashes.
 */
function randomVitB32Q8Choice(root: string): BenchModelChoice {
  const dir = join(root, '.bench', 'models', RANDOM_VIT_B32_Q8_ID);
  if (!existsSync(join(dir, MANIFEST))) {
    throw new Error(
      `No int8 bench model in ${dir}. Build the fp32 one (npm run bench -- --quick --model vit-b32-random), then: ` +
        'python3 -m venv /tmp/ort && /tmp/ort/bin/pip install onnxruntime onnx && /tmp/ort/bin/python scripts/quantize-bench-model.py',
    );
  }
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  const real = getModelSpec('clip-vit-b32-q8');
  const spec: ModelSpec = {
    ...real,
    id: RANDOM_VIT_B32_Q8_ID,
    description: 'ViT-B/32-shaped CLIP with random int8 weights, for benchmarks only: costs what clip-vit-b32-q8 costs.',
    developmentOnly: true,
    source: { kind: 'bundled', dir: relative(root, dir) },
    files: { textModel: manifest.textModel, visionModel: manifest.visionModel, tokenizer: manifest.tokenizer },
  };
  return { env: { FINDIMAGE_MODEL: RANDOM_VIT_B32_Q8_ID, FINDIMAGE_MODEL_DIR: dir }, spec };
}

/** Prepares the model files and says how openFindimage is to load them. */
export function chooseBenchModel(model: BenchModel, root: string, log: (line: string) => void): BenchModelChoice {
  if (model === 'tiny-test' || model === 'tiny-test-q8') return { env: { FINDIMAGE_MODEL: model } };
  if (model === 'vit-b32-random-q8') return randomVitB32Q8Choice(root);
  const dir = ensureRandomVitB32(root, log);
  return { env: { FINDIMAGE_MODEL: RANDOM_VIT_B32_ID, FINDIMAGE_MODEL_DIR: dir }, spec: randomVitB32Spec(root, dir) };
}
