// `findimage model add <dir>`: registers a model a team brings itself (a fine-tuned CLIP, say).
// The folder's findimage-model.json is checked field by field, every file is pinned by its
// size and sha256, and the model is run once on a probe text and a probe image through the real
// worker pool, so tensor names, shapes and the tokenizer are known to work before FINDIMAGE_MODEL
// can name it.
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { Config } from '../../config.js';
import { FindimageError, ModelError } from '../../core/errors.js';
import { MODEL_MANIFEST, readModelManifest } from '../../core/models/model-manifest.js';
import type { ModelSpec } from '../../core/models/model-spec.js';
import { builtInModelIds, registeredModelsPath, saveRegisteredModel } from '../../core/models/registered-models.js';
import { openEmbedding } from '../../findimage.js';
import type { Terminal } from '../terminal.js';

/** Side of the probe image, in pixels: above the decoder's minimum, small to preprocess. */
const PROBE_IMAGE_SIDE = 64;
/** The probe text: plain English every tokenizer can encode. */
const PROBE_TEXT = 'a photo of a cat';

/** Checks, probes and registers the model in `dir`; returns its spec. */
export async function runModelAdd(config: Config, dir: string, terminal: Terminal, logger: Logger): Promise<ModelSpec> {
  const spec = await readModelManifest(dir, builtInModelIds());
  terminal.err(`Checking ${spec.id}: running its towers once on a probe text and image...`);
  await probe(config, spec, logger);
  const replaced = await saveRegisteredModel(config.dataDir, spec);
  const total = Object.values(spec.files).reduce((sum, file) => sum + file.size, 0);
  terminal.out(`${replaced ? 'Registered again' : 'Registered'} ${spec.id}: ${spec.family} family, ${spec.dimension}-d, ${(total / 1024 / 1024).toFixed(1)} MiB, languages ${(spec.languages ?? ['en']).join(', ')}.`);
  terminal.out(`  Files pinned by size and sha256 in ${registeredModelsPath(config.dataDir)}; change them and run "findimage model add" again.`);
  terminal.out(`  Use it with FINDIMAGE_MODEL=${spec.id}, --model ${spec.id}, or findimage eval --dataset <dir> --models ${spec.id},${config.model}.`);
  return spec;
}

/** Embeds the probe text and image; any failure becomes a ModelError that points at the manifest. */
async function probe(config: Config, spec: ModelSpec, logger: Logger): Promise<void> {
  const manifest = `${spec.source.kind === 'bundled' ? spec.source.dir : ''}/${MODEL_MANIFEST}`;
  // One worker, no reserved search worker: a probe needs nothing more.
  const probeConfig: Config = { ...config, workers: 1, searchWorkers: 0 };
  let opened: Awaited<ReturnType<typeof openEmbedding>> | undefined;
  try {
    opened = await openEmbedding({ config: probeConfig, logger: logger.child({ component: 'model-add' }), model: spec });
    const text = await opened.embedder.embedQuery(PROBE_TEXT);
    const image = await opened.embedder.embedImage(await opened.prepareImage(await probeImage()));
    for (const [tower, vector] of [['text', text], ['vision', image]] as const) {
      if (vector.length !== spec.dimension || !vector.every(Number.isFinite)) {
        throw new ModelError('model_load_failed', `the ${tower} tower returned ${vector.length} values (or non-finite ones), not ${spec.dimension}`);
      }
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelError(
      'model_load_failed',
      `${manifest} describes a model that does not run: ${reason}\nCorrect ${MODEL_MANIFEST} (the tensor names, "dimension", the text and vision settings) or the files, then run "findimage model add" again. Nothing was registered.`,
      { cause: error, details: { model: spec.id, code: error instanceof FindimageError ? error.code : undefined } },
    );
  } finally {
    await opened?.embedder.close();
  }
}

/** A small gradient PNG: any vision tower can take it. */
function probeImage(): Promise<Buffer> {
  const side = PROBE_IMAGE_SIDE;
  const raw = Buffer.alloc(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    raw[i * 3] = (i * 4) % 256;
    raw[i * 3 + 1] = Math.floor(i / side) * 4;
    raw[i * 3 + 2] = 128;
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}
