// SigLIP's image preprocessing, after Hugging Face's SiglipImageProcessor: the whole image is
// resized to size x size (PIL bicubic, the aspect ratio is not kept and nothing is cropped), then
// turned into a CHW float32 tensor normalised with the model's mean and std (0.5 for SigLIP, so
// values run from -1 to 1). Decoding, EXIF rotation, colour profiles and alpha are handled by
// withOpenedImage exactly as for CLIP, within the same decode budget; a large JPEG is decoded at
// reduced scale as for CLIP (jpeg-scaled-decode.ts), resized to 224x224 in the same pass.
// test/fixtures/siglip-parity holds the tensors' reference bytes, made by PIL, and
// squash-parity.test.ts compares with them.
import type { PreparedImage } from '../embedding/embedder.js';
import { FindimageError } from '../errors.js';
import type { VisionPreprocessing } from '../models/model-spec.js';
import { fromRaw, resizeHeight, resizeWidth, toRaw, type RawImage } from './axis-resize.js';
import { toChwTensor, type PrepareOptions } from './clip-preprocessor.js';
import { unreadableImageError, withOpenedImage, type ImageSize, type OpenedImage } from './image-decoder.js';

/**
 * Tallest image, in source rows, that takes the exact two-pass path. The first pass's output
 * (size x height RGB, up to 224 x 16,384 x 3 bytes, 11 MB) is held in memory; a taller image takes
 * one lazy libvips pass instead (a few levels off the reference), so a 16 x 7,500,000 image cannot
 * make a multi-gigabyte strip.
 */
const MAX_EXACT_HEIGHT = 16_384;

/**
 * Decodes image bytes and squashes them to the vision tower's square input, within the process's
 * decode budget. Throws InvalidImageError (see withOpenedImage for the codes) for anything that is
 * not a readable image.
 */
export async function prepareSquashedImage(
  bytes: Uint8Array,
  vision: VisionPreprocessing,
  options: PrepareOptions = {},
): Promise<PreparedImage> {
  const size = vision.imageSize;
  return withOpenedImage(bytes, async (opened) => {
    let image: RawImage;
    try {
      image = await squash(opened, size);
    } catch (error) {
      if (error instanceof FindimageError) throw error;
      throw unreadableImageError(opened.format, error);
    }
    if (image.width !== size || image.height !== size || image.channels !== 3) {
      throw new FindimageError(
        'internal',
        `Image preprocessing produced ${image.width}x${image.height}x${image.channels}, not ${size}x${size}x3.`,
      );
    }
    return { pixels: toChwTensor(image.data, vision), width: opened.width, height: opened.height, format: opened.format };
  }, { reduceTo: (width, height) => squashShrunkSize(width, height, size), scaledDecode: options.scaledDecode ?? true });
}

/**
 * The size the squash shrinks an image to (what the decoder may decode a large JPEG towards):
 * size x size where both sides shrink; undefined where one is kept or enlarged.
 */
export function squashShrunkSize(width: number, height: number, size: number): ImageSize | undefined {
  return width > size && height > size ? { width: size, height: size } : undefined;
}

/**
 * The size x size RGB bytes (HWC) PIL's resize gives: width first, then height, each axis rounded
 * to bytes as PIL does (axis-resize.ts). One libvips pass instead samples an enlarged axis half a
 * source pixel away (cosine 0.97 on a 999x223 image). A huge WebP (OpenedImage.shrinkOnLoad) or a
 * very tall image takes that one lazy pass, so its whole frame is never in memory. A JPEG decoded
 * at reduced scale comes resized already (OpenedImage.pixels), or with its width done.
 */
async function squash(opened: OpenedImage, size: number): Promise<RawImage> {
  const { width, height } = opened.pixels;
  if (opened.shrinkOnLoad || height > MAX_EXACT_HEIGHT) {
    return toRaw(
      opened.pipeline.resize(size, size, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: opened.shrinkOnLoad }),
    );
  }
  const columns = width === size && opened.raw !== undefined ? opened.raw : await resizeWidth(opened.pipeline, width, height, size);
  return height === size ? columns : resizeHeight(fromRaw(columns), size, height, size);
}
