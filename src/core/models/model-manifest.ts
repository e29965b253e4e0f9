// Reads and checks findimage-model.json, the file that describes a model a team brings itself
// (`findimage model add <dir>`): its family, files, tensor names, dimension, tokenizer and
// preprocessing settings and languages. Every problem is reported with the file, the field,
// what is wrong and what to write instead; the result is a ModelSpec whose files are pinned by
// the size and sha256 they have now, so a later change to them is caught before loading.
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { ModelError } from '../errors.js';
import { sha256OfFile } from './file-digest.js';
import { MODEL_FAMILIES, findFamily } from './model-family.js';
import type { ModelFile, ModelSpec } from './model-spec.js';

/** The file `findimage model add` looks for in the model's folder. */
export const MODEL_MANIFEST = 'findimage-model.json';

/** Model names: what FINDIMAGE_MODEL accepts, and safe in file and collection names. */
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** Longest context a text tower may declare; far above any CLIP-like model's 77 or 64. */
const MAX_CONTEXT_LENGTH = 4_096;
/** Largest square input accepted, in pixels; CLIP-like towers take 224 to 512. */
const MAX_IMAGE_SIZE = 1_024;
/** Longest embedding accepted; ViT-g models give 1,024 to 1,536. */
const MAX_DIMENSION = 8_192;

const tensorName = z.string({ error: 'must be a string naming a graph tensor, such as "input_ids"' }).min(1, 'must name a graph tensor, such as "input_ids"');

/** A whole number from `min` to `max`, with messages that say so. */
function wholeNumber(min: number, max: number) {
  return z
    .number({ error: `must be a whole number from ${min} to ${max} (a JSON number, not a string)` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
}
const tokenId = wholeNumber(0, 10_000_000);
const channelTriple = z.tuple([z.number(), z.number(), z.number()], {
  error: 'must be three numbers, one per RGB channel, such as [0.5, 0.5, 0.5]',
});

const manifestSchema = z
  .object({
    name: z.string().regex(MODEL_NAME, 'must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (it becomes FINDIMAGE_MODEL)'),
    family: z.enum(MODEL_FAMILIES.map((f) => f.id) as [string, ...string[]], {
      error: `must be one of ${MODEL_FAMILIES.map((f) => `"${f.id}"`).join(', ')}`,
    }),
    description: z.string().optional(),
    dimension: wholeNumber(1, MAX_DIMENSION),
    languages: z.array(z.string().regex(/^[a-z]{2,3}$/, 'must be ISO 639 codes such as "en" or "de"')).min(1, 'must list at least one language').optional(),
    files: z.object({
      textModel: z.string().min(1, 'must be the path of the text tower\'s .onnx file inside the folder'),
      visionModel: z.string().min(1, 'must be the path of the vision tower\'s .onnx file inside the folder'),
      tokenizer: z.string().min(1, 'must be the path of tokenizer.json inside the folder'),
    }),
    text: z
      .object({
        inputName: tensorName.optional(),
        outputName: tensorName.optional(),
        contextLength: wholeNumber(2, MAX_CONTEXT_LENGTH).optional(),
        bosId: tokenId.optional(),
        eosId: tokenId.optional(),
        padId: tokenId.optional(),
        canonicalize: z.boolean({ error: 'must be true or false' }).optional(),
      })
      .strict()
      .optional(),
    vision: z
      .object({
        inputName: tensorName.optional(),
        outputName: tensorName.optional(),
        imageSize: wholeNumber(16, MAX_IMAGE_SIZE).optional(),
        mean: channelTriple.optional(),
        std: channelTriple.refine((s) => s.every((v) => v > 0), 'must be three positive numbers').optional(),
        resize: z.enum(['shortest-side-crop', 'squash'], { error: 'must be "shortest-side-crop" (CLIP) or "squash" (SigLIP)' }).optional(),
      })
      .strict()
      .optional(),
    quality: z
      .object({ metric: z.string().min(1), percent: z.number().min(0).max(100), source: z.string().min(1) })
      .optional(),
  })
  .strict();

/** The JSON a findimage-model.json holds (docs/models.md shows an example). */
export type ModelManifest = z.infer<typeof manifestSchema>;

/** Refuses a manifest: the file, the field, what is wrong, and what to do. */
function invalid(manifestPath: string, field: string, problem: string, fix: string): ModelError {
  return new ModelError('model_load_failed', `${manifestPath}: ${field} ${problem}. ${fix}`, {
    details: { file: manifestPath, field },
  });
}

/**
 * Reads `<dir>/findimage-model.json`, checks it and every file it names, and returns the spec to
 * register: family defaults filled in, files pinned by their current size and sha256, source
 * the folder itself. `builtInIds` are names it may not take. Throws ModelError naming the
 * file and field for any problem.
 */
export async function readModelManifest(dir: string, builtInIds: readonly string[]): Promise<ModelSpec> {
  const folder = resolve(dir);
  const folderInfo = await stat(folder).catch(() => undefined);
  if (folderInfo === undefined || !folderInfo.isDirectory()) {
    throw new ModelError('model_missing', `${folder} is not a folder. Give the folder that holds ${MODEL_MANIFEST}, the .onnx files and tokenizer.json.`, {
      details: { dir: folder },
    });
  }
  const manifestPath = join(folder, MODEL_MANIFEST);
  let source: string;
  try {
    source = await readFile(manifestPath, 'utf8');
  } catch {
    throw new ModelError(
      'model_missing',
      `${manifestPath} does not exist. Write it beside the model's files (docs/models.md, "Bring your own model", has an example).`,
      { details: { file: manifestPath } },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw invalid(manifestPath, 'the file', `is not valid JSON (${(error as Error).message})`, 'Fix the syntax; docs/models.md has an example.');
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? 'the file' : `"${issue.path.join('.')}"`;
    const problem = issue?.code === 'unrecognized_keys' ? `has unknown keys ${issue.keys.map((k) => `"${k}"`).join(', ')}` : (issue?.message ?? 'is not valid');
    const fix = issue?.code === 'unrecognized_keys' ? 'Remove them or check their spelling against docs/models.md.' : 'Correct it as docs/models.md describes.';
    throw invalid(manifestPath, field, problem, fix);
  }
  const manifest = parsed.data;
  if (builtInIds.includes(manifest.name)) {
    throw invalid(manifestPath, '"name"', `is "${manifest.name}", which is a built-in model`, 'Choose another name, such as "' + manifest.name + '-ours".');
  }
  const family = findFamily(manifest.family);
  if (family === undefined) throw invalid(manifestPath, '"family"', 'is unknown', 'Use a family from docs/models.md.');
  const { inputName: textIn, outputName: textOut, ...textDefaults } = family.defaults.text;
  const { inputName: visionIn, outputName: visionOut, ...visionDefaults } = family.defaults.vision;
  const text = { ...textDefaults, inputName: textIn, outputName: textOut, ...manifest.text };
  const vision = { ...visionDefaults, inputName: visionIn, outputName: visionOut, ...manifest.vision };
  const files = {
    textModel: await pinFile(folder, manifestPath, 'files.textModel', manifest.files.textModel),
    visionModel: await pinFile(folder, manifestPath, 'files.visionModel', manifest.files.visionModel),
    tokenizer: await pinFile(folder, manifestPath, 'files.tokenizer', manifest.files.tokenizer),
  };
  return {
    id: manifest.name,
    description: manifest.description ?? `Registered from ${folder}.`,
    developmentOnly: false,
    family: family.id,
    languages: manifest.languages ?? ['en'],
    ...(manifest.quality === undefined ? {} : { quality: manifest.quality }),
    source: { kind: 'bundled', dir: folder },
    files,
    dimension: manifest.dimension,
    text,
    vision,
  };
}

/** Checks that `path` is a file inside `folder` and pins it by its size and sha256. */
async function pinFile(folder: string, manifestPath: string, field: string, path: string): Promise<ModelFile> {
  const absolute = resolve(folder, path);
  const inside = relative(folder, absolute);
  if (isAbsolute(path) || inside.startsWith('..')) {
    throw invalid(manifestPath, `"${field}"`, `is "${path}", which is outside the model's folder`, 'Copy the file into the folder and give its path relative to it.');
  }
  const info = await stat(absolute).catch(() => undefined);
  if (info === undefined || !info.isFile()) {
    throw invalid(manifestPath, `"${field}"`, `names ${absolute}, which does not exist`, 'Put the file there or correct the path.');
  }
  // A link may point out of the folder; what is pinned is what is read, so follow it.
  const real = await realpath(absolute);
  return { path: inside.split('\\').join('/'), size: (await stat(real)).size, sha256: await sha256OfFile(real) };
}
