// Decoding large JPEGs at reduced scale (libjpeg's DCT scaling, through sharp's shrink-on-load):
// which images take it, at what scale, what they are charged in the decode budget, and that the
// colour conversions and error handling of the full-size decode hold on the scaled path too.
// Parity with the PIL reference on 12 MP photos is in clip-parity.test.ts.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../errors.js';
import { CLIP_MEAN, CLIP_STD, type VisionPreprocessing } from '../models/model-spec.js';
import { clipShrunkSize, prepareImage } from './clip-preprocessor.js';
import { DecodeBudget } from './decode-budget.js';
import { withOpenedImage, type OpenOptions } from './image-decoder.js';
import { jpegDecodeShrink } from './jpeg-scaled-decode.js';

const FIXTURES = new URL('../../../test/fixtures/clip-parity/', import.meta.url);
const CLIP: VisionPreprocessing = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD };
/** A committed 12 MP baseline JPEG (4000x3000) and a progressive one (4032x3024). */
const photo = readFileSync(new URL('photo-4000x3000.jpg', FIXTURES));
const progressive = readFileSync(new URL('progressive-4032x3024.jpg', FIXTURES));
const clipReduce: OpenOptions['reduceTo'] = (width, height) => clipShrunkSize(width, height, 224);

/** What withOpenedImage hands over, and the budget in use meanwhile. */
async function open(bytes: Uint8Array, options: OpenOptions) {
  const budget = new DecodeBudget(200_000_000);
  return withOpenedImage(
    bytes,
    async (opened) => ({ decodeShrink: opened.decodeShrink, pixels: opened.pixels, width: opened.width, raw: opened.raw, charged: budget.inUse }),
    { ...options, budget },
  );
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

describe('the scale libjpeg decodes at (sharp 0.35 picks it from the resize, fastShrinkOnLoad: false)', () => {
  it('is the largest of 8, 4 and 2 that leaves libvips a shrink of 2 or more', () => {
    expect([1.9, 3.99, 4, 7.99, 8, 13.39, 15.99, 16, 40].map(jpegDecodeShrink)).toEqual([1, 1, 2, 2, 4, 4, 4, 8, 8]);
  });
});

describe('decoding a large JPEG at reduced scale', () => {
  it('decodes a 12 MP photo at 1/4 scale, resized in the same pass to the size asked for, charged what libjpeg decodes', async () => {
    const opened = await open(photo, { reduceTo: clipReduce });
    expect(opened.decodeShrink).toBe(4);
    // 298x224: CLIPImageProcessor's resize, before its crop.
    expect(opened.pixels).toEqual({ width: 298, height: 224 });
    expect(opened.width).toBe(4000);
    expect(opened.charged).toBe(1000 * 750);
  });

  it('hands over the intermediate as bytes too, the same as its pipeline yields', async () => {
    const same = await withOpenedImage(
      photo,
      async (opened) => {
        const fromPipeline = await opened.pipeline.raw().toBuffer();
        return opened.raw !== undefined && fromPipeline.equals(opened.raw.data);
      },
      { reduceTo: clipReduce, budget: new DecodeBudget(200_000_000) },
    );
    expect(same).toBe(true);
  });

  it('uses only a scale that divides both sides, the next smaller one where the natural one does not', async () => {
    // libjpeg rounds a scaled side up, and the picture would slide by a fraction of a pixel.
    const sized = (width: number, height: number) => sharp(photo).resize(width, height, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
    // [width, height, scale, height of the intermediate (the resized height where the natural scale divides)]
    const cases: Array<[number, number, number, number]> = [
      [4000, 3000, 4, 224],
      [4002, 3002, 2, 750], // even, but not a multiple of 4: 3002 / (2 x 2), left to the caller to resize
      [4001, 2999, 1, 2999], // odd: decoded at full size
      [5712, 4284, 4, 535], // 1/8 by its size, but 4284 = 8 x 535.5: 4284 / (2 x 4)
      [8000, 6000, 8, 224],
    ];
    for (const [width, height, shrink, intermediateHeight] of cases) {
      const opened = await open(await sized(width, height), { reduceTo: clipReduce });
      expect([width, height, opened.decodeShrink, opened.pixels.height]).toEqual([width, height, shrink, intermediateHeight]);
      if (shrink > 1) expect(opened.pixels.width).toBe(clipShrunkSize(width, height, 224)?.width);
    }
  });

  it('charges a progressive JPEG its full size: libjpeg holds every coefficient until the last scan', async () => {
    const opened = await open(progressive, { reduceTo: clipReduce });
    expect(opened.decodeShrink).toBe(4);
    expect(opened.charged).toBe(4032 * 3024);
  });

  it('decodes the full frame when nothing says how small the image will become, or scaling is turned off', async () => {
    for (const options of [{}, { reduceTo: clipReduce, scaledDecode: false }] satisfies OpenOptions[]) {
      const opened = await open(photo, options);
      expect(opened.decodeShrink).toBe(1);
      expect(opened.pixels).toEqual({ width: 4000, height: 3000 });
      expect(opened.charged).toBe(4000 * 3000);
    }
  });

  it('decodes a JPEG shrunk less than 8 times (a short side under 1,792 pixels for 224) at full size', async () => {
    const bytes = readFileSync(new URL('photo-1600x1200.jpg', FIXTURES));
    const opened = await open(bytes, { reduceTo: clipReduce });
    expect(opened.decodeShrink).toBe(1);
    expect(opened.pixels).toEqual({ width: 1600, height: 1200 });
    expect(opened.raw).toBeUndefined();
  });

  it('decodes other formats at full size (only JPEG has DCT scaling)', async () => {
    const png = await sharp(photo).png({ compressionLevel: 1 }).toBuffer();
    const opened = await open(png, { reduceTo: clipReduce });
    expect(opened.decodeShrink).toBe(1);
    expect(opened.pixels).toEqual({ width: 4000, height: 3000 });
  });

  it('converts CMYK and greyscale JPEGs to the same sRGB on the scaled path as at full size', async () => {
    // 2400x1800 (4.3 MP, decoded at 1/4): the same path as a 12 MP photo at a third of the cost.
    const source = sharp(photo).resize(2400, 1800);
    const cmyk = await source.clone().toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    const grey = await source.clone().greyscale().jpeg({ quality: 90 }).toBuffer();
    for (const bytes of [cmyk, grey]) {
      expect((await open(bytes, { reduceTo: clipReduce })).decodeShrink).toBe(4);
      const scaled = await prepareImage(bytes, CLIP);
      const full = await prepareImage(bytes, CLIP, { scaledDecode: false });
      expect(scaled.pixels.length).toBe(3 * 224 * 224);
      // Measured: 0.99996 (CMYK) and 0.99997 (grey).
      expect(cosine(scaled.pixels, full.pixels)).toBeGreaterThan(0.9999);
    }
  });

  it('refuses a truncated 12 MP JPEG as unreadable on the scaled path, as at full size', async () => {
    const truncated = photo.subarray(0, Math.floor(photo.length * 0.6));
    for (const scaledDecode of [true, false]) {
      const error = await prepareImage(truncated, CLIP, { scaledDecode }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(InvalidImageError);
      expect((error as InvalidImageError).code).toBe('image_invalid');
    }
  });
});
