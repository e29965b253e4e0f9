// The plan of a JPEG decode at reduced scale (libjpeg's DCT scaling, reached through sharp's
// shrink-on-load): whether a JPEG the caller will shrink a lot is decoded at 1/2, 1/4 or 1/8
// scale, and to what intermediate. image-decoder.ts carries the plan out.
import type { ImageSize } from './image-decoder.js';
import type { ImageFormat } from './image-format.js';

/**
 * How many times the caller's height (OpenOptions.reduceTo) a scaled JPEG decode keeps; its width
 * goes straight to the caller's. The caller resizes the width first and the height second, as
 * PIL does, so the decode's own resize does the first pass whole and the caller's exact pass only
 * the height, from this margin. Measured against PIL's CLIPImageProcessor on twelve 12 MP and
 * larger JPEGs: 2 gave cosine 0.99995 to 0.99998, as close as 2.5 and 3 (one pass and one
 * resampling fewer than the intermediate both axes had before, which scored the same); 1.5 and
 * below make sharp decode a 12 MP photo at 1/8 scale, 0.99984 to 0.99989, under the 0.9999 bound.
 * docs/image-preprocessing.md has the table.
 */
export const SCALED_DECODE_MARGIN = 2;

/** A JPEG decode at reduced scale: what libjpeg decodes and what the pipeline yields. */
export interface ScaledDecode {
  /** libjpeg's scale denominator: 2, 4 or 8. */
  shrink: number;
  /** Pixels libjpeg decodes: width / shrink x height / shrink. */
  decodedPixels: number;
  /**
   * The upright size libvips resizes libjpeg's output to, which the pipeline yields: the caller's
   * width, and SCALED_DECODE_MARGIN times its height (more where a smaller scale was needed).
   */
  intermediate: ImageSize;
}

/**
 * The denominator libjpeg decodes a JPEG at when sharp shrinks it by `shrink` (the smaller of
 * its two axes' factors) with fastShrinkOnLoad, mirroring sharp 0.35's src/pipeline.cc: 8, 4 or 2
 * where the shrink is at least that, then halved where the shrink's whole part equals it (sharp's
 * guard against libjpeg's rounding), so libvips always has a factor of (s + 1) / s or more left.
 * sharp has no other way to ask for DCT scaling, so the intermediate's size is chosen through it.
 */
export function jpegDecodeShrink(shrink: number): 1 | 2 | 4 | 8 {
  let scale: 1 | 2 | 4 | 8 = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  if (scale > 1 && Math.trunc(shrink) === scale) scale = (scale / 2) as 2 | 4;
  return scale;
}

/**
 * Whether and how a JPEG is decoded at reduced scale: where the caller shrinks it enough that, for
 * an intermediate SCALED_DECODE_MARGIN times its height, sharp lets libjpeg skip at least half of
 * each axis. Anything less (a short side under about 1,340 pixels for CLIP's 224) is decoded whole,
 * as before.
 *
 * Only a scale that divides both sides is used. libjpeg rounds a scaled side up (4001 pixels at
 * 1/4 give 1001, which stand for 1000.25), and libvips then stretches those whole pixels over the
 * intermediate: the picture slides by up to a fifth of an output pixel towards the far edge, and a
 * drawn 4001x2999 JPEG measured cosine 0.99935 against PIL at 1/4 (0.99988 at 1/2) where its
 * full-size decode gives 0.99996. Where the natural scale does not divide the sides, the next
 * smaller one that does is used, with an intermediate tall enough for sharp to pick it.
 */
export function planScaledDecode(
  header: { format: ImageFormat; width: number; height: number },
  reduceTo: ((width: number, height: number) => ImageSize | undefined) | undefined,
): ScaledDecode | undefined {
  if (header.format !== 'jpeg' || reduceTo === undefined) return undefined;
  const { width, height } = header;
  const target = reduceTo(width, height);
  if (target === undefined) return undefined;
  let intermediate = { width: target.width, height: Math.min(height, Math.round(target.height * SCALED_DECODE_MARGIN)) };
  // The shrink sharp itself computes from the intermediate (ResolveShrink, fit: 'fill').
  const shrinkTo = (size: ImageSize) => Math.min(width / size.width, height / size.height);
  let shrink = jpegDecodeShrink(shrinkTo(intermediate));
  while (shrink > 1 && (width % shrink !== 0 || height % shrink !== 0)) {
    shrink = (shrink / 2) as 1 | 2 | 4;
    // The tallest intermediate for which sharp still decodes at 1/shrink: a shrink of shrink + 1.
    if (shrink > 1) intermediate = { width: target.width, height: Math.floor(height / (shrink + 1)) };
    if (shrink > 1 && jpegDecodeShrink(shrinkTo(intermediate)) !== shrink) return undefined;
  }
  if (shrink === 1) return undefined;
  return { shrink, decodedPixels: (width / shrink) * (height / shrink), intermediate };
}
