// Distinct pseudo-random 224x224 CHW tensors for the benches that feed a tower directly: the same
// seeded sequence every run, and no two inputs alike, so no layer can shortcut on repeated input.
import type { PreparedImage } from '../src/core/embedding/embedder.js';

/** The side of the square the vision towers take. */
const SIZE = 224;

/** `count` pixel tensors, values in [-2, 2) like normalised images. */
export function randomPixels(count: number): Float32Array[] {
  let state = 12345;
  return Array.from({ length: count }, () => {
    const pixels = new Float32Array(3 * SIZE * SIZE);
    for (let i = 0; i < pixels.length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      pixels[i] = (state / 2147483648) * 4 - 2;
    }
    return pixels;
  });
}

/** The same tensors as prepared images, for an Embedder. */
export function randomImages(count: number): PreparedImage[] {
  return randomPixels(count).map((pixels) => ({ pixels, width: SIZE, height: SIZE, format: 'raw' }));
}
