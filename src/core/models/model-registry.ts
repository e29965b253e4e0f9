// The models findimage knows, each pinned to exact files (path, size, sha256). Nothing else in the
// program hard-codes a model's names or numbers; FINDIMAGE_MODEL picks one of these by id.
import { ModelError } from '../errors.js';
import { CLIP_MEAN, CLIP_STD, VARIANT_PRECISIONS, type ModelSpec } from './model-spec.js';
import { BUNDLED_TEST_MODELS, PUBLISHED_MODELS } from './published-models.js';

/** The model used when FINDIMAGE_MODEL is not set. */
export const DEFAULT_MODEL_ID = 'clip-vit-b32';

/** CLIP's text side: 77 token ids per row, <|startoftext|> and <|endoftext|>, padded with eos. */
const CLIP_TEXT = { contextLength: 77, bosId: 49406, eosId: 49407, padId: 49407 } as const;

/** CLIP's image side: 224x224 RGB with the published normalisation. */
const CLIP_VISION = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD } as const;

/**
 * Graph tensor names of the ONNX towers. The Xenova export uses optimum's CLIPTextOnnxConfig,
 * whose only text input is input_ids (no attention_mask: CLIP's causal mask and pooling at the
 * end-of-text token make padding harmless), and transformers.js's CLIP*WithProjection configs,
 * whose outputs are text_embeds / image_embeds (projected, NOT L2-normalised: callers normalise).
 * The tiny test model copies these names so the same code runs both.
 */
const CLIP_TEXT_IO = { inputName: 'input_ids', outputName: 'text_embeds' } as const;
const CLIP_VISION_IO = { inputName: 'pixel_values', outputName: 'image_embeds' } as const;

/**
 * OpenAI CLIP ViT-B/32 exported to ONNX by Xenova (transformers.js), fp32.
 *
 * Revision d15189d7 is the repository's head since 2025-07-08. Sizes and sha256 below are the
 * Hugging Face LFS object ids for that revision, found in several independent projects that pin
 * the same files (and the HF tree API values they quote):
 * - onnx/vision_model.onnx: the same LFS object (fd6e1402...) as at revision 4c1807b7, the
 *   revision FACTS.md quotes; it was uploaded in commit 6ef1ebc and never changed since.
 * - onnx/text_model.onnx: 254,058,553 bytes, 3f6571f5... at d15189d7.
 * - tokenizer.json (not LFS): 2,224,119 bytes, f7f3b7af... at d15189d7 and at main.
 * 4c1807b7 is not used because no source gives tokenizer.json's hash at that revision; pinning
 * d15189d7 keeps every file checked against a hash published for the exact revision fetched.
 */
const CLIP_VIT_B32: ModelSpec = {
  id: 'clip-vit-b32',
  description: 'OpenAI CLIP ViT-B/32 (ONNX fp32, about 608 MB to download). The default.',
  developmentOnly: false,
  family: 'openai-clip',
  languages: ['en'],
  quality: {
    metric: 'zero-shot ImageNet top-1',
    percent: 63.2,
    source: 'Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision", zero-shot ImageNet table',
  },
  source: {
    kind: 'huggingface',
    repo: 'Xenova/clip-vit-base-patch32',
    revision: 'd15189d7028b43f1d3e65039190477f6af591c2a',
  },
  files: {
    textModel: {
      path: 'onnx/text_model.onnx',
      size: 254_058_553,
      sha256: '3f6571f5bad13a97c469c1622e1cfc4d9aef78b79fdbfcff804ca357bfada8cc',
    },
    visionModel: {
      path: 'onnx/vision_model.onnx',
      size: 351_685_709,
      sha256: 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40',
    },
    tokenizer: {
      path: 'tokenizer.json',
      size: 2_224_119,
      sha256: 'f7f3b7af117d467b58374797691a6438d3e6b9e9cef800dfd5dced7f697a90cd',
    },
  },
  dimension: 512,
  text: { ...CLIP_TEXT, ...CLIP_TEXT_IO },
  vision: { ...CLIP_VISION, ...CLIP_VISION_IO },
};

/**
 * A CLIP-shaped model with random weights that ships inside this package (models/tiny-test,
 * built by scripts/build-tiny-model.py). Same tensor names and shapes as clip-vit-b32, a real
 * CLIP tokenizer, runs in milliseconds: for tests and for trying findimage with no download.
 * Sizes and hashes measured on the files in models/tiny-test.
 */
const TINY_TEST: ModelSpec = {
  id: 'tiny-test',
  description: 'Random-weight CLIP-shaped model bundled for tests: no download, results rank at random.',
  developmentOnly: true,
  family: 'openai-clip',
  languages: ['en'],
  source: { kind: 'bundled', dir: 'models/tiny-test' },
  files: {
    textModel: {
      path: 'onnx/text_model.onnx',
      size: 1_601_060,
      sha256: '1c6395f1b9ad394ff28953d16a5e203a41fb6a2cbb1e490aced9bf371c5a8e81',
    },
    visionModel: {
      path: 'onnx/vision_model.onnx',
      size: 115_382,
      sha256: 'bf39648b24bf6a93927f9b760c290e557cdf4325eaac0efe32d0717c2117f236',
    },
    tokenizer: {
      path: 'tokenizer.json',
      size: 1_485_941,
      sha256: '0d4008ced94e94a712d2e46db8518a7c6d16463310da41f277bcb0358c817db5',
    },
  },
  dimension: 512,
  text: { ...CLIP_TEXT, ...CLIP_TEXT_IO },
  vision: { ...CLIP_VISION, ...CLIP_VISION_IO },
};

/** Every model findimage ships knowledge of, default first. */
export const MODEL_REGISTRY: readonly ModelSpec[] = [CLIP_VIT_B32, ...PUBLISHED_MODELS, TINY_TEST, ...BUNDLED_TEST_MODELS];

/** A trailing ":q8" or ":fp16" (one alternative per VARIANT_PRECISIONS entry). */
const VARIANT_SUFFIX = new RegExp(`:(${VARIANT_PRECISIONS.join('|')})$`);

/**
 * The id a model name stands for: a variant may be named "model:q8" as well as by its id
 * "model-q8" (ids name files and Qdrant collections, where ":" is not allowed). Any other name is
 * returned as it is.
 */
export function canonicalModelId(id: string): string {
  return id.replace(VARIANT_SUFFIX, '-$1');
}

/**
 * The model registered under `id` (or its "model:variant" spelling), looked up among the
 * built-in models and then `extra` (models registered with `findimage model add`, see
 * registered-models.ts). Throws ModelError 'model_unknown' naming the known ids.
 */
export function getModelSpec(id: string, extra: readonly ModelSpec[] = []): ModelSpec {
  const wanted = canonicalModelId(id);
  const spec = MODEL_REGISTRY.find((m) => m.id === wanted) ?? extra.find((m) => m.id === wanted);
  if (spec === undefined) {
    const ids = [...MODEL_REGISTRY, ...extra].map((m) => m.id);
    throw new ModelError(
      'model_unknown',
      `Unknown model "${id}". Set FINDIMAGE_MODEL to one of: ${ids.join(', ')} (run "findimage model list" for details).`,
      { details: { model: id, known: ids } },
    );
  }
  return spec;
}
