// CLIP's image preprocessing, matched to Hugging Face's CLIPImageProcessor (what the ONNX export
// of CLIP was trained and evaluated with): shortest side resized to the model's size and the long
// side to int(size * long / short), bicubic, a centre crop at floor((resized - size) / 2), then a
// CHW float32 tensor normalised with the model's mean and std. test/fixtures/clip-parity holds
// reference crops made by PIL and the parity test compares with them. A large JPEG is decoded at
// 1/2, 1/4 or 1/8 scale by libjpeg and resized in the same pass to the resize's size
// (jpeg-scaled-decode.ts), and only the crop is left: within the same parity bound, closer to the
// reference than a full-size decode, with less work for a phone photo.
//
// Decoding and resizing run on sharp's libuv threads (and HEIC in a worker), so the calling
// thread stays free.
//
// Two departures from the reference are deliberate (see withOpenedImage): embedded colour
// profiles and CMYK are converted to sRGB (PIL ignores profiles and converts CMYK naively, so colours shift),
// and transparency is flattened on white (PIL drops alpha and keeps whatever hides under it,
// often black).
import sharp from 'sharp';
import type { PreparedImage } from '../embedding/embedder.js';
import { FindimageError } from '../errors.js';
import type { VisionPreprocessing } from '../models/model-spec.js';
import { fromRaw, toRaw, UPSCALE_EDGE, type RawImage } from './axis-resize.js';
import { unreadableImageError, withOpenedImage, type ImageSize, type OpenedImage } from './image-decoder.js';

/** Options of prepareImage. */
export interface PrepareOptions {
  /**
   * false: decode every JPEG at full size, as findimage did before scaled decoding (for the
   * benchmark's before-and-after and the parity test's check). Default true.
   */
  scaledDecode?: boolean;
}

/** Where CLIPImageProcessor's resize takes an image, and where it crops the result. */
export interface ClipGeometry {
  /** Width after the shortest-edge resize. */
  resizedWidth: number;
  /** Height after the shortest-edge resize. */
  resizedHeight: number;
  /** First column of the crop in the resized image: floor((resizedWidth - size) / 2). */
  cropLeft: number;
  /** First row of the crop in the resized image: floor((resizedHeight - size) / 2). */
  cropTop: number;
}

/**
 * Longest side, in source rows or resized pixels, that takes the exact two-pass path. Its
 * intermediate strips are held in memory (up to 16,384 x 224 x 3 bytes, 11 MB); only images over
 * about 70:1 exceed it, and they take one lazy libvips pass instead (within a pixel of the
 * reference), so a 16 x 7,500,000 image cannot make a multi-gigabyte strip.
 */
const MAX_EXACT_SIDE = 16_384;

/**
 * CLIPImageProcessor's geometry (transformers' get_resize_output_image_size with
 * default_to_square=False, then center_crop): the short side becomes `size`, the long side
 * int(size * long / short), truncated as Python's int() does, never rounded.
 */
export function clipGeometry(width: number, height: number, size: number): ClipGeometry {
  const portrait = width <= height;
  const short = portrait ? width : height;
  const long = portrait ? height : width;
  const resizedLong = Math.trunc((size * long) / short);
  const resizedWidth = portrait ? size : resizedLong;
  const resizedHeight = portrait ? resizedLong : size;
  return {
    resizedWidth,
    resizedHeight,
    cropLeft: Math.floor((resizedWidth - size) / 2),
    cropTop: Math.floor((resizedHeight - size) / 2),
  };
}

/**
 * Decodes image bytes and preprocesses them for a vision tower, within the process's decode
 * budget. Throws InvalidImageError (see withOpenedImage for the codes) for anything that is not a
 * readable image within the limits.
 */
export async function prepareImage(
  bytes: Uint8Array,
  vision: VisionPreprocessing,
  options: PrepareOptions = {},
): Promise<PreparedImage> {
  const size = vision.imageSize;
  return withOpenedImage(bytes, async (opened) => {
    let rgb: Buffer;
    try {
      rgb = await resizeAndCrop(opened, size);
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
  }, { reduceTo: (width, height) => clipShrunkSize(width, height, size), scaledDecode: options.scaledDecode ?? true });
}

/**
 * The size CLIPImageProcessor shrinks an image to before its crop (what the decoder may decode a
 * large JPEG towards); undefined when it keeps or enlarges the image.
 */
export function clipShrunkSize(width: number, height: number, size: number): ImageSize | undefined {
  if (Math.min(width, height) <= size) return undefined;
  const geometry = clipGeometry(width, height, size);
  return { width: geometry.resizedWidth, height: geometry.resizedHeight };
}

/** The size x size RGB bytes (HWC) CLIPImageProcessor would crop from the image. */
async function resizeAndCrop(opened: OpenedImage, size: number): Promise<Buffer> {
  const geometry = clipGeometry(opened.width, opened.height, size);
  const enlarging = geometry.resizedWidth > opened.width;
  const exact =
    !opened.shrinkOnLoad &&
    (enlarging
      ? Math.max(geometry.resizedWidth, geometry.resizedHeight) <= MAX_EXACT_SIDE
      : opened.pixels.height <= MAX_EXACT_SIDE);
  const image = !exact
    ? await resizeOnce(opened, geometry, size)
    : enlarging
      ? await enlarge(opened, geometry, size)
      : await reduce(opened, geometry, size);
  if (image.width !== size || image.height !== size || image.channels !== 3) {
    throw new FindimageError(
      'internal',
      `Image preprocessing produced ${image.width}x${image.height}x${image.channels}, ` +
        `not ${size}x${size}x3.`,
    );
  }
  return image.data;
}

/**
 * Shrinks (or keeps) an image whose short side is at least `size`, from the pixels the decoder
 * gave: the full frame, or a large JPEG already resized by its decoder (OpenedImage.pixels: the
 * resized size, whose crop is cut from its bytes here; or the resized width, whose height pass is
 * left). PIL resizes width first, then height, each pass rounded to bytes; libvips' resize does
 * height first. Two one-axis passes in PIL's order reproduce its rounding and clipping, which one
 * two-axis pass misses by up to 16 levels where edges cross in a full-size frame. The columns
 * outside the crop are dropped after the first pass (the second never mixes columns). No
 * shrink-on-load here: with one axis at scale 1 sharp never asks the JPEG decoder to shrink (the
 * decoder chose its scale already).
 */
async function reduce(
  opened: OpenedImage,
  geometry: ClipGeometry,
  size: number,
): Promise<RawImage> {
  const source = opened.pixels;
  let columns: RawImage;
  if (geometry.resizedWidth === source.width && opened.raw !== undefined) {
    // The decoder's resize did the first pass (or both): the crop is cut from its bytes here,
    // which saves a pipeline (or two).
    columns = cropColumns(opened.raw, geometry.cropLeft, size);
    if (geometry.resizedHeight === source.height) return cropRows(columns, geometry.cropTop, size);
  } else {
    let pipeline = opened.pipeline;
    if (geometry.resizedWidth !== source.width) {
      pipeline = pipeline.resize(geometry.resizedWidth, source.height, {
        fit: 'fill',
        kernel: 'cubic',
        fastShrinkOnLoad: false,
      });
    }
    columns = await toRaw(pipeline.extract({ left: geometry.cropLeft, top: 0, width: size, height: source.height }));
  }
  let rows = fromRaw(columns);
  if (geometry.resizedHeight !== source.height) {
    rows = rows.resize(size, geometry.resizedHeight, { fit: 'fill', kernel: 'cubic' });
  }
  return toRaw(rows.extract({ left: 0, top: geometry.cropTop, width: size, height: size }));
}

/** `width` columns of raw pixels from column `left` on, every row. */
function cropColumns(image: RawImage, left: number, width: number): RawImage {
  const { channels } = image;
  if (left === 0 && width === image.width) return image;
  const rowBytes = width * channels;
  const data = Buffer.allocUnsafe(rowBytes * image.height);
  for (let y = 0; y < image.height; y++) {
    const start = (y * image.width + left) * channels;
    image.data.copy(data, y * rowBytes, start, start + rowBytes);
  }
  return { data, width, height: image.height, channels };
}

/** `height` rows of raw pixels from row `top` on. */
function cropRows(image: RawImage, top: number, height: number): RawImage {
  const rowBytes = image.width * image.channels;
  return { ...image, data: image.data.subarray(top * rowBytes, (top + height) * rowBytes), height };
}

/**
 * Enlarges an image whose short side is under `size`. libvips' resize samples an enlargement
 * about half a source pixel away from PIL's, so this uses its affine transform with the bicubic
 * (Catmull-Rom, PIL's kernel too) interpolator and pixel centres placed as PIL places them:
 * source x = (X + 0.5) / scale - 0.5. Width first, then height, as PIL does. PIL renormalises
 * the kernel at the image's edges where this copies the edge pixels outwards, so the outermost
 * output pixels can still differ by a few levels.
 */
async function enlarge(
  opened: OpenedImage,
  geometry: ClipGeometry,
  size: number,
): Promise<RawImage> {
  const edge = UPSCALE_EDGE;
  const xScale = geometry.resizedWidth / opened.width;
  const yScale = geometry.resizedHeight / opened.height;
  const padded = await toRaw(
    opened.pipeline.extend({ left: edge, right: edge, extendWith: 'copy' }),
  );
  // libvips' affine samples output pixel X at source (X - odx) / scale - idx: with these offsets
  // that is (X + 0.5) / scale - 0.5 in the unpadded image, PIL's pixel-centre convention. Its
  // output starts at X = 0, so the crop's offsets apply unchanged.
  const wide = await toRaw(
    fromRaw(padded)
      .affine([xScale, 0, 0, 1], {
        idx: 0.5 - edge,
        odx: -0.5,
        idy: 0.5,
        ody: -0.5,
        interpolator: sharp.interpolators.bicubic,
      })
      .extend({ top: edge, bottom: edge, extendWith: 'copy' }),
  );
  const tall = await toRaw(
    fromRaw(wide)
      .extract({ left: geometry.cropLeft, top: 0, width: size, height: opened.height + 2 * edge })
      .affine([1, 0, 0, yScale], {
        idx: 0.5,
        odx: -0.5,
        idy: 0.5 - edge,
        ody: -0.5,
        interpolator: sharp.interpolators.bicubic,
      }),
  );
  return toRaw(
    fromRaw(tall).extract({ left: 0, top: geometry.cropTop, width: size, height: size }),
  );
}

/**
 * One libvips resize to CLIPImageProcessor's size, then the crop: computed lazily, tile by tile,
 * so memory stays small whatever the shape. Up to a few levels off the reference where edges
 * cross, and about half a source pixel off when enlarging. A huge WebP is shrunk by its decoder
 * first (OpenedImage.shrinkOnLoad), so its whole frame is never in memory.
 */
async function resizeOnce(
  opened: OpenedImage,
  geometry: ClipGeometry,
  size: number,
): Promise<RawImage> {
  return toRaw(
    opened.pipeline
      .resize(geometry.resizedWidth, geometry.resizedHeight, {
        fit: 'fill',
        kernel: 'cubic',
        fastShrinkOnLoad: opened.shrinkOnLoad,
      })
      .extract({ left: geometry.cropLeft, top: geometry.cropTop, width: size, height: size }),
  );
}

/** Interleaved RGB bytes (HWC) to planar normalised floats (CHW): (byte / 255 - mean) / std. */
export function toChwTensor(rgb: Uint8Array, vision: VisionPreprocessing): Float32Array {
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
