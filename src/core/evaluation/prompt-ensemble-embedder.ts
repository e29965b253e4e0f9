// An Embedder whose prompt templates are chosen per evaluation run, over one model that embeds
// each prompt as given: the eval compares template sets without loading the model once per set.
// It ensembles exactly as ClipEmbedder does (one prompt as is; several averaged, then normalised),
// so its vectors equal those of a findimage configured with the same FINDIMAGE_PROMPT_TEMPLATES.
import type { Embedder, EmbedOptions, PreparedImage } from '../embedding/embedder.js';
import { normalize } from '../embedding/vector-math.js';
import { PromptTemplates } from '../text/prompt-templates.js';
import type { QueryNormalizer } from '../text/query-text.js';

export class PromptEnsembleEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;
  readonly #verbatim: Embedder;
  readonly #templates: PromptTemplates;

  /**
   * `verbatim` embeds a query as given (its own templates are just "{}"); `templates` are applied
   * here, after `normalizeQuery`, the model family's query clean-up. Closing this embedder leaves
   * `verbatim` open, since several share it.
   */
  constructor(verbatim: Embedder, templates: readonly string[], normalizeQuery: QueryNormalizer) {
    this.modelId = verbatim.modelId;
    this.dimension = verbatim.dimension;
    this.#verbatim = verbatim;
    this.#templates = new PromptTemplates(templates, normalizeQuery);
  }

  async embedQuery(text: string, options?: EmbedOptions): Promise<Float32Array> {
    const vectors = await Promise.all(this.#templates.expand(text).map((prompt) => this.#verbatim.embedQuery(prompt, options)));
    if (vectors.length === 1) return vectors[0] as Float32Array;
    const mean = new Float32Array(this.dimension);
    for (const vector of vectors) {
      for (let i = 0; i < mean.length; i++) mean[i] = (mean[i] as number) + (vector[i] as number);
    }
    return normalize(mean);
  }

  embedImage(image: PreparedImage, options?: EmbedOptions): Promise<Float32Array> {
    return this.#verbatim.embedImage(image, options);
  }

  async close(): Promise<void> {}
}
