// Registry entries beyond the default model: other families, a larger CLIP, quantized variants,
// and the tiny test models of each family. Every hub file is pinned by revision, size and sha256
// as published for that revision (the hub's LFS pointer: "oid sha256" and "size"); each pin
// below says where it was read. Candidates whose hashes could not be confirmed are not here;
// docs/models.md lists them and why.
import type { ModelFile, ModelSpec } from './model-spec.js';
import { CLIP_MEAN, CLIP_STD } from './model-spec.js';

/** CLIP's text and image settings with the Xenova exports' tensor names (model-family.ts). */
const CLIP_TEXT = { contextLength: 77, bosId: 49406, eosId: 49407, padId: 49407, inputName: 'input_ids', outputName: 'text_embeds' } as const;
const CLIP_VISION = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD, inputName: 'pixel_values', outputName: 'image_embeds' } as const;

/** SigLIP's settings: 64 SentencePiece ids padded with </s> (1), squashed 224x224, mean = std = 0.5. */
const SIGLIP_TEXT = { contextLength: 64, eosId: 1, padId: 1, canonicalize: true, inputName: 'input_ids', outputName: 'pooler_output' } as const;
const SIGLIP_VISION = {
  imageSize: 224,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  resize: 'squash',
  inputName: 'pixel_values',
  outputName: 'pooler_output',
} as const;

/** Published quality figures and where they come from. */
const CLIP_PAPER = 'Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision", zero-shot ImageNet table';
const B32_QUALITY = { metric: 'zero-shot ImageNet top-1', percent: 63.2, source: CLIP_PAPER } as const;
const B16_QUALITY = { metric: 'zero-shot ImageNet top-1', percent: 68.6, source: CLIP_PAPER } as const;

const SIGLIP_B16_QUALITY = {
  metric: 'zero-shot ImageNet top-1',
  percent: 76.2,
  source: 'Zhai et al. 2023, "Sigmoid Loss for Language Image Pre-Training" (B/16, 224 px, WebLI), as listed in big_vision\'s SigLIP model table',
} as const;

/** Xenova/clip-vit-base-patch32 at the revision clip-vit-b32 pins (model-registry.ts). */
const B32_SOURCE = { kind: 'huggingface', repo: 'Xenova/clip-vit-base-patch32', revision: 'd15189d7028b43f1d3e65039190477f6af591c2a' } as const;
const B32_TOKENIZER: ModelFile = {
  path: 'tokenizer.json',
  size: 2_224_119,
  sha256: 'f7f3b7af117d467b58374797691a6438d3e6b9e9cef800dfd5dced7f697a90cd',
};

/**
 * clip-vit-b32's int8 export (onnx/*_quantized.onnx, dynamic quantization: float32 in and out).
 * sha256: the hub's LFS page for text_model_quantized.onnx (73baab85..., uploaded in 6ef1ebc and
 * unchanged since); both files with sizes at d15189d7 as pinned by several independent projects.
 */
const CLIP_VIT_B32_Q8: ModelSpec = {
  id: 'clip-vit-b32-q8',
  description: 'clip-vit-b32 with int8 weights (about 153 MB): faster on CPUs, slightly different rankings.',
  developmentOnly: false,
  family: 'openai-clip',
  languages: ['en'],
  quality: { ...B32_QUALITY, source: `fp32 model's figure (${CLIP_PAPER}); compare on your data with findimage eval --models` },
  variantOf: { model: 'clip-vit-b32', precision: 'q8' },
  source: B32_SOURCE,
  files: {
    textModel: { path: 'onnx/text_model_quantized.onnx', size: 64_504_507, sha256: '73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a' },
    visionModel: { path: 'onnx/vision_model_quantized.onnx', size: 89_117_001, sha256: '583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299' },
    tokenizer: B32_TOKENIZER,
  },
  dimension: 512,
  text: CLIP_TEXT,
  vision: CLIP_VISION,
};

/**
 * Says why an fp16 variant exists and what it costs on a CPU, for `findimage model list`: the
 * CPU's kernels for float16 are few and slow, so there the fp32 model (the bare name) is faster
 * (docs/benchmarks.md, "Issue 20, part 3: fp16").
 */
const FP16_NOTE = 'for GPUs; on a CPU it is usually slower than fp32, which a bare model name picks';

/** What an fp16 variant's entry states itself; everything else comes from the model it is made from. */
interface Fp16Pins {
  /** For `findimage model list`. */
  description: string;
  /** onnx/text_model_fp16.onnx at the base's revision, as published. */
  textModel: { size: number; sha256: string };
  /** onnx/vision_model_fp16.onnx at the base's revision, as published. */
  visionModel: { size: number; sha256: string };
}

/**
 * The fp16 variant of `base` (the fp32 model, or another variant of it): id "<model>-fp16", the
 * exports' onnx/*_fp16.onnx files from the same revision with `pins`' sizes and sha256s, the same
 * tokenizer, family and settings. A quality figure is the fp32 model's, and says so.
 */
function fp16Variant(base: ModelSpec, pins: Fp16Pins): ModelSpec {
  const model = base.variantOf?.model ?? base.id;
  const variant: ModelSpec = {
    ...base,
    id: `${model}-fp16`,
    description: pins.description,
    variantOf: { model, precision: 'fp16' },
    files: {
      textModel: { path: 'onnx/text_model_fp16.onnx', ...pins.textModel },
      visionModel: { path: 'onnx/vision_model_fp16.onnx', ...pins.visionModel },
      tokenizer: base.files.tokenizer,
    },
  };
  // A variant's quality already quotes its fp32 model; an fp32 base's own figure is relabelled.
  if (base.quality !== undefined && base.variantOf === undefined) {
    variant.quality = { ...base.quality, source: `fp32 model's figure (${base.quality.source})` };
  }
  return variant;
}

/**
 * clip-vit-b32's fp16 export (onnx/*_fp16.onnx). sha256 and size: the hub's LFS pages for both
 * files (text_model_fp16.onnx df587ffb..., uploaded in b8b103f; vision_model_fp16.onnx 35c4e0fb...,
 * 176,080,659 bytes, uploaded in 0b95b21; neither changed since), and the same pairs pinned at
 * d15189d7 by several independent projects (text 127,339,794 bytes).
 */
const CLIP_VIT_B32_FP16 = fp16Variant(CLIP_VIT_B32_Q8, {
  description: `clip-vit-b32 with fp16 weights (about 306 MB): ${FP16_NOTE}.`,
  textModel: { size: 127_339_794, sha256: 'df587ffbf248bf20d44fa6e16adc5ebc27ead691860e5333dbdaab5fd6bf3f6e' },
  visionModel: { size: 176_080_659, sha256: '35c4e0fb0aeee527dcde1693520b214a34424a786babd530f35366bad5844efd' },
});

/**
 * OpenAI CLIP ViT-B/16 (Xenova/clip-vit-base-patch16), int8. Revision 342fdf2f with these sizes
 * and sha256s is pinned by several independent projects. The fp32 text_model.onnx is not added:
 * no published sha256 for it was found (docs/models.md).
 */
const CLIP_VIT_B16_Q8: ModelSpec = {
  id: 'clip-vit-b16-q8',
  description: 'OpenAI CLIP ViT-B/16 with int8 weights (about 152 MB): finer detail than B/32, about 4x the image cost.',
  developmentOnly: false,
  family: 'openai-clip',
  languages: ['en'],
  quality: { ...B16_QUALITY, source: `fp32 model's figure (${CLIP_PAPER})` },
  variantOf: { model: 'clip-vit-b16', precision: 'q8' },
  source: { kind: 'huggingface', repo: 'Xenova/clip-vit-base-patch16', revision: '342fdf2f67aded64d138ff074745fb4a5d2bba5f' },
  files: {
    textModel: { path: 'onnx/text_model_quantized.onnx', size: 64_504_507, sha256: '9106b51e6c663a56b99182ec617c2b3d53577b037e7e24a7717eb78048a0c97a' },
    visionModel: { path: 'onnx/vision_model_quantized.onnx', size: 87_461_602, sha256: '44eece4fe5fe4e0359a88268a327adf758633a1aade3917690b952bef1501f96' },
    tokenizer: { path: 'tokenizer.json', size: 2_224_081, sha256: '72ed5c96db5729294468543e4bc75fce14ca63f58e37300290189ba1c1e52b85' },
  },
  dimension: 512,
  text: CLIP_TEXT,
  vision: CLIP_VISION,
};

/**
 * OpenAI CLIP ViT-B/16, fp16. The hub's commit pages give both LFS pointers: text_model_fp16.onnx
 * in 0c07da5 (9e423931..., 127,339,794 bytes), vision_model_fp16.onnx in 9a1940e (3e261924...,
 * 172,768,684 bytes); an independent project pins the same pairs at 342fdf2f.
 */
const CLIP_VIT_B16_FP16 = fp16Variant(CLIP_VIT_B16_Q8, {
  description: `OpenAI CLIP ViT-B/16 with fp16 weights (about 302 MB): ${FP16_NOTE}.`,
  textModel: { size: 127_339_794, sha256: '9e423931894ecbfc018894006883082edf010fce63f9cba02ffb6659582d8101' },
  visionModel: { size: 172_768_684, sha256: '3e261924f7d66d04f10bb131f7f212162d9ee82199544771aa2dd318bb7e2b7b' },
});

/**
 * Google SigLIP base, patch 16, 224 px (Xenova/siglip-base-patch16-224), fp32. Revision 4649052
 * with these three sizes and sha256s is pinned by several independent projects; the hub's LFS
 * page gives the same sha256 for onnx/text_model.onnx (3aa7fdbd..., uploaded in 7a5d8d1).
 */
const SIGLIP_B16_224: ModelSpec = {
  id: 'siglip-b16-224',
  description: 'Google SigLIP base/16 at 224 px (ONNX fp32, about 815 MB): sigmoid-trained, stronger zero-shot than CLIP B/32; 768-d.',
  developmentOnly: false,
  family: 'siglip',
  languages: ['en'],
  quality: SIGLIP_B16_QUALITY,
  source: { kind: 'huggingface', repo: 'Xenova/siglip-base-patch16-224', revision: '4649052661e53c7000355844105f8a1792088239' },
  files: {
    textModel: { path: 'onnx/text_model.onnx', size: 441_332_132, sha256: '3aa7fdbd20eaa8740cce17bf82913de641fcb632a768fed59f661cdcd0c32553' },
    visionModel: { path: 'onnx/vision_model.onnx', size: 371_819_850, sha256: 'f89d41bac7f4d4b87e010a467d93f98689d708916ed22f5a07f96fdfa26f475f' },
    tokenizer: { path: 'tokenizer.json', size: 2_398_744, sha256: '4a17c975210be5ab4c36b47d8dae4eefb866dbfb1e676e394aad85dc30a3ae08' },
  },
  dimension: 768,
  text: SIGLIP_TEXT,
  vision: SIGLIP_VISION,
};

/**
 * SigLIP base/16 224 px, fp16. The hub's commit pages give both LFS pointers: text_model_fp16.onnx
 * in 65a4a30 (ebffbfd7..., 220,867,426 bytes), vision_model_fp16.onnx in 294847d (7287a8e9...,
 * 186,142,673 bytes); an independent project pins the same sha256s at 4649052.
 */
const SIGLIP_B16_224_FP16 = fp16Variant(SIGLIP_B16_224, {
  description: `siglip-b16-224 with fp16 weights (about 409 MB): ${FP16_NOTE}.`,
  textModel: { size: 220_867_426, sha256: 'ebffbfd71ae11b3f9df5233095815953f44b02ca241c317722edd8c49a9de0f6' },
  visionModel: { size: 186_142_673, sha256: '7287a8e9cbf4f2eedd66e8dc5cf584be03108f4e4a24331879ac6ef7ac7c878f' },
});

/**
 * tiny-test with int8 weights (scripts/build-tiny-q8.py): the plumbing of quantized variants,
 * tested without a download. Sizes and hashes measured on the files in models/tiny-test.
 */
const TINY_TEST_Q8: ModelSpec = {
  id: 'tiny-test-q8',
  description: 'tiny-test with int8 weights, bundled for tests of quantized variants: results rank at random.',
  developmentOnly: true,
  family: 'openai-clip',
  languages: ['en'],
  variantOf: { model: 'tiny-test', precision: 'q8' },
  source: { kind: 'bundled', dir: 'models/tiny-test' },
  files: {
    textModel: { path: 'onnx/text_model_quantized.onnx', size: 403_215, sha256: 'e269ddf1112050902f0da591bdbd8acab483e31d7f3c942dbaaefcbcdd8b70c9' },
    visionModel: { path: 'onnx/vision_model_quantized.onnx', size: 29_597, sha256: '4ae13543549562c968e34a262509012875e04ab655c465eaddb3cc22e327faea' },
    tokenizer: { path: 'tokenizer.json', size: 1_485_941, sha256: '0d4008ced94e94a712d2e46db8518a7c6d16463310da41f277bcb0358c817db5' },
  },
  dimension: 512,
  text: CLIP_TEXT,
  vision: CLIP_VISION,
};

/**
 * tiny-test with fp16 weights (scripts/build-tiny-model.py): the plumbing of fp16 variants, tested
 * without a download. Its graphs take and give float16 tensors, so the worker converts at the
 * boundary. Sizes and hashes measured on the files in models/tiny-test.
 */
const TINY_TEST_FP16 = fp16Variant(TINY_TEST_Q8, {
  description: 'tiny-test with fp16 weights and float16 inputs and outputs, bundled for tests of fp16 variants: results rank at random.',
  textModel: { size: 800_952, sha256: 'e2e4a538157a5847f15b83392796ecde2cd3641cee8cda76ea407fb4e66e80c4' },
  visionModel: { size: 58_020, sha256: 'd6f58665dba7f3c9f452813386718e375a74b45dfa434d36d7cf5f311c584903' },
});

/**
 * A SigLIP-shaped model with random weights (models/tiny-siglip, scripts/build-tiny-siglip-model.py):
 * the real export's tensor names and shapes, a small SentencePiece tokenizer. For tests.
 */
const TINY_SIGLIP: ModelSpec = {
  id: 'tiny-siglip',
  description: 'Random-weight SigLIP-shaped model bundled for tests: no download, results rank at random.',
  developmentOnly: true,
  family: 'siglip',
  languages: ['en'],
  source: { kind: 'bundled', dir: 'models/tiny-siglip' },
  files: {
    textModel: { path: 'onnx/text_model.onnx', size: 31_649, sha256: '57d5007a36ec1ed5bbdc9b4519f96d82b0be8384bda5b968d931d4e05d4d693c' },
    visionModel: { path: 'onnx/vision_model.onnx', size: 49_937, sha256: '38efd63657411cc922965bfe06b113b222207f3f91e1e10f978b498b0c787eb9' },
    tokenizer: { path: 'tokenizer.json', size: 6_229, sha256: '5e1c09eff42f63ce1398bb476ca413ecc4ce0ccb8e9183e619f944f172a7e1da' },
  },
  dimension: 768,
  text: SIGLIP_TEXT,
  vision: SIGLIP_VISION,
};

/**
 * tiny-siglip with fp16 weights (scripts/build-tiny-siglip-model.py), in the other style of fp16
 * export: float32 inputs and outputs, with Casts inside the graph. Sizes and hashes measured on the
 * files in models/tiny-siglip.
 */
const TINY_SIGLIP_FP16 = fp16Variant(TINY_SIGLIP, {
  description: 'tiny-siglip with fp16 weights behind float32 inputs and outputs, bundled for tests: results rank at random.',
  textModel: { size: 16_323, sha256: 'd3235cf400ce5a01a9d15b9c7d702fd3051206630fe294193946c458513c2c46' },
  visionModel: { size: 25_601, sha256: 'd41efed20d6bc0d3fd167d457e09de5612a9520d09021774c2af34d9aad3dd6e' },
});

/** Published models after the default, in the order `findimage model list` shows them. */
export const PUBLISHED_MODELS: readonly ModelSpec[] = [
  CLIP_VIT_B32_Q8,
  CLIP_VIT_B32_FP16,
  CLIP_VIT_B16_Q8,
  CLIP_VIT_B16_FP16,
  SIGLIP_B16_224,
  SIGLIP_B16_224_FP16,
];

/** Bundled random-weight models after tiny-test. */
export const BUNDLED_TEST_MODELS: readonly ModelSpec[] = [TINY_TEST_Q8, TINY_TEST_FP16, TINY_SIGLIP, TINY_SIGLIP_FP16];
