// The int8 SIMD kernel against a plain integer dot product, and the quantised score against the
// float one within the error bound that the exact re-rank relies on.
import { describe, expect, it } from 'vitest';
import { CODE_PAGE_BYTES, createCodeKernel } from './code-kernel.js';
import { CodeRows } from './code-rows.js';
import { codeStride, encodeQuery, errorBound } from './quantized-codes.js';

/** A repeatable pseudo-random float in [-1, 1) (a small LCG; Math.random cannot be seeded). */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

describe('int8 code kernel', () => {
  it.each([16, 32, 512])('scores the listed rows as an integer dot product, stride %i', (stride) => {
    const kernel = createCodeKernel(4);
    const next = sequence(stride);
    const rowCount = 9;
    const codes = new Int8Array(kernel.memory.buffer, 0, rowCount * stride);
    // The extremes included: the sum must not overflow at 127 x 32767 over every column.
    for (let i = 0; i < codes.length; i++) {
      codes[i] = i % 97 === 0 ? -127 : Math.round(next() * 127);
    }
    const scalesAt = codes.byteLength;
    const scales = new Float32Array(kernel.memory.buffer, scalesAt, rowCount);
    for (let r = 0; r < rowCount; r++) scales[r] = 0.5 + r;
    const queryAt = scalesAt + rowCount * 4;
    const query = new Int16Array(kernel.memory.buffer, queryAt, stride);
    const limit = Math.min(32_767, Math.floor((2 ** 31 - 1) / (stride * 127)));
    for (let i = 0; i < stride; i++) query[i] = i % 5 === 0 ? -limit : Math.round(next() * limit);
    const rowsAt = queryAt + stride * 2;
    const chosen = [8, 0, 3, 3];
    new Int32Array(kernel.memory.buffer, rowsAt, chosen.length).set(chosen);
    const outAt = rowsAt + chosen.length * 4;
    const out = new Float32Array(kernel.memory.buffer, outAt, chosen.length + 1);
    out[chosen.length] = 42;

    kernel.scoreCodes(0, queryAt, rowsAt, chosen.length, stride, scalesAt, outAt);

    chosen.forEach((row, i) => {
      let sum = 0;
      for (let j = 0; j < stride; j++) sum += codes[row * stride + j]! * query[j]!;
      expect(out[i]).toBe(Math.fround(Math.fround(sum) * scales[row]!));
    });
    expect(out[chosen.length]).toBe(42);
    expect(kernel.memory.buffer.byteLength).toBe(4 * CODE_PAGE_BYTES);
  });

  it.each([3, 4, 17, 512])('keeps approximate scores within their bound, length %i', (dim) => {
    const next = sequence(1000 + dim);
    const rows = new CodeRows(dim, 64);
    const vectors: Float32Array[] = [];
    for (let r = 0; r < 64; r++) {
      // Some unit vectors, some long, one all zero, one with a single large component.
      const size = r % 3 === 0 ? 3 : 1;
      const v = Float32Array.from({ length: dim }, () => (r === 5 ? 0 : next() * size));
      if (r === 7) v[0] = 40;
      vectors.push(v);
      rows.write(r, v);
    }
    for (let trial = 0; trial < 5; trial++) {
      const q = Float32Array.from({ length: dim }, () => next());
      const coded = encodeQuery(q, codeStride(dim));
      for (let r = 0; r < 64; r++) rows.rows[r] = r;
      rows.scan(coded, 64);
      let tightest = Infinity;
      for (let r = 0; r < 64; r++) {
        let exact = 0;
        for (let j = 0; j < dim; j++) exact += vectors[r]![j]! * q[j]!;
        const approx = rows.out[r]! * coded.scale;
        const bound = errorBound(coded, rows.norm[r]!, rows.residual[r]!);
        expect(Math.abs(approx - exact)).toBeLessThanOrEqual(bound);
        const relative = bound / (rows.norm[r]! * coded.norm);
        if (rows.norm[r]! > 0) tightest = Math.min(tightest, relative);
      }
      // A useful bound: a few percent of |q||v| at most, not a vacuous one.
      expect(tightest).toBeLessThan(0.05);
    }
  });
});
