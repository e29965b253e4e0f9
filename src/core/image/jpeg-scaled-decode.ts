// The plan of a JPEG decode at reduced scale (libjpeg's DCT scaling, reached through sharp's
// shrink-on-load): whether a JPEG the caller will shrink a lot is decoded at 1/2, 1/4 or 1/8
// scale, and to what intermediate. image-decoder.ts carries the plan out.
import type { ImageSize } from './image-decoder.js';
import type { ImageFormat } from './image-format.js';

/**
 * How many times the caller's size (OpenOptions.reduceTo) a scaled JPEG decode keeps on each side.
 * The intermediate is shrunk to the caller's size by its own exact resize afterwards, so the
 * margin decides how close the result stays to a full-size decode: measured against PIL's
 * CLIPImageProcessor on 12 MP photos, 2 gave cosine 0.99995 on a noisy photo, 2.5 gave 0.99996
 * and 3 gave 0.99997, but 3 makes sharp decode a 4000x3000 photo at 1/2 scale where 2.5 still
 * allows 1/4 (a shrink of 4.46 is halved by sharp's rounding guard, see jpegDecodeShrink), which
 * takes 15-30% less time to decode. docs/image-preprocessing.md has the table.
 */
export const SCALED_DECODE_MARGIN = 2.5;

/** A JPEG decode at reduced scale: what libjpeg decodes and what the pipeline yields. */
export interface ScaledDecode {
  /** libjpeg's scale denominator: 2, 4 or 8. */
  shrink: number;
  /** Pixels libjpeg decodes: ceil(width / shrink) x ceil(height / shrink). */
  decodedPixels: number;
  /** The intermediate libvips resizes libjpeg's output to, which the pipeline yields. */
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
 * an intermediate of SCALED_DECODE_MARGIN times its size, sharp lets libjpeg skip at least half of
 * each axis. Anything less (a short side under about 1,680 pixels for CLIP's 224) is decoded whole
 * and resized once, as before: sharp would keep libjpeg at full scale, and the intermediate would
 * only add a resampling.
 */
export function planScaledDecode(
  header: { format: ImageFormat; width: number; height: number },
  reduceTo: ((width: number, height: number) => ImageSize | undefined) | undefined,
): ScaledDecode | undefined {
  if (header.format !== 'jpeg' || reduceTo === undefined) return undefined;
  const { width, height } = header;
  const target = reduceTo(width, height);
  if (target === undefined) return undefined;
  const factor = Math.min(width / target.width, height / target.height) / SCALED_DECODE_MARGIN;
  if (!(factor > 1)) return undefined;
  const intermediate = { width: Math.max(1, Math.round(width / factor)), height: Math.max(1, Math.round(height / factor)) };
  // The shrink sharp itself computes from the intermediate (ResolveShrink, fit: 'fill').
  const shrink = jpegDecodeShrink(Math.min(width / intermediate.width, height / intermediate.height));
  if (shrink === 1) return undefined;
  return { shrink, decodedPixels: Math.ceil(width / shrink) * Math.ceil(height / shrink), intermediate };
}
