// Opens untrusted image bytes for decoding: checks the real format, the byte size and the pixel
// count read from the header before any pixel is decoded, waits for those pixels in the
// process-wide decode budget, then hands a sharp pipeline that yields the upright first frame as
// 8-bit sRGB with alpha flattened on white to the caller's preprocessing.
//
// A large JPEG the caller will shrink a lot is decoded by libjpeg at 1/2, 1/4 or 1/8 scale (its
// DCT scaling) and resized in the same pass to the caller's size, skipping most of the inverse
// DCT, colour conversion and resizing of a phone photo (not its entropy decoding, which no scale
// skips); jpeg-scaled-decode.ts plans it.
//
// sharp (libvips, tens of MB of native code) is imported on the first image, not when this
// module loads, so commands that read no image (a text search) never load it.
import type { Metadata, Sharp, SharpOptions } from 'sharp';
import type { RawImage } from './axis-resize.js';
import { InvalidImageError } from '../errors.js';
import { processDecodeBudget, type DecodeBudget } from './decode-budget.js';
import { decodeHeic } from './heic-decoder.js';
import { ACCEPTED_FORMATS_TEXT, sniffImageFormat, type ImageFormat } from './image-format.js';
import { planScaledDecode, type ScaledDecode } from './jpeg-scaled-decode.js';

/**
 * Largest file read, in bytes. Camera JPEGs and HEICs are under 30 MB even at 108 megapixels, and
 * the whole file is held in memory while it is decoded, so anything larger is refused unread.
 */
export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;

const MEGABYTE = 1024 * 1024;

/**
 * Largest image decoded, in pixels (width x height, from the header). 120 megapixels lets a
 * 108-megapixel phone photo (12000x9000) through; a full decode of more needs over 480 MB of
 * RGBA, and a small file can declare a huge size (a PNG "decompression bomb").
 */
export const MAX_IMAGE_PIXELS = 120_000_000;

/**
 * Smallest side indexed, in pixels. Below this an image is an icon, a spacer or a tracking pixel:
 * upscaled to the model's 224 px it carries nothing a description could find.
 */
export const MIN_IMAGE_SIDE = 16;

/**
 * WebP images over this many pixels are shrunk by libwebp while they are decoded (sharp's
 * shrink-on-load), not decoded whole and then resized. libvips holds a whole WebP frame in memory,
 * about 8.3 bytes a pixel (a 118-megapixel lossless WebP of 38 bytes peaked at 984 MB; shrunk on
 * load, 127 MB). libwebp's scaler averages areas where the reference resizes bicubically, so
 * smaller WebPs keep the exact path; above 16 megapixels (130 MB decoded) the few levels of
 * difference on a 224-pixel crop are worth the memory. JPEG, PNG and TIFF stream row by row and
 * need no such step.
 */
export const WEBP_SHRINK_ON_LOAD_PIXELS = 16_000_000;

/** A width and a height in pixels. */
export interface ImageSize {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** What the caller will do with the pixels, so that fewer of them may be decoded. */
export interface OpenOptions {
  /** The budget the decode waits in (default: the process's, processDecodeBudget). */
  budget?: DecodeBudget;
  /**
   * The upright size the caller will shrink the image to, given its upright size (undefined: it
   * keeps or enlarges it). Where libjpeg's DCT scaling can then decode a baseline or progressive
   * JPEG at 1/2, 1/4 or 1/8 scale, `pipeline` yields the image at that size instead of the full
   * frame, or (where only a smaller scale divides its sides) at that width and a larger height,
   * left to the caller to resize (OpenedImage.pixels says which). Without it, or for any other
   * format, the full frame is decoded.
   */
  reduceTo?: (width: number, height: number) => ImageSize | undefined;
  /** false: always decode the full frame (the benchmark's "before" and the parity test's check). */
  scaledDecode?: boolean;
}

/** An image that passed every check, ready to be resized. */
export interface OpenedImage {
  /**
   * Yields the upright first frame as 8-bit sRGB, alpha flattened on white, of size `pixels`; add
   * a resize.
   */
  pipeline: Sharp;
  /** Width after EXIF rotation, before any resize: the image's own size. */
  width: number;
  /** Height after EXIF rotation, before any resize. */
  height: number;
  /**
   * The size `pipeline` yields: `width` x `height`, or for a JPEG decoded at a reduced scale
   * (decodeShrink > 1) the size asked for (OpenOptions.reduceTo), or that width and a larger
   * height.
   */
  pixels: ImageSize;
  /**
   * The same pixels as `pipeline`, as RGB bytes, where the decoder holds them already (a JPEG
   * decoded at reduced scale): a caller may crop them here rather than run another pipeline.
   */
  raw?: RawImage;
  /** libjpeg's scale denominator the frame was decoded at: 1 (full size), 2, 4 or 8. */
  decodeShrink: number;
  /** The format found in the bytes. */
  format: ImageFormat;
  /**
   * Let the decoder shrink while decoding (sharp's fastShrinkOnLoad), in one lazy resize: set for
   * a WebP over WEBP_SHRINK_ON_LOAD_PIXELS, whose whole frame would otherwise sit in memory.
   */
  shrinkOnLoad: boolean;
}

/** The format names sharp's metadata() reports for each sniffed format (AVIF is read as HEIF). */
const SHARP_FORMATS: Record<Exclude<ImageFormat, 'heif'>, string> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'heif',
  tiff: 'tiff',
};

/**
 * Input options for every sharp call: the first page (frame) only, the pixel bound enforced by
 * libvips too, and decoder warnings treated as errors so a truncated file is refused rather than
 * indexed with a grey bottom half.
 */
const SHARP_INPUT: SharpOptions = {
  limitInputPixels: MAX_IMAGE_PIXELS,
  failOn: 'warning',
  pages: 1,
  page: 0,
};

const WHITE = { r: 255, g: 255, b: 255 };

/** sharp's default export, imported once on first use. */
type SharpFactory = (typeof import('sharp'))['default'];
let sharpModule: Promise<SharpFactory> | undefined;

/**
 * sharp, imported the first time an image is opened, with libvips' operation cache off. That
 * cache keeps recent decodes for reuse, but every image here is decoded once, and it sizes itself
 * by the memory libvips tracks, not the frames decoders such as GIF's allocate: six 40-megapixel
 * GIFs decoded one after another peaked at 1,053 MB with it and 290 MB without.
 */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then((module) => {
    module.default.cache(false);
    return module.default;
  });
  return sharpModule;
}

/**
 * Checks image bytes, waits until the pixels their header declares fit in the decode budget, opens
 * them and runs `use` (the preprocessing) on the result; the pixels are given back when `use`
 * settles. Throws InvalidImageError: 'image_invalid' (empty, truncated, corrupt, 0x0),
 * 'image_unsupported' (not an image, SVG, or a format not read), 'image_too_large' (bytes or
 * pixels over the limits) or 'image_too_small' (a side under MIN_IMAGE_SIDE).
 */
export async function withOpenedImage<T>(
  bytes: Uint8Array,
  use: (opened: OpenedImage) => Promise<T>,
  options: OpenOptions = {},
): Promise<T> {
  const budget = options.budget ?? processDecodeBudget;
  if (bytes.length === 0) {
    throw new InvalidImageError(
      'image_invalid',
      'The file is empty (0 bytes): there is no image in it.',
    );
  }
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new InvalidImageError(
      'image_too_large',
      `The file is ${(bytes.length / MEGABYTE).toFixed(1)} MB; findimage reads images up to ` +
        `${MAX_IMAGE_BYTES / MEGABYTE} MB.`,
      { details: { bytes: bytes.length, maxBytes: MAX_IMAGE_BYTES } },
    );
  }
  const format = acceptedFormat(bytes);
  if (format === 'heif') {
    const release = await budget.acquire(await heicPixels(bytes));
    try {
      return await use(await openHeic(bytes));
    } finally {
      release();
    }
  }
  const header = await readSharpHeader(bytes, format);
  const scaled = options.scaledDecode === false ? undefined : planScaledDecode(header, options.reduceTo);
  // A scaled decode holds libjpeg's reduced frame, not the full one. A progressive JPEG is charged
  // in full all the same: libjpeg keeps every coefficient of the whole image until the last scan.
  const charged = scaled === undefined || header.progressive ? header.width * header.height : scaled.decodedPixels;
  const release = await budget.acquire(charged);
  try {
    return await use(await openWithSharp(bytes, header, scaled));
  } finally {
    release();
  }
}

function acceptedFormat(bytes: Uint8Array): ImageFormat {
  const sniffed = sniffImageFormat(bytes);
  switch (sniffed.kind) {
    case 'image':
      return sniffed.format;
    case 'svg':
      throw new InvalidImageError(
        'image_unsupported',
        `This file is an SVG drawing; findimage does not index SVG. It reads ${ACCEPTED_FORMATS_TEXT}.`,
        { details: { detected: 'svg' } },
      );
    case 'unsupported-image':
      throw new InvalidImageError(
        'image_unsupported',
        `This file is ${sniffed.name}, a format findimage does not read. It reads ${ACCEPTED_FORMATS_TEXT}.`,
        { details: { detected: sniffed.name } },
      );
    case 'not-image':
      throw new InvalidImageError(
        'image_unsupported',
        `This file is ${sniffed.name}, not an image. findimage reads ${ACCEPTED_FORMATS_TEXT}.`,
        { details: { detected: sniffed.name } },
      );
    case 'unknown':
      throw new InvalidImageError(
        'image_unsupported',
        `This file is not an image findimage can read. It reads ${ACCEPTED_FORMATS_TEXT}.`,
      );
  }
}

/** What sharp read from a header that passed the checks. */
interface SharpHeader {
  /** The sniffed format, which sharp agrees with. */
  format: Exclude<ImageFormat, 'heif'>;
  /** Width after EXIF rotation. */
  width: number;
  /** Height after EXIF rotation. */
  height: number;
  /** A progressive (multi-scan) JPEG, whose decoder holds the whole image's coefficients. */
  progressive: boolean;
}

async function readSharpHeader(
  bytes: Uint8Array,
  format: Exclude<ImageFormat, 'heif'>,
): Promise<SharpHeader> {
  // metadata() parses the header only; the pixel bound is checked here, with the declared size
  // in the message, before anything is decoded.
  const sharp = await loadSharp();
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { ...SHARP_INPUT, limitInputPixels: false }).metadata();
  } catch (error) {
    throw unreadableImageError(format, error);
  }
  if (metadata.format !== SHARP_FORMATS[format]) {
    // The magic bytes and the decoder disagree: never let a decoder read what the sniff refused.
    throw unreadableImageError(format, new Error(`sharp reads it as ${metadata.format}`));
  }
  const upright = metadata.autoOrient;
  checkDimensions(upright.width, upright.height);
  return { format, width: upright.width, height: upright.height, progressive: metadata.isProgressive === true };
}

async function openWithSharp(bytes: Uint8Array, header: SharpHeader, scaled: ScaledDecode | undefined): Promise<OpenedImage> {
  const sharp = await loadSharp();
  const { format, width, height } = header;
  if (scaled !== undefined) return openScaledJpeg(sharp, bytes, header, scaled);
  const pipeline = sharp(bytes, SHARP_INPUT).rotate();
  const shrinkOnLoad = format === 'webp' && width * height > WEBP_SHRINK_ON_LOAD_PIXELS;
  return { pipeline: finish(pipeline), format, width, height, pixels: { width, height }, decodeShrink: 1, shrinkOnLoad };
}

/**
 * Decodes a JPEG at 1/shrink scale and resizes it to the intermediate, upright, in sRGB, held as
 * raw bytes (a few hundred KB at most). sharp's resize is the only way to reach libjpeg's
 * scaling: asked for the intermediate, it decodes at 1/shrink (jpegDecodeShrink) and reduces the
 * rest, by 2 or more, with the same bicubic kernel the reference uses, then rotates per EXIF
 * (sharp swaps the asked size for a quarter turn, so it is given upright). Colour conversion
 * (CMYK, profiles) runs on the reduced frame.
 */
async function openScaledJpeg(sharp: SharpFactory, bytes: Uint8Array, header: SharpHeader, scaled: ScaledDecode): Promise<OpenedImage> {
  const { width, height } = scaled.intermediate;
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await finish(sharp(bytes, SHARP_INPUT).rotate())
      .resize(width, height, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: false })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw unreadableImageError(header.format, error);
  }
  const pixels = { data: raw.data, width: raw.info.width, height: raw.info.height, channels: raw.info.channels };
  const pipeline = sharp(raw.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels as 3 } });
  return {
    pipeline,
    raw: pixels,
    format: header.format,
    width: header.width,
    height: header.height,
    pixels: { width: pixels.width, height: pixels.height },
    decodeShrink: scaled.shrink,
    shrinkOnLoad: false,
  };
}

/**
 * The pixels a HEIC declares, as sharp reads them from its container (sharp parses HEIF boxes
 * though it cannot decode HEVC). A header sharp cannot read is charged the whole budget: the
 * decoder in the worker checks the size itself, and an image of unknown size decodes alone.
 */
async function heicPixels(bytes: Uint8Array): Promise<number> {
  const sharp = await loadSharp();
  try {
    const { width, height } = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (width > 0 && height > 0) return width * height;
  } catch {
    // Left to the decoder, which says why.
  }
  return Number.POSITIVE_INFINITY;
}

async function openHeic(bytes: Uint8Array): Promise<OpenedImage> {
  const decoded = await decodeHeic(bytes, { maxPixels: MAX_IMAGE_PIXELS });
  checkDimensions(decoded.width, decoded.height);
  const sharp = await loadSharp();
  const pipeline = sharp(decoded.rgba, {
    raw: { width: decoded.width, height: decoded.height, channels: 4 },
    limitInputPixels: MAX_IMAGE_PIXELS,
  });
  return {
    pipeline: finish(pipeline),
    width: decoded.width,
    height: decoded.height,
    pixels: { width: decoded.width, height: decoded.height },
    decodeShrink: 1,
    format: 'heif',
    shrinkOnLoad: false,
  };
}

function checkDimensions(width: number, height: number): void {
  if (!(width > 0) || !(height > 0)) {
    throw new InvalidImageError(
      'image_invalid',
      `The image declares ${width}x${height} pixels, so it has nothing to decode.`,
      { details: { width, height } },
    );
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new InvalidImageError(
      'image_too_large',
      `The image is ${width}x${height} pixels, more than the ` +
        `${MAX_IMAGE_PIXELS / 1_000_000} megapixels findimage reads.`,
      { details: { width, height, maxPixels: MAX_IMAGE_PIXELS } },
    );
  }
  if (Math.min(width, height) < MIN_IMAGE_SIDE) {
    throw new InvalidImageError(
      'image_too_small',
      `The image is only ${width}x${height} pixels; findimage indexes images at least ` +
        `${MIN_IMAGE_SIDE} pixels on each side (smaller ones are icons or tracking pixels).`,
      { details: { width, height, minSide: MIN_IMAGE_SIDE } },
    );
  }
}

/**
 * CMYK, greyscale and 16-bit inputs all leave as 8-bit sRGB; transparency becomes white. Both on
 * purpose, where the reference CLIP preprocessing (PIL inside CLIPImageProcessor) does otherwise:
 * PIL ignores embedded ICC profiles and converts CMYK without one, so a Display P3 phone photo or
 * a print-ready CMYK JPEG would reach the model with shifted colours; and PIL's convert('RGB')
 * drops alpha, showing whatever colour hides under transparent pixels (often black). The parity
 * fixtures (test/fixtures/clip-parity) carry no profiles, and their script flattens on white too.
 */
function finish(pipeline: Sharp): Sharp {
  return pipeline.flatten({ background: WHITE }).toColourspace('srgb');
}

/** Wraps a decoder failure in the message users see for any unreadable image. */
export function unreadableImageError(format: ImageFormat, cause: unknown): InvalidImageError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (/exceeds pixel limit/i.test(reason)) {
    return new InvalidImageError(
      'image_too_large',
      `The image has more than the ${MAX_IMAGE_PIXELS / 1_000_000} megapixels findimage reads.`,
      { cause, details: { format } },
    );
  }
  return new InvalidImageError(
    'image_invalid',
    'The image could not be read: it looks truncated or corrupt.',
    { cause, details: { format, reason } },
  );
}
