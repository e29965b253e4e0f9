// A test Embedder whose vectors are chosen by the test, so search behaviour can be asserted
// exactly. Queries map through a table; images carry their vector in the first pixels.
import type { Embedder, EmbedOptions, PreparedImage } from '../embedding/embedder.js';
import { normalize } from '../embedding/vector-math.js';
import { InvalidQueryError } from '../errors.js';

export class KnownVectorEmbedder implements Embedder {
  readonly modelId = 'known-vectors';
  readonly dimension: number;
  /** How many times each tower ran (a deduplicated upload must not add to it). */
  readonly calls = { text: 0, image: 0 };
  readonly #queries: Map<string, Float32Array>;

  constructor(dimension: number, queries: Record<string, number[]> = {}) {
    this.dimension = dimension;
    this.#queries = new Map(Object.entries(queries).map(([q, v]) => [q, normalize(Float32Array.from(v))]));
  }

  /** A query's vector from the table; with a search's own template, the vector of the prompt it makes ("a photo of {}" + "car"). */
  async embedQuery(text: string, options: EmbedOptions = {}): Promise<Float32Array> {
    this.calls.text++;
    const prompt = options.templates?.[0]?.split('{}').join(text) ?? text;
    const vector = this.#queries.get(prompt);
    if (vector === undefined) throw new InvalidQueryError(`no known vector for "${prompt}"`);
    return vector.slice();
  }

  async embedImage(image: PreparedImage): Promise<Float32Array> {
    this.calls.image++;
    return normalize(image.pixels.slice(0, this.dimension));
  }

  async close(): Promise<void> {}
}

/** A PreparedImage whose embedding under KnownVectorEmbedder is `vector` (normalised). */
export function imageWithVector(vector: number[], width = 64, height = 48): PreparedImage {
  return { pixels: Float32Array.from(vector), width, height, format: 'png' };
}
