// The plan of a JPEG decode at reduced scale (libjpeg's DCT scaling, reached through sharp's
// shrink-on-load): whether a JPEG the caller will shrink a lot is decoded at 1/2, 1/4 or 1/8
// scale, and to what intermediate. image-decoder.ts carries the plan out.
import type { ImageSize } from './image-decoder.js';
import type { ImageFormat } from './image-format.js';

/** A JPEG decode at reduced scale: what libjpeg decodes and what the pipeline yields. */
export interface ScaledDecode {
  /** libjpeg's scale denominator: 2, 4 or 8. */
  shrink: number;
  /** Pixels libjpeg decodes: width / shrink x height / shrink. */
  decodedPixels: number;
  /**
   * The upright size libvips resizes libjpeg's output to, which the pipeline yields: the caller's
   * size, in one pass; or, where only a smaller scale than sharp's own divides the sides, the
   * caller's width and the image's height / (2 x shrink), for the caller's own height pass.
   */
  intermediate: ImageSize;
}

/**
 * The denominator libjpeg decodes a JPEG at when sharp shrinks it by `shrink` (the smaller of its
 * two axes' factors) with fastShrinkOnLoad: false, mirroring sharp 0.35's src/pipeline.cc: the
 * largest of 8, 4 and 2 that leaves libvips a shrink of 2 or more, so libvips' bicubic reduce,
 * widened by that factor, still does the averaging the reference's kernel does. (With
 * fastShrinkOnLoad, sharp would leave as little as (s + 1) / s, and a 12 MP photo decoded at 1/8
 * that way measured cosine 0.9998 against PIL.) sharp has no other way to ask for DCT scaling, so
 * the intermediate's size is chosen through it.
 */
export function jpegDecodeShrink(shrink: number): 1 | 2 | 4 | 8 {
  return shrink >= 16 ? 8 : shrink >= 8 ? 4 : shrink >= 4 ? 2 : 1;
}

/**
 * Smallest scale denominator sharp would pick for the caller's size (a shrink of 8 or more: a
 * short side of 1,792 pixels or more for CLIP's 224) for which a JPEG is decoded at reduced
 * scale. At 1/2, a drawn 1600x1200 photo measured cosine 0.99996 against PIL but one value 8.5
 * levels off (0.128, over the small images' bound of 0.1), and a 2-megapixel photo costs little
 * to decode whole: those keep the full-size path they had.
 */
const MIN_NATURAL_SHRINK = 4;

/**
 * Whether and how a JPEG is decoded at reduced scale: where the caller shrinks it by 8 or more, so
 * that sharp lets libjpeg skip at least three quarters of each axis and still leaves libvips a
 * shrink of 2. The decode's own resize then goes straight to the caller's size (one resampling, as the
 * reference's), within the same parity bound: measured against PIL's CLIPImageProcessor on ten
 * 4 to 48 MP JPEGs, cosine 0.99995 to 0.99999, closer than the full-size decode (0.99994 to
 * 0.99998), whose libvips reduce box-filters shrinks over 4x where PIL does not.
 *
 * Only a scale that divides both sides is used. libjpeg rounds a scaled side up (4001 pixels at
 * 1/4 give 1001, which stand for 1000.25), and libvips then stretches those whole pixels over the
 * intermediate: the picture slides by up to a fifth of an output pixel towards the far edge, and a
 * drawn 4001x2999 JPEG measured cosine 0.99935 against PIL at 1/4 (0.99988 at 1/2) where its
 * full-size decode gives 0.99996. Where the natural scale does not divide the sides, the next
 * smaller one that does is used, through an intermediate as tall as sharp needs to pick it (the
 * caller's width, a height 2 x scale times smaller than the image's) and the caller's own height
 * pass; where none does, the full frame.
 */
export function planScaledDecode(
  header: { format: ImageFormat; width: number; height: number },
  reduceTo: ((width: number, height: number) => ImageSize | undefined) | undefined,
): ScaledDecode | undefined {
  if (header.format !== 'jpeg' || reduceTo === undefined) return undefined;
  const { width, height } = header;
  const target = reduceTo(width, height);
  if (target === undefined) return undefined;
  // The shrink sharp itself computes from the size asked for (ResolveShrink, fit: 'fill').
  const natural = jpegDecodeShrink(Math.min(width / target.width, height / target.height));
  if (natural < MIN_NATURAL_SHRINK) return undefined;
  for (let shrink = natural; shrink > 1; shrink /= 2) {
    if (width % shrink !== 0 || height % shrink !== 0) continue;
    const intermediate =
      shrink === natural ? target : { width: target.width, height: Math.floor(height / (2 * shrink)) };
    if (jpegDecodeShrink(Math.min(width / intermediate.width, height / intermediate.height)) !== shrink) return undefined;
    return { shrink, decodedPixels: (width / shrink) * (height / shrink), intermediate };
  }
  return undefined;
}
