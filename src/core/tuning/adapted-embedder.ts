// An Embedder whose text queries go through a QueryAdapter (W q, back to unit length) and whose
// images do not: the stored image vectors stay as they are, so an adapter needs no re-indexing,
// and "more like this image" searches compare image to image, where a query-side W has no place.
import type { Embedder, EmbedOptions, PreparedImage } from '../embedding/embedder.js';
import type { QueryAdapter } from './query-adapter.js';

export class AdaptedEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimension: number;
  readonly #inner: Embedder;
  readonly #adapter: QueryAdapter;

  /** `adapter` must have been made for `inner`'s model (checkAdapterFits); closing this closes `inner`. */
  constructor(inner: Embedder, adapter: QueryAdapter) {
    if (adapter.modelId !== inner.modelId || adapter.dimension !== inner.dimension) {
      throw new RangeError(`an adapter for ${adapter.modelId} (${adapter.dimension}) cannot adapt ${inner.modelId} (${inner.dimension})`);
    }
    this.modelId = inner.modelId;
    this.dimension = inner.dimension;
    this.#inner = inner;
    this.#adapter = adapter;
  }

  async embedQuery(text: string, options?: EmbedOptions): Promise<Float32Array> {
    return this.#adapter.apply(await this.#inner.embedQuery(text, options));
  }

  embedImage(image: PreparedImage, options?: EmbedOptions): Promise<Float32Array> {
    return this.#inner.embedImage(image, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
