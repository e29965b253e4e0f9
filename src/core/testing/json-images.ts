// Test "images" that are JSON vectors: the edge fake for decoding, so indexing tests can choose
// each image's embedding. Anything that is not a JSON array is refused as the decoder would.
import type { PreparedImage } from '../embedding/embedder.js';
import { InvalidImageError } from '../errors.js';
import { imageWithVector } from './known-vector-embedder.js';

export async function prepareJsonImage(bytes: Uint8Array): Promise<PreparedImage> {
  try {
    return imageWithVector(JSON.parse(Buffer.from(bytes).toString('utf8')) as number[], 640, 480);
  } catch {
    throw new InvalidImageError('image_invalid', 'This file is not an image.');
  }
}

export const jsonImage = (vector: number[]): Buffer => Buffer.from(JSON.stringify(vector));
