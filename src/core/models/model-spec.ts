// What findimage must know about a model to fetch, verify, load and feed it: its files, its
// family (which tokenizer and image preprocessing it uses) and those steps' settings.
// Entries live in model-registry.ts (and registered-models.ts for `findimage model add`).

/** One file of a model, checked by size and sha256 before it is ever loaded. */
export interface ModelFile {
  /** Path inside the model's repository (and inside its cache or local folder). */
  path: string;
  /** Exact size in bytes. */
  size: number;
  /** sha256 of the whole file, lowercase hex. */
  sha256: string;
}

/** Where a model's files come from. */
export type ModelSource =
  /** A Hugging Face repository at a pinned revision (a commit hash, never a branch). */
  | { kind: 'huggingface'; repo: string; revision: string }
  /**
   * A folder on this machine: relative paths are inside this package (the tiny test models),
   * absolute ones are folders registered with `findimage model add`.
   */
  | { kind: 'bundled'; dir: string };

/**
 * The model families findimage can feed. Each has its own tokenizer and image preprocessing
 * (model-family.ts); a spec without `family` is OpenAI CLIP.
 */
export type ModelFamilyId = 'openai-clip' | 'siglip';

/**
 * How an image becomes a square: "shortest-side-crop" resizes the short side to the input size
 * and crops the centre (CLIP); "squash" resizes both sides to the input size, changing the
 * aspect ratio and keeping the whole picture (SigLIP).
 */
export type ResizeMode = 'shortest-side-crop' | 'squash';

/** A quality figure published for a model, with where it was published. */
export interface PublishedQuality {
  /** What was measured ("zero-shot ImageNet top-1"). */
  metric: string;
  /** The figure, in percent. */
  percent: number;
  /** Where it is published (paper table or model card), so a reader can check it. */
  source: string;
}

/**
 * The precisions a variant can have, the one list of them: a model id may end in ":q8" or
 * "-q8" (see canonicalModelId in model-registry.ts) for each.
 */
export const VARIANT_PRECISIONS = ['q8', 'fp16'] as const;

/** Precision of a quantized variant's weights. */
export type VariantPrecision = (typeof VARIANT_PRECISIONS)[number];

/** Image preprocessing that the vision tower was trained with. */
export interface VisionPreprocessing {
  /** Side of the square input, in pixels. */
  imageSize: number;
  /** Per-channel RGB mean and standard deviation, applied to values in [0, 1]. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** How the image is made square; default "shortest-side-crop". */
  resize?: ResizeMode;
}

/** Text tokenisation the text tower expects. */
export interface TextPreprocessing {
  /** Token ids per row; longer text is truncated (keeping the end-of-text token). */
  contextLength: number;
  /**
   * Id of the start-of-text token put first in every row. Absent for tokenizers with none
   * (SigLIP's SentencePiece rows are the text's pieces, then end-of-text, then padding).
   */
  bosId?: number;
  /** Id of the end-of-text token after the text's tokens. */
  eosId: number;
  /** Id that fills the row after end-of-text. */
  padId: number;
  /**
   * Lowercase the text and drop ASCII punctuation before tokenising, as SigLIP's tokenizer does
   * (its tokenizer.json does not). Default false; CLIP's own clean-up is built into its tokenizer.
   */
  canonicalize?: boolean;
}

export interface ModelSpec {
  /** Registry id, also used in collection names and payloads ("clip-vit-b32"). */
  id: string;
  /** One line for `findimage model list`. */
  description: string;
  /** True for models with random weights: results rank at random. */
  developmentOnly: boolean;
  /** Which tokenizer and image preprocessing the model uses; default "openai-clip". */
  family?: ModelFamilyId;
  /** Languages its text tower was trained on, as ISO 639-1 codes ("en"); default English only. */
  languages?: readonly string[];
  /** A published quality figure, for `findimage model list`; absent for random-weight models. */
  quality?: PublishedQuality;
  /** Set on a quantized variant: the registry id of the full-precision model and its precision. */
  variantOf?: { model: string; precision: VariantPrecision };
  source: ModelSource;
  files: {
    textModel: ModelFile;
    visionModel: ModelFile;
    tokenizer: ModelFile;
  };
  /** Length of the embedding vectors. */
  dimension: number;
  text: TextPreprocessing & {
    /** Graph input: int64 [batch, contextLength]. */
    inputName: string;
    /** Graph output: float32 or float16 [batch, dimension] (float16 is widened in the worker). */
    outputName: string;
  };
  vision: VisionPreprocessing & {
    /** Graph input: float32 or float16 [batch, 3, imageSize, imageSize] (the worker converts). */
    inputName: string;
    /** Graph output: float32 or float16 [batch, dimension] (float16 is widened in the worker). */
    outputName: string;
  };
}

/** CLIP's published normalisation (OpenAI, "Learning Transferable Visual Models"). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Absolute paths of a model's three files on this machine, each verified against its pin. */
export interface ModelFilePaths {
  /** The text tower's ONNX graph. */
  textModel: string;
  /** The vision tower's ONNX graph. */
  visionModel: string;
  /** The Hugging Face tokenizer.json. */
  tokenizer: string;
}
