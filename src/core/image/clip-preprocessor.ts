// CLIP's image preprocessing: shortest side resized to the model's size (bicubic), centre crop,
// then a CHW float32 tensor normalised with the model's mean and std. Decoding runs on sharp's
// libuv threads (and HEIC in a worker), so the calling thread stays free.
import type { PreparedImage } from '../embedding/embedder.js';
import { FindimageError } from '../errors.js';
import type { VisionPreprocessing } from '../models/model-spec.js';
import { openImage, unreadableImageError } from './image-decoder.js';

/**
 * Decodes image bytes and preprocesses them for a vision tower. Throws InvalidImageError (see
 * openImage for the codes) for anything that is not a readable image within the limits.
 */
export async function prepareImage(
  bytes: Uint8Array,
  vision: VisionPreprocessing,
): Promise<PreparedImage> {
  const size = vision.imageSize;
  const opened = await openImage(bytes);
  let rgb: Buffer;
  try {
    const { data, info } = await opened.pipeline
      .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'cubic' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new FindimageError(
        'internal',
        `Image preprocessing produced ${info.width}x${info.height}x${info.channels}, not ${size}x${size}x3.`,
      );
    }
    rgb = data;
  } catch (error) {
    if (error instanceof FindimageError) throw error;
    throw unreadableImageError(opened.format, error);
  }
  return {
    pixels: toChwTensor(rgb, vision),
    width: opened.width,
    height: opened.height,
    format: opened.format,
  };
}

/** Interleaved RGB bytes (HWC) to planar normalised floats (CHW): (byte / 255 - mean) / std. */
function toChwTensor(rgb: Uint8Array, vision: VisionPreprocessing): Float32Array {
  const plane = vision.imageSize * vision.imageSize;
  const pixels = new Float32Array(3 * plane);
  for (let channel = 0; channel < 3; channel++) {
    const table = normalisationTable(vision.mean[channel]!, vision.std[channel]!);
    const offset = channel * plane;
    for (let i = 0; i < plane; i++) pixels[offset + i] = table[rgb[i * 3 + channel]!]!;
  }
  return pixels;
}

/** The 256 normalised values of one channel, computed in double precision once per image. */
function normalisationTable(mean: number, std: number): Float32Array {
  const table = new Float32Array(256);
  for (let value = 0; value < 256; value++) table[value] = (value / 255 - mean) / std;
  return table;
}
