// What findimage must know about a CLIP-family model to fetch, verify, load and feed it.
// Entries live in model-registry.ts; nothing else hard-codes a model's names or numbers.

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
  /** A folder shipped inside this package (the tiny test model). */
  | { kind: 'bundled'; dir: string };

/** Image preprocessing that the vision tower was trained with. */
export interface VisionPreprocessing {
  /** Side of the square input, in pixels. */
  imageSize: number;
  /** Per-channel RGB mean and standard deviation, applied to values in [0, 1]. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Text tokenisation the text tower expects. */
export interface TextPreprocessing {
  /** Token ids per row; longer text is truncated (keeping the end-of-text token). */
  contextLength: number;
  /** Ids of the start and end of text tokens; padding uses `padId`. */
  bosId: number;
  eosId: number;
  padId: number;
}

export interface ModelSpec {
  /** Registry id, also used in collection names and payloads ("clip-vit-b32"). */
  id: string;
  /** One line for `findimage model list`. */
  description: string;
  /** True for models with random weights: results rank at random. */
  developmentOnly: boolean;
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
    /** Graph output: float32 [batch, dimension]. */
    outputName: string;
  };
  vision: VisionPreprocessing & {
    /** Graph input: float32 [batch, 3, imageSize, imageSize]. */
    inputName: string;
    /** Graph output: float32 [batch, dimension]. */
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
