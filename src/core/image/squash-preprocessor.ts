// SigLIP's image preprocessing, after Hugging Face's SiglipImageProcessor: the whole image is
// resized to size x size (bicubic, the aspect ratio is not kept and nothing is cropped), then
// turned into a CHW float32 tensor normalised with the model's mean and std (0.5 for SigLIP, so
// values run from -1 to 1). Decoding, EXIF rotation, colour profiles and alpha are handled by
// withOpenedImage exactly as for CLIP, within the same decode budget.
import type { PreparedImage } from '../embedding/embedder.js';
import { FindimageError } from '../errors.js';
import type { VisionPreprocessing } from '../models/model-spec.js';
import { toChwTensor } from './clip-preprocessor.js';
import { unreadableImageError, withOpenedImage } from './image-decoder.js';

/**
 * Decodes image bytes and squashes them to the vision tower's square input, within the process's
 * decode budget. Throws InvalidImageError (see withOpenedImage for the codes) for anything that is
 * not a readable image.
 */
export async function prepareSquashedImage(bytes: Uint8Array, vision: VisionPreprocessing): Promise<PreparedImage> {
  const size = vision.imageSize;
  return withOpenedImage(bytes, async (opened) => {
    let rgb: Buffer;
    try {
      const { data, info } = await opened.pipeline
        // No shrink-on-load (JPEG's DCT shrink is not the reference's bicubic filter), except for a
        // huge WebP, whose whole frame would otherwise sit in memory.
        .resize(size, size, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: opened.shrinkOnLoad })
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
    return { pixels: toChwTensor(rgb, vision), width: opened.width, height: opened.height, format: opened.format };
  });
}
