// Resizing one axis at a time, as PIL does: PIL's resize runs a horizontal pass, rounds to bytes,
// then a vertical pass, and samples each output pixel's centre at (X + 0.5) / scale - 0.5 in the
// source. libvips' two-axis resize does height first and samples an enlarged axis about half a
// source pixel away, so SigLIP's squash (squash-preprocessor.ts) takes its exact passes from
// here; the CLIP crop (clip-preprocessor.ts) shares only the raw-pixel helpers and the edge margin.
import sharp, { type Sharp } from 'sharp';

/** Raw 8-bit pixels between two sharp pipelines. */
export interface RawImage {
  /** Interleaved pixels, row by row. */
  data: Buffer;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bytes per pixel. */
  channels: number;
}

/**
 * Extra source pixels copied around an image before an axis is enlarged: the reach of the bicubic
 * (Catmull-Rom) kernel, so the edge pixels are sampled from copies of the edge rather than from
 * black (libvips' affine has no edge mode of its own in sharp).
 */
export const UPSCALE_EDGE = 2;

/** Runs a pipeline to raw RGB bytes (alpha, already flattened by the decoder, is dropped). */
export async function toRaw(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** A sharp pipeline that starts from raw bytes. */
export function fromRaw(image: RawImage): Sharp {
  const { width, height, channels } = image;
  return sharp(image.data, { raw: { width, height, channels: channels as 3 } });
}

/**
 * Resizes the width of a width x height image to `target`, keeping its height, with PIL's own
 * arithmetic (resampleAxis), byte for byte. A shrink too costly for a JavaScript loop (over
 * MAX_PIL_RESAMPLE_COST, a large photo) takes libvips' bicubic reduce on its threads instead,
 * within a few levels of PIL (cosine >= 0.99995 measured; no shrink-on-load: with one axis at
 * scale 1 sharp never asks the JPEG decoder to shrink, whose DCT scaling is not PIL's filter).
 * Nothing to do when the width is already `target`.
 */
export async function resizeWidth(pipeline: Sharp, width: number, height: number, target: number): Promise<RawImage> {
  if (target === width) return toRaw(pipeline);
  if (target < width && resampleCost(width, target, height) > MAX_PIL_RESAMPLE_COST) {
    return toRaw(pipeline.resize(target, height, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: false }));
  }
  return resampleAxis(await toRaw(pipeline), 'width', target);
}

/** resizeWidth for the other axis: the height becomes `target`, the width is kept. */
export async function resizeHeight(pipeline: Sharp, width: number, height: number, target: number): Promise<RawImage> {
  if (target === height) return toRaw(pipeline);
  if (target < height && resampleCost(height, target, width) > MAX_PIL_RESAMPLE_COST) {
    return toRaw(pipeline.resize(width, target, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: false }));
  }
  return resampleAxis(await toRaw(pipeline), 'height', target);
}

/** PIL's bicubic kernel parameter (Catmull-Rom), a = -0.5 in its Resample.c. */
const BICUBIC_A = -0.5;

/** Reach of the bicubic kernel in source pixels at scale 1 (PIL's bicubic support). */
const BICUBIC_SUPPORT = 2;

/**
 * Fraction bits of PIL's fixed-point coefficients for 8-bit images (PRECISION_BITS in Resample.c:
 * 32 - 8 - 2), so sums of a row of 8-bit pixels fit its 32-bit accumulator.
 */
const PRECISION_BITS = 22;

/** PIL's bicubic filter (Resample.c bicubic_filter). */
function bicubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((BICUBIC_A + 2) * t - (BICUBIC_A + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * BICUBIC_A;
  return 0;
}

/** For each output pixel of one axis: the first source pixel and the fixed-point weights. */
interface AxisCoefficients {
  /** First source index each output pixel reads. */
  first: Int32Array;
  /** Weights, `taps` per output pixel, scaled by 2^PRECISION_BITS and rounded as PIL does. */
  weights: Int32Array;
  /** Weights per output pixel (unused ones are 0). */
  taps: number;
}

/**
 * Multiply-adds one PIL-exact pass may cost before the libvips reduce takes over: about 20 ms of
 * JavaScript on the calling thread. Every enlargement and the shrinks of small images (where
 * libvips' box pre-shrink and edge handling cost most parity) stay under it; a 12-megapixel
 * photo's first pass (about 140 million) does not.
 */
const MAX_PIL_RESAMPLE_COST = 16_000_000;

/** Multiply-adds of resampleAxis on an axis of inSize -> outSize, `across` pixels wide, RGB. */
function resampleCost(inSize: number, outSize: number, across: number): number {
  const filterScale = Math.max(1, inSize / outSize);
  return outSize * across * 3 * (Math.ceil(BICUBIC_SUPPORT * filterScale) * 2 + 1);
}

/**
 * PIL's precompute_coeffs and normalize_coeffs_8bpc: output pixel X centred at
 * (X + 0.5) * in / out in the source, the kernel widened by the shrink factor when shrinking, cut
 * at the image's edges and renormalised over what is left (where libvips, which copies or blacks
 * out the edges, differed most).
 */
function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = BICUBIC_SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const kernel = new Float64Array(taps);
  for (let x = 0; x < outSize; x++) {
    const centre = (x + 0.5) * scale;
    const min = Math.max(0, Math.trunc(centre - support + 0.5));
    const max = Math.min(inSize, Math.trunc(centre + support + 0.5)) - min;
    let total = 0;
    for (let i = 0; i < max; i++) {
      kernel[i] = bicubic((i + min - centre + 0.5) / filterScale);
      total += kernel[i]!;
    }
    first[x] = min;
    for (let i = 0; i < max; i++) {
      const weight = total !== 0 ? kernel[i]! / total : 0;
      weights[x * taps + i] = Math.trunc(weight * 2 ** PRECISION_BITS + (weight < 0 ? -0.5 : 0.5));
    }
  }
  return { first, weights, taps };
}

/** PIL's clip8: the fixed-point sum back to a byte, clamped to 0..255. */
function clip8(sum: number): number {
  if (sum <= 0) return 0;
  const value = Math.floor(sum / 2 ** PRECISION_BITS);
  return value > 255 ? 255 : value;
}

/**
 * Resizes one axis of raw RGB bytes exactly as PIL's resize does (ImagingResampleHorizontal_8bpc
 * and its vertical twin): integer weights, a rounding half added, a clamp to a byte. Done here
 * rather than in libvips, whose affine cannot renormalise its kernel at the edges (on a 16-pixel
 * wide image enlarged 14 times that edge is a fifth of the output) and whose reduce box-filters
 * first. Callers keep the cost (resampleCost) under MAX_PIL_RESAMPLE_COST.
 */
export function resampleAxis(image: RawImage, axis: 'width' | 'height', target: number): RawImage {
  const { width, height, channels } = image;
  const source = image.data;
  const horizontal = axis === 'width';
  const { first, weights, taps } = axisCoefficients(horizontal ? width : height, target);
  const outWidth = horizontal ? target : width;
  const outHeight = horizontal ? height : target;
  const out = Buffer.alloc(outWidth * outHeight * channels);
  const half = 2 ** (PRECISION_BITS - 1);
  // Distance in bytes between neighbours along the axis being enlarged.
  const step = horizontal ? channels : width * channels;
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const along = horizontal ? x : y;
      const start = horizontal ? (y * width + first[along]!) * channels : (first[along]! * width + x) * channels;
      const row = along * taps;
      for (let c = 0; c < channels; c++) {
        let sum = half;
        for (let k = 0; k < taps; k++) {
          const weight = weights[row + k]!;
          // Weights past the image's edge are 0, and so are never read.
          if (weight !== 0) sum += source[start + k * step + c]! * weight;
        }
        out[(y * outWidth + x) * channels + c] = clip8(sum);
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}
