// Parity of prepareImage with the reference CLIP preprocessing (Hugging Face's CLIPImageProcessor,
// PIL bicubic). test/fixtures/clip-parity holds a dozen small images, four 12 MP photos (three of
// which findimage decodes at 1/4 scale) and, for each, the 224x224 crop PIL made of it, computed once by
// scripts/build-clip-parity-fixtures.py. Every tensor is compared with the reference one and the
// measured cosine and largest error are printed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD, type VisionPreprocessing } from '../models/model-spec.js';
import { clipGeometry, clipShrunkSize, prepareImage } from './clip-preprocessor.js';
import { withOpenedImage } from './image-decoder.js';

const FIXTURES = new URL('../../../test/fixtures/clip-parity/', import.meta.url);
const CLIP: VisionPreprocessing = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD };
const PLANE = 224 * 224;
const REGENERATE = 'regenerate with /usr/bin/python3 scripts/build-clip-parity-fixtures.py';

/**
 * Smallest cosine between findimage's tensor and the reference, for every image. Measured:
 * 0.99996 at worst (1000x999, whose 4.5x shrink libvips starts with a box filter). The code
 * before the parity work, sharp's fit: 'cover', gave 0.954 on 225x224 and 0.984 on 150x100.
 */
const MIN_COSINE = 0.9999;

/** Fixtures of at least this many pixels are the phone photos: the scaled JPEG decode's cases. */
const PHOTO_PIXELS = 10_000_000;

/**
 * Largest difference of one tensor value (in normalised units; one byte level is about 0.015)
 * for images shrunk to 224. Measured: 0.09 (6 levels), on hard synthetic edges of the 1600x1200
 * and 1000x999 images. libvips samples its kernel at quantised positions and box-filters shrinks
 * over 4x before the bicubic pass, where PIL computes one exact bicubic kernel per pixel; most
 * values match exactly and nearly all others are one level off (see MAX_MEAN_ERROR).
 */
const MAX_ERROR_REDUCED = 0.1;

/**
 * Largest difference for images enlarged to 224 (short side under 224). Measured: 0.09 (6
 * levels), at the right edge of the 64x64 image, where PIL renormalises the kernel and findimage
 * copies the edge pixels outwards.
 */
const MAX_ERROR_ENLARGED = 0.1;

/**
 * Largest difference for the 12 MP photos. Measured: 0.19 (13 levels) at one pixel, at full size
 * (the path before scaled decoding) and after the 1/4-scale decode alike: a thin drawn line that 13
 * source pixels fold into one output pixel, where libvips' and PIL's kernels weigh it differently.
 * The scaled decode's mean error is lower than the full-size decode's (0.0020 against 0.0027).
 */
const MAX_ERROR_PHOTO = 0.25;

/** Largest mean absolute difference over the whole tensor. Measured: 0.0043 at worst. */
const MAX_MEAN_ERROR = 0.006;

/** One image of manifest.json, written by the fixture script. */
interface ParityFixture {
  /** File name of the source image in the fixture folder (of a derived one: its name only). */
  image: string;
  /** A derived image: the committed image it is made from, with exifOrientation inserted. */
  derivedFrom?: string;
  /** The EXIF orientation inserted into derivedFrom's bytes. */
  exifOrientation?: number;
  /** sha256 of the source image. */
  sha256: string;
  /** File name of the 224x224 RGB PNG that PIL produced. */
  reference: string;
  /** sha256 of the reference PNG. */
  referenceSha256: string;
  /** Upright width (after EXIF orientation). */
  width: number;
  /** Upright height (after EXIF orientation). */
  height: number;
  /** [width, height] after CLIPImageProcessor's resize. */
  resized: [number, number];
  /** [left, top] of its centre crop. */
  crop: [number, number];
  /** Whether the short side was under 224 (the image was enlarged). */
  upscaled: boolean;
}

/** How far one tensor is from the reference. */
interface Parity {
  /** Cosine similarity of the two tensors as vectors. */
  cosine: number;
  /** Largest absolute difference of one value. */
  maxError: number;
  /** Mean absolute difference. */
  meanError: number;
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as {
  images: ParityFixture[];
};
const measured: string[] = [];

/**
 * The JPEG with an APP1 Exif segment holding only the orientation, inserted after SOI: big-endian
 * TIFF, one IFD with one SHORT entry (0x0112). The fixture script writes the same bytes
 * (with_exif_orientation), so the derived image's sha256 is in the manifest.
 */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const marker = Buffer.from([0xff, 0xe1, 0, 0]);
  marker.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), marker, payload, jpeg.subarray(2)]);
}

function sourceBytes(fixture: ParityFixture): Buffer {
  if (fixture.derivedFrom === undefined) return fixtureBytes(fixture.image, fixture.sha256);
  const base = readFileSync(new URL(fixture.derivedFrom, FIXTURES));
  return checked(fixture.image, withExifOrientation(base, fixture.exifOrientation ?? 1), fixture.sha256);
}

function fixtureBytes(name: string, sha256: string): Buffer {
  return checked(name, readFileSync(new URL(name, FIXTURES)), sha256);
}

function checked(name: string, bytes: Buffer, sha256: string): Buffer {
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new Error(`${name} changed (sha256 ${actual}): ${REGENERATE}.`);
  return bytes;
}

/** The reference crop as CHW floats: (byte / 255 - mean) / std, in double precision. */
async function referenceTensor(fixture: ParityFixture): Promise<Float64Array> {
  const png = fixtureBytes(fixture.reference, fixture.referenceSha256);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([224, 224, 3]);
  const tensor = new Float64Array(3 * PLANE);
  for (let channel = 0; channel < 3; channel++) {
    for (let i = 0; i < PLANE; i++) {
      tensor[channel * PLANE + i] =
        (data[i * 3 + channel]! / 255 - CLIP_MEAN[channel]!) / CLIP_STD[channel]!;
    }
  }
  return tensor;
}

function compare(actual: Float32Array, expected: Float64Array): Parity {
  let dot = 0;
  let actualNorm = 0;
  let expectedNorm = 0;
  let maxError = 0;
  let totalError = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    dot += a * e;
    actualNorm += a * a;
    expectedNorm += e * e;
    const error = Math.abs(a - e);
    maxError = Math.max(maxError, error);
    totalError += error;
  }
  return {
    cosine: dot / Math.sqrt(actualNorm * expectedNorm),
    maxError,
    meanError: totalError / expected.length,
  };
}

describe('prepareImage parity with CLIPImageProcessor (PIL reference crops)', () => {
  afterAll(() => {
    console.log(`CLIP preprocessing parity, measured:\n${measured.join('\n')}`);
  });

  it('has the dozen fixtures the script writes, shrunk and enlarged', () => {
    expect(manifest.images.length).toBeGreaterThanOrEqual(10);
    expect(manifest.images.some((fixture) => fixture.upscaled)).toBe(true);
    expect(manifest.images.some((fixture) => !fixture.upscaled)).toBe(true);
  });

  it.each(manifest.images.map((fixture) => [fixture.image, fixture] as const))(
    '%s: same size and crop as the reference',
    (_name, fixture) => {
      const geometry = clipGeometry(fixture.width, fixture.height, 224);
      expect([geometry.resizedWidth, geometry.resizedHeight]).toEqual(fixture.resized);
      expect([geometry.cropLeft, geometry.cropTop]).toEqual(fixture.crop);
    },
  );

  it('has 12 MP photos: a baseline JPEG, one turned by EXIF orientation, a progressive one and one with odd sides', () => {
    const photos = manifest.images.filter((fixture) => fixture.width * fixture.height >= PHOTO_PIXELS);
    expect(photos.some((fixture) => fixture.exifOrientation === 6 && fixture.height > fixture.width)).toBe(true);
    expect(photos.some((fixture) => fixture.image.includes('progressive'))).toBe(true);
    expect(photos.some((fixture) => fixture.width % 2 === 1 && fixture.height % 2 === 1)).toBe(true);
    expect(photos.length).toBeGreaterThanOrEqual(4);
  });

  const photos = manifest.images.filter((fixture) => fixture.width * fixture.height >= PHOTO_PIXELS);
  it.each(photos.map((fixture) => [fixture.image, fixture] as const))(
    '%s: decoded by libjpeg at 1/4 scale and resized in the same pass where 4 divides its sides, else at full size',
    async (_name, fixture) => {
      const opened = await withOpenedImage(
        sourceBytes(fixture),
        async ({ decodeShrink, pixels }) => ({ decodeShrink, pixels }),
        { reduceTo: (width, height) => clipShrunkSize(width, height, 224) },
      );
      const [resizedWidth, resizedHeight] = fixture.resized;
      if (fixture.width % 4 === 0 && fixture.height % 4 === 0) {
        expect(opened.decodeShrink).toBe(4);
        expect(opened.pixels).toEqual({ width: resizedWidth, height: resizedHeight });
      } else {
        // libjpeg rounds scaled sides up, which would slide the picture (jpeg-scaled-decode.ts).
        expect(opened.decodeShrink).toBe(1);
        expect(opened.pixels).toEqual({ width: fixture.width, height: fixture.height });
      }
    },
  );

  it.each(photos.map((fixture) => [fixture.image, fixture] as const))(
    '%s: the full-size decode (before scaled decoding) is within the same bounds',
    async (_name, fixture) => {
      const prepared = await prepareImage(sourceBytes(fixture), CLIP, { scaledDecode: false });
      const parity = compare(prepared.pixels, await referenceTensor(fixture));
      const line =
        `${fixture.image.padEnd(26)} full-size cosine ${parity.cosine.toFixed(6)}  ` +
        `max error ${parity.maxError.toFixed(4)}  mean error ${parity.meanError.toFixed(4)}`;
      measured.push(line);
      expect(parity.cosine).toBeGreaterThanOrEqual(MIN_COSINE);
      expect(parity.maxError).toBeLessThan(MAX_ERROR_PHOTO);
      expect(parity.meanError).toBeLessThan(MAX_MEAN_ERROR);
    },
  );

  it.each(manifest.images.map((fixture) => [fixture.image, fixture] as const))(
    '%s: tensor within the measured bounds of the reference',
    async (_name, fixture) => {
      const bytes = sourceBytes(fixture);
      const prepared = await prepareImage(bytes, CLIP);
      expect([prepared.width, prepared.height]).toEqual([fixture.width, fixture.height]);
      const parity = compare(prepared.pixels, await referenceTensor(fixture));
      const scaling = fixture.upscaled
        ? 'enlarged'
        : fixture.resized[0] === fixture.width
          ? 'cropped '
          : fixture.width * fixture.height >= PHOTO_PIXELS
            ? 'scaled  '
            : 'shrunk  ';
      const line =
        `${fixture.image.padEnd(26)} ${scaling} ` +
        `cosine ${parity.cosine.toFixed(6)}  max error ${parity.maxError.toFixed(4)}  ` +
        `mean error ${parity.meanError.toFixed(4)}`;
      measured.push(line);
      console.log(line);
      expect(parity.cosine).toBeGreaterThanOrEqual(MIN_COSINE);
      const photo = fixture.width * fixture.height >= PHOTO_PIXELS;
      expect(parity.maxError).toBeLessThan(
        photo ? MAX_ERROR_PHOTO : fixture.upscaled ? MAX_ERROR_ENLARGED : MAX_ERROR_REDUCED,
      );
      expect(parity.meanError).toBeLessThan(MAX_MEAN_ERROR);
    },
  );
});
