// The SIMD kernel against a plain dot product, on lengths that exercise each of its loops.
import { describe, expect, it } from 'vitest';
import { createScanKernel, KERNEL_PAGE_BYTES } from './scan-kernel.js';

/** A repeatable pseudo-random float in [-1, 1) (a small LCG; Math.random cannot be seeded). */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

describe('scan kernel', () => {
  // 1-3: only the one-by-one tail; 4-15: by 4; 16+: by 16 with every kind of remainder.
  it.each([1, 3, 4, 7, 8, 15, 16, 17, 20, 33, 64, 100, 512])(
    'scores only the listed rows, equal to a float32 dot product, at length %i',
    (dim) => {
      const kernel = createScanKernel(4);
      const next = sequence(dim);
      const rowCount = 9;
      const matrix = new Float32Array(kernel.memory.buffer, 0, rowCount * dim);
      for (let i = 0; i < matrix.length; i++) matrix[i] = next();
      const queryAt = matrix.byteLength;
      const query = new Float32Array(kernel.memory.buffer, queryAt, dim);
      for (let i = 0; i < dim; i++) query[i] = next();
      const rowsAt = queryAt + dim * 4;
      const chosen = [8, 0, 3, 3];
      new Int32Array(kernel.memory.buffer, rowsAt, chosen.length).set(chosen);
      const outAt = rowsAt + chosen.length * 4;
      const out = new Float32Array(kernel.memory.buffer, outAt, chosen.length + 1);
      out[chosen.length] = 42;

      kernel.scoreRows(0, queryAt, rowsAt, chosen.length, dim, outAt);

      chosen.forEach((row, i) => {
        let expected = 0;
        for (let j = 0; j < dim; j++) expected += matrix[row * dim + j]! * query[j]!;
        // float32 sums in another order: equal to a few units in the last place.
        expect(out[i]).toBeCloseTo(expected, 4);
      });
      expect(out[2]).toBe(out[3]);
      expect(out[chosen.length]).toBe(42);
    },
  );

  it('writes nothing for an empty row list', () => {
    const kernel = createScanKernel(1);
    const out = new Float32Array(kernel.memory.buffer, 1024, 1);
    out[0] = 7;
    kernel.scoreRows(0, 512, 768, 0, 4, 1024);
    expect(out[0]).toBe(7);
  });

  it('keeps its rows in place when the memory grows', () => {
    const kernel = createScanKernel(1);
    new Float32Array(kernel.memory.buffer, 0, 4).set([1, 2, 3, 4]);
    kernel.memory.grow(2);
    expect(kernel.memory.buffer.byteLength).toBe(3 * KERNEL_PAGE_BYTES);
    const memory = new Float32Array(kernel.memory.buffer);
    memory.set([1, 1, 1, 1], 100);
    new Int32Array(kernel.memory.buffer).set([0], 200);
    kernel.scoreRows(0, 400, 800, 1, 4, 1200);
    expect(memory[300]).toBe(10);
  });
});
