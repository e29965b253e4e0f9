// Finds a model's three files on this machine: FINDIMAGE_MODEL_DIR first, then the download cache,
// then the folder bundled in the package; downloads into the cache when allowed. Every file is
// checked by size on every start and by sha256 once; what to do when it fails is spelled out.
import { rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { FindimageError, ModelError } from '../errors.js';
import type { DownloadProgressListener } from './download-progress.js';
import { ModelFetcher, hubCachePath, hubFileUrl } from './model-fetcher.js';
import { ModelFileVerifier, describeMismatch } from './model-file-verifier.js';
import type { ModelFile, ModelFilePaths, ModelSpec } from './model-spec.js';
import { packageRoot } from './package-root.js';
import { VerificationStamps } from './verification-stamps.js';

/** The three roles a model file plays, in the order they are looked up and reported. */
const ROLES = ['textModel', 'visionModel', 'tokenizer'] as const;

/** The id of the bundled random-weight model suggested when a real one cannot be had. */
const FALLBACK_MODEL_ID = 'tiny-test';

export interface ModelLocatorOptions {
  /** FINDIMAGE_MODEL_DIR: a folder laid out like the repository, or flat with the same names. */
  modelDir?: string;
  /** FINDIMAGE_CACHE: where downloads go and where verification stamps are kept. */
  cacheDir: string;
  /** FINDIMAGE_MODEL_URL: the hub or a mirror. */
  baseUrl: string;
  /** Logs where the model was found and any download. */
  logger: Logger;
  /** False forbids network access: only files already on disk are used. Default true. */
  allowDownload?: boolean;
  /** Told as download bytes arrive. */
  onProgress?: DownloadProgressListener;
  /** Tries per file before a download gives up (tests shorten this). */
  maxAttempts?: number;
  /** First retry delay in ms (tests shorten this). */
  retryDelayMs?: number;
  /** Root that bundled sources are relative to; defaults to the findimage package root. */
  bundleRoot?: string;
}

/** Where a model was found, for `findimage model list`. */
export type ModelLocation = 'model-dir' | 'cache' | 'bundled' | 'missing';

/**
 * Where a file may sit under FINDIMAGE_MODEL_DIR, in lookup order: at its repository path
 * (onnx/vision_model.onnx), then directly in the folder. The loader and the doctor both use it.
 */
const MODEL_DIR_SPELLINGS: ReadonlyArray<(dir: string, file: ModelFile) => string> = [
  (dir, file) => resolve(dir, file.path),
  (dir, file) => resolve(dir, basename(file.path)),
];

/** A model's presence on this machine, judged by file sizes only (no hashing, no network). */
export interface ModelStatus {
  /** Where all three files were found, or "missing". */
  location: ModelLocation;
  /** Their paths when found. */
  paths?: ModelFilePaths;
  /** Bytes a download of the whole model takes (0 for bundled models). */
  downloadBytes: number;
}

/** Finds, verifies and (when allowed) downloads model files. */
export class ModelLocator {
  private readonly options: ModelLocatorOptions;
  private readonly logger: Logger;
  private readonly verifier: ModelFileVerifier;

  constructor(options: ModelLocatorOptions) {
    this.options = options;
    this.logger = options.logger;
    this.verifier = new ModelFileVerifier({
      stamps: new VerificationStamps({ cacheDir: options.cacheDir, logger: options.logger }),
    });
  }

  /**
   * Absolute, verified paths of the model's files. Throws ModelError: 'model_checksum_mismatch'
   * for a damaged file (naming it), 'model_missing' when the model is absent and downloads are
   * off, 'model_download_failed' when the download failed; the message says what to do.
   */
  async locate(spec: ModelSpec, signal?: AbortSignal): Promise<ModelFilePaths> {
    const fromDir = await this.fromModelDir(spec);
    if (fromDir !== undefined) return fromDir;

    const source = spec.source;
    if (source.kind === 'bundled') return this.fromBundle(spec, source.dir);

    const cached = await this.fromCache(spec, source);
    if (cached !== undefined) return cached;

    if (this.options.allowDownload === false) {
      throw new ModelError('model_missing', missingModelMessage(spec, this.options, 'downloads are turned off'), {
        details: { model: spec.id },
      });
    }
    const fetcher = new ModelFetcher({
      baseUrl: this.options.baseUrl,
      cacheDir: this.options.cacheDir,
      logger: this.logger,
      onProgress: this.options.onProgress,
      maxAttempts: this.options.maxAttempts,
      retryDelayMs: this.options.retryDelayMs,
      verifier: this.verifier,
    });
    try {
      return await fetcher.fetchModel(spec, signal);
    } catch (error) {
      if (error instanceof FindimageError && error.code === 'model_download_failed') {
        throw new ModelError('model_download_failed', missingModelMessage(spec, this.options, error.message), {
          cause: error,
          details: { model: spec.id, ...error.details },
        });
      }
      throw error;
    } finally {
      await fetcher.close();
    }
  }

  /** Where the model's files are, judged by presence and size only; never downloads. */
  async status(spec: ModelSpec): Promise<ModelStatus> {
    const downloadBytes = spec.source.kind === 'bundled' ? 0 : totalBytes(spec);
    const candidates: Array<[ModelLocation, ModelFilePaths | undefined]> = [];
    if (this.options.modelDir !== undefined) candidates.push(['model-dir', await this.findInDir(spec, this.options.modelDir)]);
    const own = this.ownPlace(spec);
    candidates.push([own.location, own.paths]);
    for (const [location, paths] of candidates) {
      if (paths !== undefined && (await this.sizesMatch(spec, paths))) return { location, paths, downloadBytes };
    }
    return { location: 'missing', downloadBytes };
  }

  /**
   * Where the model's files would be found, in lookup order (FINDIMAGE_MODEL_DIR, then the cache
   * or the bundled folder), whether or not they are there: `findimage doctor` checks each file
   * where it is first found.
   */
  places(spec: ModelSpec): Array<{ location: Exclude<ModelLocation, 'missing'>; paths: ModelFilePaths }> {
    const places: Array<{ location: Exclude<ModelLocation, 'missing'>; paths: ModelFilePaths }> = [];
    const dir = this.options.modelDir;
    // Each spelling findInDir tries, in its order.
    if (dir !== undefined) {
      for (const spelling of MODEL_DIR_SPELLINGS) places.push({ location: 'model-dir', paths: this.pathsIn(spec, (file) => spelling(dir, file)) });
    }
    places.push(this.ownPlace(spec));
    return places;
  }

  /** Where the model's own copy is: its bundled folder, or the download cache. */
  private ownPlace(spec: ModelSpec): { location: 'bundled' | 'cache'; paths: ModelFilePaths } {
    const source = spec.source;
    return source.kind === 'bundled'
      ? { location: 'bundled', paths: this.pathsIn(spec, (file) => resolve(this.bundleRoot(), source.dir, file.path)) }
      : { location: 'cache', paths: this.pathsIn(spec, (file) => hubCachePath(this.options.cacheDir, source, file)) };
  }

  private async fromModelDir(spec: ModelSpec): Promise<ModelFilePaths | undefined> {
    const dir = this.options.modelDir;
    if (dir === undefined) return undefined;
    const paths = await this.findInDir(spec, dir);
    if (paths === undefined) {
      this.logger.info({ modelDir: dir, model: spec.id }, 'FINDIMAGE_MODEL_DIR holds none of this model\'s files; looking elsewhere');
      return undefined;
    }
    for (const role of ROLES) {
      const file = spec.files[role];
      const check = await this.verifier.check(paths[role], file);
      if (check.state !== 'ok') {
        throw new ModelError(
          'model_checksum_mismatch',
          `${paths[role]} in FINDIMAGE_MODEL_DIR is not the ${file.path} that model ${spec.id} needs: ${describeMismatch(check, file)}. Replace it with an intact copy${urlHint(spec, this.options.baseUrl, file)}, or point FINDIMAGE_MODEL_DIR at the files of the model named by FINDIMAGE_MODEL.`,
          { details: { model: spec.id, path: paths[role], problem: check.state } },
        );
      }
    }
    this.logger.debug({ modelDir: dir, model: spec.id }, 'using model files from FINDIMAGE_MODEL_DIR');
    return paths;
  }

  /**
   * The model's files in `dir`, each at its repository path or flat by file name. Undefined
   * when none is there; a ModelError listing the missing ones when only some are.
   */
  private async findInDir(spec: ModelSpec, dir: string): Promise<ModelFilePaths | undefined> {
    const found: Partial<ModelFilePaths> = {};
    const missing: string[] = [];
    for (const role of ROLES) {
      const file = spec.files[role];
      const candidates = MODEL_DIR_SPELLINGS.map((spelling) => spelling(dir, file));
      let hit: string | undefined;
      for (const candidate of candidates) {
        if (await this.verifier.exists(candidate)) {
          hit = candidate;
          break;
        }
      }
      if (hit === undefined) missing.push(file.path);
      else found[role] = hit;
    }
    if (missing.length === ROLES.length) return undefined;
    if (missing.length > 0) {
      throw new ModelError(
        'model_missing',
        `FINDIMAGE_MODEL_DIR (${dir}) holds only part of model ${spec.id}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing. Put ${missing.length === 1 ? 'it' : 'them'} there (same name, either at that path or directly in the folder), or unset FINDIMAGE_MODEL_DIR.`,
        { details: { model: spec.id, modelDir: dir, missing } },
      );
    }
    return found as ModelFilePaths;
  }

  private async fromBundle(spec: ModelSpec, dir: string): Promise<ModelFilePaths> {
    const paths = this.pathsIn(spec, (file) => resolve(this.bundleRoot(), dir, file.path));
    for (const role of ROLES) {
      const file = spec.files[role];
      const check = await this.verifier.check(paths[role], file);
      if (check.state !== 'ok') {
        throw new ModelError(
          'model_load_failed',
          isAbsolute(dir)
            ? `The model ${spec.id} registered from ${dir} has changed since "findimage model add": ${paths[role]}: ${describeMismatch(check, file)}. Restore the file, or run "findimage model add ${dir}" again to register the files as they are now.`
            : `The bundled model ${spec.id} is damaged: ${paths[role]}: ${describeMismatch(check, file)}. Reinstall findimage (or, in a source checkout, rebuild it as models/${spec.id}/README.md explains).`,
          { details: { model: spec.id, path: paths[role], problem: check.state } },
        );
      }
    }
    return paths;
  }

  private async fromCache(
    spec: ModelSpec,
    source: Extract<ModelSpec['source'], { kind: 'huggingface' }>,
  ): Promise<ModelFilePaths | undefined> {
    const paths = this.pathsIn(spec, (file) => hubCachePath(this.options.cacheDir, source, file));
    let complete = true;
    for (const role of ROLES) {
      const file = spec.files[role];
      const check = await this.verifier.check(paths[role], file);
      if (check.state === 'ok') continue;
      complete = false;
      if (check.state === 'missing') continue;
      const problem = describeMismatch(check, file);
      if (this.options.allowDownload === false) {
        throw new ModelError(
          'model_checksum_mismatch',
          `The cached ${file.path} of model ${spec.id} is damaged (${paths[role]}: ${problem}). Delete it and run "findimage model pull ${spec.id}" to download it again.`,
          { details: { model: spec.id, path: paths[role], problem: check.state } },
        );
      }
      this.logger.warn({ path: paths[role], problem }, 'cached model file is damaged; it will be downloaded again');
      await rm(paths[role], { force: true });
    }
    return complete ? paths : undefined;
  }

  private pathsIn(spec: ModelSpec, place: (file: ModelFile) => string): ModelFilePaths {
    return {
      textModel: resolve(place(spec.files.textModel)),
      visionModel: resolve(place(spec.files.visionModel)),
      tokenizer: resolve(place(spec.files.tokenizer)),
    };
  }

  private async sizesMatch(spec: ModelSpec, paths: ModelFilePaths): Promise<boolean> {
    for (const role of ROLES) {
      if (!(await sizeOnly(paths[role], spec.files[role]))) return false;
    }
    return true;
  }

  private bundleRoot(): string {
    return this.options.bundleRoot ?? packageRoot();
  }
}

/** Shorthand for `new ModelLocator(options).locate(spec)`: what the composition root calls. */
export async function locateModelFiles(spec: ModelSpec, options: ModelLocatorOptions): Promise<ModelFilePaths> {
  return new ModelLocator(options).locate(spec);
}

/**
 * What a user can do to get a hub model onto a machine by hand: the exact URLs, sizes and
 * sha256s. Used in error messages; the CLI may print it too.
 */
export function describeManualInstall(spec: ModelSpec, baseUrl: string): string {
  const source = spec.source;
  if (source.kind !== 'huggingface') return `Model ${spec.id} ships inside findimage; nothing to download.`;
  const lines = ROLES.map((role) => {
    const file = spec.files[role];
    return `    ${hubFileUrl(baseUrl, source, file)}\n      (${file.size} bytes, sha256 ${file.sha256})`;
  });
  return lines.join('\n');
}

function missingModelMessage(spec: ModelSpec, options: ModelLocatorOptions, reason: string): string {
  return [
    `Model ${spec.id} is not on this machine and could not be downloaded: ${reason}`,
    'Do one of these:',
    `  1. On a machine with internet access, run "findimage model pull ${spec.id}", then copy its cache folder (FINDIMAGE_CACHE, here ${options.cacheDir}) to this machine.`,
    '  2. Download these files into one folder (keep the file names; subfolders optional) and set FINDIMAGE_MODEL_DIR to that folder:',
    describeManualInstall(spec, options.baseUrl),
    `  3. To try findimage without any download, set FINDIMAGE_MODEL=${FALLBACK_MODEL_ID} (random weights: results rank at random).`,
  ].join('\n');
}

function urlHint(spec: ModelSpec, baseUrl: string, file: ModelFile): string {
  return spec.source.kind === 'huggingface' ? ` from ${hubFileUrl(baseUrl, spec.source, file)}` : '';
}

function totalBytes(spec: ModelSpec): number {
  return ROLES.reduce((sum, role) => sum + spec.files[role].size, 0);
}

async function sizeOnly(path: string, file: ModelFile): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && info.isFile() && info.size === file.size;
}
