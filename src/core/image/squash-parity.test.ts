// Parity of prepareSquashedImage with SigLIP's reference preprocessing (Hugging Face's
// SiglipImageProcessor, PIL bicubic to 224x224). test/fixtures/siglip-parity holds ten small
// images, each enlarging an axis, shrinking one, or both, and the references of the CLIP
// fixtures' 12 MP photos (which findimage decodes at reduced scale where it can), with for each
// the 224x224 bytes PIL made of it, computed once by scripts/build-siglip-parity-fixtures.py. The
// measured cosine and largest error of every tensor are printed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { VisionPreprocessing } from '../models/model-spec.js';
import { withOpenedImage } from './image-decoder.js';
import { prepareSquashedImage, squashShrunkSize } from './squash-preprocessor.js';

const FIXTURES = new URL('../../../test/fixtures/siglip-parity/', import.meta.url);
const SIGLIP: VisionPreprocessing = { imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash' };
const PLANE = 224 * 224;
const REGENERATE = 'regenerate with scripts/build-siglip-parity-fixtures.py';

/**
 * Smallest cosine between findimage's tensor and the reference, for every image (issue 20's bar).
 * The one-pass libvips squash this replaced gave 0.971 on 999x223, 0.980 on 16x1000 and 0.988 on
 * 100x75.
 */
const MIN_COSINE = 0.9999;

/**
 * Largest difference of one tensor value (normalised units: one byte level is 2/255, about
 * 0.0078). Measured: 0 (byte-identical to PIL) on every fixture but the transparent one, 0.0235
 * (3 levels) there, where sharp flattens on white before resizing with other rounding than PIL's
 * alpha_composite.
 */
const MAX_ERROR = 0.03;

/**
 * Largest difference for the 12 MP photos, whose first pass is too costly for PIL's arithmetic in
 * JavaScript and runs in libvips (or in the decoder's own resize, after a scaled decode). Measured:
 * 0.10 (13 levels) at one pixel of a thin drawn line, after the 1/4-scale decode and at full size
 * alike; cosine 0.99997 to 0.99999 either way.
 */
const MAX_ERROR_PHOTO = 0.15;

/** Fixtures of at least this many pixels are the phone photos: the scaled JPEG decode's cases. */
const PHOTO_PIXELS = 10_000_000;

/** Largest mean absolute difference over the whole tensor. Measured: 0.0021 (transparent PNG). */
const MAX_MEAN_ERROR = 0.003;

/** One image of manifest.json, written by the fixture script. */
interface SquashFixture {
  /** File name of the source image in the fixture folder (a 12 MP photo: in the CLIP fixtures' folder). */
  image: string;
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
  /** Whether the width, and the height, were under 224 (enlarged by the squash). */
  enlarged: [boolean, boolean];
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as { images: SquashFixture[] };
const measured: string[] = [];

function fixtureBytes(name: string, sha256: string): Buffer {
  const bytes = readFileSync(new URL(name, FIXTURES));
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new Error(`${name} changed (sha256 ${actual}): ${REGENERATE}.`);
  return bytes;
}

/** The reference bytes as CHW floats: (byte / 255 - 0.5) / 0.5, in double precision. */
async function referenceTensor(fixture: SquashFixture): Promise<Float64Array> {
  const png = fixtureBytes(fixture.reference, fixture.referenceSha256);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([224, 224, 3]);
  const tensor = new Float64Array(3 * PLANE);
  for (let channel = 0; channel < 3; channel++) {
    for (let i = 0; i < PLANE; i++) tensor[channel * PLANE + i] = (data[i * 3 + channel]! / 255 - 0.5) / 0.5;
  }
  return tensor;
}

function compare(actual: Float32Array, expected: Float64Array): { cosine: number; maxError: number; meanError: number } {
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
    maxError = Math.max(maxError, Math.abs(a - e));
    totalError += Math.abs(a - e);
  }
  return { cosine: dot / Math.sqrt(actualNorm * expectedNorm), maxError, meanError: totalError / expected.length };
}

describe('prepareSquashedImage parity with SiglipImageProcessor (PIL reference bytes)', () => {
  afterAll(() => {
    console.log(`SigLIP preprocessing parity, measured:\n${measured.join('\n')}`);
  });

  it('has fixtures that enlarge the width, the height, both, and neither', () => {
    const shapes = new Set(manifest.images.map((fixture) => fixture.enlarged.join(',')));
    expect(shapes).toEqual(new Set(['true,false', 'false,true', 'true,true', 'false,false']));
  });

  const photos = manifest.images.filter((fixture) => fixture.width * fixture.height >= PHOTO_PIXELS);
  it('has 12 MP photos, decoded at 1/4 scale where 4 divides their sides and at full size where not', async () => {
    expect(photos.length).toBeGreaterThanOrEqual(3);
    for (const fixture of photos) {
      const bytes = fixtureBytes(fixture.image, fixture.sha256);
      const opened = await withOpenedImage(bytes, async ({ decodeShrink, pixels }) => ({ decodeShrink, pixels }), {
        reduceTo: (width, height) => squashShrunkSize(width, height, 224),
      });
      const divisible = fixture.width % 4 === 0 && fixture.height % 4 === 0;
      expect([fixture.image, opened.decodeShrink]).toEqual([fixture.image, divisible ? 4 : 1]);
      // The decoder's own resize does the squash: nothing is left to resize.
      if (divisible) expect(opened.pixels).toEqual({ width: 224, height: 224 });
      // prepareSquashedImage takes that path by default: its tensor is not the full-size decode's.
      const scaled = await prepareSquashedImage(bytes, SIGLIP);
      const full = await prepareSquashedImage(bytes, SIGLIP, { scaledDecode: false });
      expect(Buffer.from(scaled.pixels.buffer).equals(Buffer.from(full.pixels.buffer))).toBe(!divisible);
    }
  });

  for (const scaledDecode of [true, false]) {
    const cases = scaledDecode ? manifest.images : photos;
    it.each(cases.map((fixture) => [fixture.image, fixture] as const))(
      scaledDecode ? '%s: tensor at cosine >= 0.9999 of the reference' : '%s: the full-size decode is within the same bounds',
      async (_name, fixture) => {
        const prepared = await prepareSquashedImage(fixtureBytes(fixture.image, fixture.sha256), SIGLIP, { scaledDecode });
        expect([prepared.width, prepared.height]).toEqual([fixture.width, fixture.height]);
        const parity = compare(prepared.pixels, await referenceTensor(fixture));
        const line =
          `${fixture.image.padEnd(26)} ${scaledDecode ? '' : 'full-size '}cosine ${parity.cosine.toFixed(6)}  ` +
          `max error ${parity.maxError.toFixed(4)}  mean error ${parity.meanError.toFixed(4)}`;
        measured.push(line);
        console.log(line);
        const photo = fixture.width * fixture.height >= PHOTO_PIXELS;
        expect(parity.cosine).toBeGreaterThanOrEqual(MIN_COSINE);
        expect(parity.maxError).toBeLessThan(photo ? MAX_ERROR_PHOTO : MAX_ERROR);
        expect(parity.meanError).toBeLessThan(MAX_MEAN_ERROR);
      },
    );
  }
});
