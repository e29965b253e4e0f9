// A linear adapter on the query side: a d x d matrix W applied to a text query's vector, the
// result scaled back to unit length. Learned by `findimage tune` from a team's labels or a
// captioned dataset; images are never touched, so an adapter needs no re-indexing.
import { normalize } from '../embedding/vector-math.js';

/** What an adapter is made of. */
export interface QueryAdapterParts {
  /** Registry id of the model whose query vectors it was learned on; it means nothing for another. */
  modelId: string;
  /** Vector length d of that model. */
  dimension: number;
  /** W, d x d, row-major: output[r] = sum over k of weights[r * d + k] * input[k]. */
  weights: Float32Array;
}

export class QueryAdapter {
  /** Registry id of the model it was learned for. */
  readonly modelId: string;
  /** Vector length d. */
  readonly dimension: number;
  /** W, row-major, d x d. Not copied: the caller hands it over. */
  readonly weights: Float32Array;

  constructor(parts: QueryAdapterParts) {
    if (!Number.isInteger(parts.dimension) || parts.dimension < 1) throw new RangeError(`an adapter needs a dimension of 1 or more, not ${parts.dimension}`);
    if (parts.weights.length !== parts.dimension * parts.dimension) {
      throw new RangeError(`an adapter of dimension ${parts.dimension} needs ${parts.dimension ** 2} weights, not ${parts.weights.length}`);
    }
    this.modelId = parts.modelId;
    this.dimension = parts.dimension;
    this.weights = parts.weights;
  }

  /** The adapter that changes nothing (W = I): where training starts. */
  static identity(modelId: string, dimension: number): QueryAdapter {
    const weights = new Float32Array(dimension * dimension);
    for (let i = 0; i < dimension; i++) weights[i * dimension + i] = 1;
    return new QueryAdapter({ modelId, dimension, weights });
  }

  /** W times `vector`, scaled to unit length (a new array; `vector` is left alone). */
  apply(vector: Float32Array): Float32Array {
    if (vector.length !== this.dimension) throw new RangeError(`the adapter takes vectors of ${this.dimension} floats, not ${vector.length}`);
    return normalize(multiply(this.weights, vector, this.dimension, new Float32Array(this.dimension)));
  }

  /** ||W - I|| (Frobenius): how far training moved it from changing nothing. */
  distanceFromIdentity(): number {
    const d = this.dimension;
    let sum = 0;
    for (let r = 0; r < d; r++) {
      for (let k = 0; k < d; k++) {
        const delta = (this.weights[r * d + k] as number) - (r === k ? 1 : 0);
        sum += delta * delta;
      }
    }
    return Math.sqrt(sum);
  }
}

/** out = W x for a row-major d x d W; returns `out`. */
export function multiply(weights: Float32Array, x: Float32Array, d: number, out: Float32Array): Float32Array {
  for (let r = 0; r < d; r++) {
    const row = r * d;
    let sum = 0;
    for (let k = 0; k < d; k++) sum += (weights[row + k] as number) * (x[k] as number);
    out[r] = sum;
  }
  return out;
}
