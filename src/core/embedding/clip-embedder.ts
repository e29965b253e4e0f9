// CLIP embeddings for the domain: queries go through the prompt templates and the tokenizer,
// images arrive preprocessed; both towers run on an EmbeddingRuntime (the worker pool).
import type { Embedder, EmbeddingRuntime, EmbedOptions, PreparedImage } from './embedder.js';
import { PromptTemplates } from '../text/prompt-templates.js';
import type { QueryNormalizer } from '../text/query-text.js';
import { normalize } from './vector-math.js';

/** Turns one line of text into the text tower's row of token ids. */
export interface QueryTokenizer {
  encode(text: string): BigInt64Array;
}

export interface ClipEmbedderOptions {
  modelId: string;
  dimension: number;
  runtime: EmbeddingRuntime;
  tokenizer: QueryTokenizer;
  /** Expands a normalised query into the prompts to embed ("a photo of {}" -> one prompt). */
  expandQuery: (query: string) => string[];
  /** The model family's query clean-up, for a search that brings its own templates. */
  normalizeQuery: QueryNormalizer;
}

export class ClipEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;
  readonly #runtime: EmbeddingRuntime;
  readonly #tokenizer: QueryTokenizer;
  readonly #expandQuery: (query: string) => string[];
  readonly #normalizeQuery: QueryNormalizer;

  constructor(options: ClipEmbedderOptions) {
    this.modelId = options.modelId;
    this.dimension = options.dimension;
    this.#runtime = options.runtime;
    this.#tokenizer = options.tokenizer;
    this.#expandQuery = options.expandQuery;
    this.#normalizeQuery = options.normalizeQuery;
  }

  async embedQuery(text: string, options: EmbedOptions = {}): Promise<Float32Array> {
    const { templates, ...runOptions } = options;
    // A search's own templates were validated at the edge (searchTemplate); new
    // PromptTemplates checks them again, so a bad one can never reach the tokenizer.
    const prompts = templates === undefined ? this.#expandQuery(text) : new PromptTemplates(templates, this.#normalizeQuery).expand(text);
    const lane = runOptions.lane ?? 'interactive';
    // Templates are embedded separately and averaged (CLIP's prompt ensembling), then the mean
    // is normalised again so scores stay cosine similarities.
    const vectors = await Promise.all(
      prompts.map((prompt) =>
        this.#runtime.embedTokens(this.#tokenizer.encode(prompt), { ...runOptions, lane }),
      ),
    );
    if (vectors.length === 1) return vectors[0] as Float32Array;
    const mean = new Float32Array(this.dimension);
    for (const vector of vectors) {
      for (let i = 0; i < mean.length; i++) mean[i] = (mean[i] as number) + (vector[i] as number);
    }
    return normalize(mean);
  }

  embedImage(image: PreparedImage, options: EmbedOptions = {}): Promise<Float32Array> {
    return this.#runtime.embedPixels(image.pixels, { ...options, lane: options.lane ?? 'bulk' });
  }

  close(): Promise<void> {
    return this.#runtime.close();
  }
}
