// int8 codes for stored vectors and int16 codes for queries, with the error bound that keeps an
// answer exact: for every row, |q·v - approx(q, v)| <= bound(q, v), so a row whose approximate
// score plus its bound is below the k-th exact score already found can never be in the top k.
//
// A vector v is stored as codes c (int8, |c_i| <= 127) and a scale s = max|v_i| / 127, with
// e = v - s·c. A query q is sent as d (int16) and t = max|q_i| / Q, with f = q - t·d. Then
//   q·v - t·s·(d·c) = f·v + (q - f)·e, so |error| <= ‖f‖‖v‖ + (‖q‖ + ‖f‖)‖e‖ (Cauchy-Schwarz).
// At 512-d, ‖e‖ is about 0.01 and ‖f‖ about 1e-5: a bound near 0.01 in cosine.

/** Largest magnitude of a stored code. */
export const CODE_MAX = 127;

/** The kernel scores 16 codes per step: every row is padded to a multiple of 16 bytes. */
export const CODE_ALIGN = 16;

/** Largest magnitude of a query code: the int16 range. */
const QUERY_CODE_MAX = 32_767;

/** Relative slack for float32 rounding in the kernel's scaling (2^-24 per step, twice). */
const ROUNDING_SLACK = 1e-6;

function clamp(x: number, limit: number): number {
  return Math.max(-limit, Math.min(limit, x));
}

/** Bytes one row of codes takes for vectors of `dimension`. */
export function codeStride(dimension: number): number {
  return Math.ceil(dimension / CODE_ALIGN) * CODE_ALIGN;
}

/** What the error bound needs to know about one stored vector. */
export interface CodedVector {
  /** Multiplier of the codes (float32-representable). */
  scale: number;
  /** ‖v‖, the vector's length. */
  norm: number;
  /** ‖v - scale·codes‖, the length of what the codes lose. */
  residual: number;
}

/**
 * Writes the int8 codes of `vector` into `out` (its first `vector.length` bytes; the padding
 * after them must already be zero) and says what the bound needs.
 */
export function encodeVector(vector: ArrayLike<number>, out: Int8Array): CodedVector {
  const n = vector.length;
  let max = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const x = vector[i] as number;
    const a = Math.abs(x);
    if (a > max) max = a;
    sumSquares += x * x;
  }
  // The kernel multiplies by a float32 scale, so the residual is measured against that one.
  const scale = Math.fround(max / CODE_MAX);
  let residualSquares = 0;
  for (let i = 0; i < n; i++) {
    const x = vector[i] as number;
    const code = scale === 0 ? 0 : clamp(Math.round(x / scale), CODE_MAX);
    out[i] = code;
    const e = x - scale * code;
    residualSquares += e * e;
  }
  return { scale, norm: Math.sqrt(sumSquares), residual: Math.sqrt(residualSquares) };
}

/** A query as the kernel takes it, and the terms of its side of the bound. */
export interface CodedQuery {
  /** int16 codes, padded with zeros to the row stride. */
  codes: Int16Array;
  /** Multiplier turning the kernel's output into a dot product. */
  scale: number;
  /** ‖q‖. */
  norm: number;
  /** ‖q - scale·codes‖. */
  residual: number;
}

/**
 * Quantises a query for rows of `stride` codes. Its largest code is chosen so that no sum the
 * kernel forms can leave int32: stride * 127 * max|code| < 2^31.
 */
export function encodeQuery(query: ArrayLike<number>, stride: number): CodedQuery {
  const limit = Math.min(QUERY_CODE_MAX, Math.floor((2 ** 31 - 1) / (stride * CODE_MAX)));
  const codes = new Int16Array(stride);
  let max = 0;
  let sumSquares = 0;
  for (let i = 0; i < query.length; i++) {
    const x = query[i] as number;
    if (Math.abs(x) > max) max = Math.abs(x);
    sumSquares += x * x;
  }
  const scale = max / limit;
  let residualSquares = 0;
  for (let i = 0; i < query.length; i++) {
    const x = query[i] as number;
    const code = scale === 0 ? 0 : clamp(Math.round(x / scale), limit);
    codes[i] = code;
    const e = x - scale * code;
    residualSquares += e * e;
  }
  return { codes, scale, norm: Math.sqrt(sumSquares), residual: Math.sqrt(residualSquares) };
}

/**
 * How far the approximate score of a row (norm ‖v‖, residual ‖e‖) can be from the exact dot
 * product with `query`, rounding included.
 */
export function errorBound(query: CodedQuery, norm: number, residual: number): number {
  const bound = query.residual * norm + (query.norm + query.residual) * residual;
  return bound + ROUNDING_SLACK * query.norm * (norm + residual);
}
