// Model families: what differs between OpenAI CLIP, SigLIP and any family added later, behind one
// interface. A family turns text into token rows and images into tensors for its towers, and
// knows its usual settings and graph tensor names. The spec's `family` selects one; everything
// else (the worker pool, the stores, eval) is the same for every family. docs/models.md says how
// to add one.
import type { QueryTokenizer } from '../embedding/clip-embedder.js';
import type { PreparedImage } from '../embedding/embedder.js';
import { ClipTokenizer } from '../text/clip-tokenizer.js';
import { normalizeClipQuery, normalizeSiglipQuery, type QueryNormalizer } from '../text/query-text.js';
import { SentencePieceTokenizer } from '../text/sentencepiece-tokenizer.js';
import type { TokenizerCache } from '../text/tokenizer-cache.js';
import {
  CLIP_MEAN,
  CLIP_STD,
  type ModelFamilyId,
  type ModelSpec,
  type TextPreprocessing,
  type VisionPreprocessing,
} from './model-spec.js';

/** Graph tensor names of one tower. */
export interface TowerNames {
  /** The graph input findimage feeds. */
  inputName: string;
  /** The graph output read as the embedding, [batch, dimension]. */
  outputName: string;
}

/** A family's usual settings: what a findimage-model.json may leave out. */
export interface FamilyDefaults {
  /** Text settings of the family's published models. */
  text: TextPreprocessing & TowerNames;
  /** Image settings of the family's published models. */
  vision: VisionPreprocessing & TowerNames;
}

/** One family: its tokenizer and its image preprocessing. */
export interface ModelFamily {
  /** The id a spec or findimage-model.json names ("siglip"). */
  readonly id: ModelFamilyId;
  /** Settings and tensor names of the family's published exports. */
  readonly defaults: FamilyDefaults;
  /**
   * Cleans a typed query before prompt templates, doing only what the family's reference tokenizer
   * does anyway (query-text.ts); throws InvalidQueryError when nothing is left to search for.
   */
  normalizeQuery: QueryNormalizer;
  /**
   * true: the text tower is causal and pools at the first end-of-text id (text.eosId), as OpenAI
   * CLIP's does, so the ids after it (the padding) change nothing and a graph with a dynamic
   * sequence axis may be fed each batch cut after its longest text (tower-runner.ts). false:
   * every position counts (SigLIP reads the padding, and pools the last position).
   */
  readonly textEndsAtEndToken: boolean;
  /**
   * Loads the tokenizer.json at `path`; throws ModelError when it does not fit `text`. With
   * `cache`, a family whose tokenizer has a compact form (CLIP's BPE) reads it from the tokenizer
   * cache, or writes it there; the others parse tokenizer.json every time.
   */
  openTokenizer(path: string, text: TextPreprocessing, cache?: TokenizerCache): Promise<QueryTokenizer>;
  /** Decodes and preprocesses image bytes; throws InvalidImageError for unreadable images. */
  prepareImage(bytes: Uint8Array, vision: VisionPreprocessing): Promise<PreparedImage>;
}

/**
 * Runs the resize the settings name, so a model registered with `findimage model add` can pick
 * either whatever its family (a CLIP fine-tuned with squashed images, say). The preprocessors
 * (and sharp) are imported on the first image, so a text-only search never loads them.
 */
async function prepareBySettings(bytes: Uint8Array, vision: VisionPreprocessing): Promise<PreparedImage> {
  if ((vision.resize ?? 'shortest-side-crop') === 'squash') {
    const { prepareSquashedImage } = await import('../image/squash-preprocessor.js');
    return prepareSquashedImage(bytes, vision);
  }
  const { prepareImage } = await import('../image/clip-preprocessor.js');
  return prepareImage(bytes, vision);
}

/**
 * OpenAI CLIP and models trained like it. The names are those of the Xenova (transformers.js)
 * exports: optimum's CLIPTextOnnxConfig gives input_ids as the only text input, and the
 * CLIP*ModelWithProjection graphs return text_embeds / image_embeds (projected, not normalised).
 */
const OPENAI_CLIP: ModelFamily = {
  id: 'openai-clip',
  defaults: {
    text: { contextLength: 77, bosId: 49406, eosId: 49407, padId: 49407, inputName: 'input_ids', outputName: 'text_embeds' },
    vision: {
      imageSize: 224,
      mean: CLIP_MEAN,
      std: CLIP_STD,
      resize: 'shortest-side-crop',
      inputName: 'pixel_values',
      outputName: 'image_embeds',
    },
  },
  normalizeQuery: normalizeClipQuery,
  textEndsAtEndToken: true,
  openTokenizer: (path, text, cache) => ClipTokenizer.fromFile(path, text, cache),
  prepareImage: prepareBySettings,
};

/**
 * Google's SigLIP. The Xenova export of google/siglip-base-patch16-224 takes input_ids
 * [batch, 64] (no attention mask: SigLIP is trained on rows padded to 64 with </s>, id 1) and
 * pixel_values, and both towers return pooler_output [batch, 768] (the embedding, not
 * normalised) beside last_hidden_state.
 */
const SIGLIP: ModelFamily = {
  id: 'siglip',
  defaults: {
    text: { contextLength: 64, eosId: 1, padId: 1, canonicalize: true, inputName: 'input_ids', outputName: 'pooler_output' },
    vision: {
      imageSize: 224,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resize: 'squash',
      inputName: 'pixel_values',
      outputName: 'pooler_output',
    },
  },
  normalizeQuery: normalizeSiglipQuery,
  textEndsAtEndToken: false,
  // SentencePiece (Unigram) has no compact form yet: its tokenizer.json is parsed on every start.
  openTokenizer: (path, text) => SentencePieceTokenizer.fromFile(path, text),
  prepareImage: prepareBySettings,
};

/**
 * A model's text settings as the embedding workers take them: with `endOfTextId` (the model's
 * eosId) where the family's text tower reads nothing after that token, so the workers may cut the
 * padding off (TextTowerSpec.endOfTextId).
 */
export function textTowerSettings<Text extends TextPreprocessing>(family: ModelFamily, text: Text): Text & { endOfTextId?: number } {
  return family.textEndsAtEndToken ? { ...text, endOfTextId: text.eosId } : text;
}

/** Every family findimage can feed. */
export const MODEL_FAMILIES: readonly ModelFamily[] = [OPENAI_CLIP, SIGLIP];

/** The family `id` names, or undefined for an id findimage does not know. */
export function findFamily(id: string): ModelFamily | undefined {
  return MODEL_FAMILIES.find((family) => family.id === id);
}

/** The family a spec belongs to (OpenAI CLIP when the spec names none). */
export function familyOf(spec: Pick<ModelSpec, 'family'>): ModelFamily {
  return findFamily(spec.family ?? 'openai-clip') ?? OPENAI_CLIP;
}
