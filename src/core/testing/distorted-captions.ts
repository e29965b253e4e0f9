// Generated tuning data with a known answer: image vectors at random, and each image's caption
// vector a fixed linear distortion of it (a random rotation) plus noise, so the adapter that
// undoes the distortion exists and plain cosine ranks almost at chance. With `structure: false`
// the captions are random vectors instead, unrelated to their images: nothing to learn.
import { normalize } from '../embedding/vector-math.js';
import { seededRandom } from '../seeded-random.js';
import { rankAmong, type TuningSource } from '../tuning/adapter-tuning.js';

export interface DistortedCaptionsOptions {
  dimension: number;
  images: number;
  seed: number;
  /** Whether captions are the distorted image vectors (true) or unrelated random vectors (false). */
  structure: boolean;
  /** Standard deviation of the noise added to each caption coordinate, before normalising (default 0.3 / sqrt(d)). */
  noise?: number;
}

/** A dataset-like source: image i is "image-i", captioned once by "caption i". */
export function distortedCaptions(options: DistortedCaptionsOptions): TuningSource & { rotation: Float32Array } {
  const d = options.dimension;
  const random = seededRandom(options.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const unit = () => normalize(Float32Array.from({ length: d }, gauss));
  const rotation = randomRotation(d, unit);
  const noise = options.noise ?? 0.3 / Math.sqrt(d);
  const images = new Map<string, Float32Array>();
  const questions = Array.from({ length: options.images }, (_, i) => {
    const image = unit();
    images.set(`image-${i}`, image);
    let vector: Float32Array;
    if (options.structure) {
      vector = new Float32Array(d);
      for (let r = 0; r < d; r++) {
        let sum = 0;
        for (let k = 0; k < d; k++) sum += (rotation[r * d + k] as number) * (image[k] as number);
        vector[r] = sum + noise * gauss();
      }
      normalize(vector);
    } else vector = unit();
    return { group: `image-${i}`, text: `caption ${i}`, vector, labels: new Map([[`image-${i}`, 1]]) };
  });
  return { name: 'distorted captions', questions, images, rank: rankAmong(images), rotation };
}

/** A random orthogonal d x d matrix, row-major (Gram-Schmidt on random rows). */
function randomRotation(d: number, unit: () => Float32Array): Float32Array {
  const rows: Float32Array[] = [];
  while (rows.length < d) {
    const v = unit();
    for (const u of rows) {
      let p = 0;
      for (let k = 0; k < d; k++) p += (v[k] as number) * (u[k] as number);
      for (let k = 0; k < d; k++) v[k] = (v[k] as number) - p * (u[k] as number);
    }
    rows.push(normalize(v));
  }
  const matrix = new Float32Array(d * d);
  rows.forEach((row, r) => matrix.set(row, r * d));
  return matrix;
}
