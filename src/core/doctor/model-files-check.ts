// The doctor's look at the model: every file of the configured model found where findimage would
// load it from, its size, and its sha256 against the registry's pin. A file already hashed and
// unchanged since (its verification stamp) is not hashed again unless a full re-hash is asked for.
import { stat } from 'node:fs/promises';
import { sha256OfFile } from '../models/file-digest.js';
import type { ModelLocator } from '../models/model-locator.js';
import type { ModelFile, ModelSpec } from '../models/model-spec.js';
import type { VerificationStamps } from '../models/verification-stamps.js';
import { fail, ok, warn, type Check, type CheckResult } from './check.js';

/**
 * Hashing ViT-B/32's 608 MB takes about 3 s from a warm page cache and 10-20 s from a cold
 * network disk; two minutes covers a slow disk without letting a stuck one hang the doctor.
 */
const MODEL_HASH_TIMEOUT_MS = 120_000;

const ROLES = ['textModel', 'visionModel', 'tokenizer'] as const;

export interface ModelFilesCheckOptions {
  /** The configured model (FINDIMAGE_MODEL). */
  spec: ModelSpec;
  /** Finds where the files would be loaded from. */
  locator: Pick<ModelLocator, 'places'>;
  /** Hashes already checked; a matching stamp spares a re-hash unless `fullHash`. */
  stamps: Pick<VerificationStamps, 'isVerified' | 'record'>;
  /** Hash every file again, whatever the stamps say (`findimage doctor --full`). */
  fullHash: boolean;
}

/** What one file turned out to be. */
type FileFinding =
  | { state: 'ok'; hashedNow: boolean }
  | { state: 'missing' }
  | { state: 'wrong-size'; path: string; actual: number }
  | { state: 'wrong-hash'; path: string; actual: string };

/** The check of the configured model's files. */
export function modelFilesCheck(options: ModelFilesCheckOptions): Check {
  return {
    name: 'model files',
    timeoutMs: MODEL_HASH_TIMEOUT_MS,
    run: (signal) => checkModelFiles(options, signal),
  };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

async function checkFile(path: string, file: ModelFile, options: ModelFilesCheckOptions, signal: AbortSignal): Promise<FileFinding> {
  const info = await stat(path);
  if (info.size !== file.size) return { state: 'wrong-size', path, actual: info.size };
  if (!options.fullHash && (await options.stamps.isVerified(path, file.sha256))) return { state: 'ok', hashedNow: false };
  const actual = await sha256OfFile(path, signal);
  if (actual !== file.sha256) return { state: 'wrong-hash', path, actual };
  // Out of time: the report says the check failed, so no stamp may say this file was verified.
  signal.throwIfAborted();
  await options.stamps.record(path, file.sha256);
  return { state: 'ok', hashedNow: true };
}

async function checkModelFiles(options: ModelFilesCheckOptions, signal: AbortSignal): Promise<CheckResult> {
  const { spec } = options;
  const places = options.locator.places(spec);
  const missing: string[] = [];
  const problems: string[] = [];
  let hashedNow = 0;
  for (const role of ROLES) {
    const file = spec.files[role];
    let path: string | undefined;
    for (const place of places) {
      if (await isFile(place.paths[role])) {
        path = place.paths[role];
        break;
      }
    }
    if (path === undefined) {
      missing.push(file.path);
      continue;
    }
    const finding = await checkFile(path, file, options, signal);
    if (finding.state === 'wrong-size') problems.push(`${finding.path} is ${finding.actual} bytes, the pinned ${file.path} is ${file.size}`);
    if (finding.state === 'wrong-hash') problems.push(`${finding.path} has sha256 ${finding.actual}, the pinned ${file.path} has ${file.sha256}`);
    if (finding.state === 'ok' && finding.hashedNow) hashedNow++;
  }
  if (problems.length > 0) {
    return fail(
      `model ${spec.id}: ${problems.join('; ')}`,
      spec.source.kind === 'huggingface'
        ? `Delete the damaged file and run "findimage model pull ${spec.id}" (or put an intact copy in FINDIMAGE_MODEL_DIR).`
        : `Restore the file (reinstall findimage, or run "findimage model add" again for a model of your own).`,
    );
  }
  if (missing.length === ROLES.length) {
    return fail(`model ${spec.id} is not on this machine`, `Run "findimage model pull ${spec.id}", or set FINDIMAGE_MODEL_DIR to a folder holding its files.`);
  }
  if (missing.length > 0) {
    return fail(`model ${spec.id} is incomplete: ${missing.join(', ')} missing`, `Run "findimage model pull ${spec.id}", or put the missing files in FINDIMAGE_MODEL_DIR.`);
  }
  const how = hashedNow === ROLES.length ? 'sha256 computed now' : hashedNow === 0 ? 'sha256 from verification stamps (--full re-hashes)' : `sha256 of ${hashedNow} computed now, the rest from stamps`;
  const result = ok(`model ${spec.id}: ${ROLES.length} files, sizes and sha256 match the pins (${how})`);
  if (spec.developmentOnly) {
    return warn(`${result.summary}; its weights are random, so results rank at random`, 'Set FINDIMAGE_MODEL to a real model (findimage model list) before real use.');
  }
  return result;
}
