// The seam between the domain and the model: turn a query or an image into a unit vector.
// ClipEmbedder implements it on top of an EmbeddingRuntime (the worker pool in src/gpu-worker).

/** Interactive work (a user waiting on a search) goes ahead of bulk work (indexing). */
export type Lane = 'interactive' | 'bulk';

export interface EmbedOptions {
  /** Defaults: "interactive" for text, "bulk" for images. */
  lane?: Lane;
  signal?: AbortSignal;
  /**
   * embedQuery only: the prompt templates for this query in place of the configured ones (each
   * holds "{}"; ["{}"] embeds the words as given). Embedders without templates ignore it.
   */
  templates?: readonly string[];
}

/** An image decoded and preprocessed for the vision tower. */
export interface PreparedImage {
  /** CHW float32, [3, size, size], normalised with the model's mean and std. */
  pixels: Float32Array;
  /** Size of the decoded image after EXIF rotation, before resizing. */
  width: number;
  height: number;
  /** The detected input format ("jpeg", "png", "heif", ...). */
  format: string;
}

/** Embeds text and images into one L2-normalised space of `dimension` floats. */
export interface Embedder {
  /** Registry id of the model, stored with every vector. */
  readonly modelId: string;
  /** Length of every vector returned. */
  readonly dimension: number;

  /**
   * Embeds a search query: applies the prompt templates, averages them, and normalises.
   * Throws InvalidQueryError for an empty query; a long query is truncated, not failed.
   */
  embedQuery(text: string, options?: EmbedOptions): Promise<Float32Array>;

  /** Embeds a prepared image. */
  embedImage(image: PreparedImage, options?: EmbedOptions): Promise<Float32Array>;

  /** Stops the workers. */
  close(): Promise<void>;
}

/**
 * Runs the two towers on raw tensors. Implemented by EmbeddingPool (src/gpu-worker); core code
 * depends only on this interface.
 */
export interface EmbeddingRuntime {
  /** Text tower on one row of token ids (int64, the model's context length). */
  embedTokens(ids: BigInt64Array, options?: EmbedOptions): Promise<Float32Array>;
  /** Vision tower on one CHW float32 image tensor. */
  embedPixels(pixels: Float32Array, options?: EmbedOptions): Promise<Float32Array>;
  /** Stops the workers and rejects what is still queued. */
  close(): Promise<void>;
}
