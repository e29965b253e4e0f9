// Models registered with `findimage model add`, kept in FINDIMAGE_DATA/registered-models.json:
// each one's full spec (files pinned by size and sha256 at registration, source the folder it
// was added from). The registry looks here after its built-in models, so FINDIMAGE_MODEL,
// --model and eval --models accept these names too.
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelError } from '../errors.js';
import { MODEL_REGISTRY, getModelSpec } from './model-registry.js';
import type { ModelSpec } from './model-spec.js';

/** File name of the list under FINDIMAGE_DATA. */
export const REGISTERED_MODELS_FILE = 'registered-models.json';

/** What the file holds. */
interface RegisteredModelsFile {
  /** Format version, so a later findimage can read an older list. */
  version: 1;
  /** One spec per registered model, in the order they were first added. */
  models: ModelSpec[];
}

/** Path of the list of registered models for a data folder. */
export function registeredModelsPath(dataDir: string): string {
  return join(dataDir, REGISTERED_MODELS_FILE);
}

/**
 * The models registered in `dataDir`, or none when nothing was ever added. Read synchronously:
 * it is a small file read once when a command picks its model. Throws ModelError when the file
 * is unreadable, saying how to recover.
 */
export function loadRegisteredModels(dataDir: string): ModelSpec[] {
  const path = registeredModelsPath(dataDir);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ModelError('model_load_failed', `Could not read ${path}: ${(error as Error).message}.`, { cause: error, details: { path } });
  }
  try {
    const parsed = JSON.parse(source) as Partial<RegisteredModelsFile>;
    if (parsed.version !== 1 || !Array.isArray(parsed.models)) throw new Error('it is not a version 1 list of models');
    return parsed.models;
  } catch (error) {
    throw new ModelError(
      'model_load_failed',
      `${path} is damaged (${(error as Error).message}). Delete it and run "findimage model add <dir>" again for each model you had added.`,
      { cause: error, details: { path } },
    );
  }
}

/**
 * Adds `spec` to the list in `dataDir`, replacing a model of the same name. Written to a
 * temporary file and renamed, so a crash never leaves half a list. Returns true when an
 * earlier registration was replaced.
 */
export async function saveRegisteredModel(dataDir: string, spec: ModelSpec): Promise<boolean> {
  const models = loadRegisteredModels(dataDir);
  const index = models.findIndex((m) => m.id === spec.id);
  if (index >= 0) models[index] = spec;
  else models.push(spec);
  const path = registeredModelsPath(dataDir);
  await mkdir(dirname(path), { recursive: true });
  const file: RegisteredModelsFile = { version: 1, models };
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`);
  await rename(temporary, path);
  return index >= 0;
}

/** The ids of the built-in models, which a registered model may not take. */
export function builtInModelIds(): string[] {
  return MODEL_REGISTRY.map((m) => m.id);
}

/**
 * The model FINDIMAGE_MODEL, --model or eval --models names: a built-in one, or one registered
 * in `dataDir`. Throws ModelError 'model_unknown' listing both.
 */
export function findModelSpec(id: string, dataDir: string): ModelSpec {
  return getModelSpec(id, loadRegisteredModels(dataDir));
}
