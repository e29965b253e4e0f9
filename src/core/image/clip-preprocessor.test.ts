// Specification of prepareImage: exact tensors for hand-made images, and every bad input refused
// with the right code and message. Fixtures are drawn with sharp here; only HEIC is committed.
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../errors.js';
import { CLIP_MEAN, CLIP_STD, type VisionPreprocessing } from '../models/model-spec.js';
import { clipGeometry, prepareImage } from './clip-preprocessor.js';
import { MAX_IMAGE_BYTES } from './image-decoder.js';

const CLIP: VisionPreprocessing = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD };
const PLANE = 224 * 224;
const ACCEPTED = 'findimage reads JPEG, PNG, WebP, GIF, AVIF, TIFF and HEIC/HEIF.';
const CORRUPT = 'The image could not be read: it looks truncated or corrupt.';
const HEIC_FIXTURE = new URL('../../../test/fixtures/images/red-blue-64x48.heic', import.meta.url);

type Rgb = readonly [number, number, number];
type Rgba = readonly [number, number, number, number];
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const WHITE: Rgb = [255, 255, 255];

/** An image drawn pixel by pixel, as a sharp pipeline ready to encode. */
function draw(width: number, height: number, colour: (x: number, y: number) => Rgb | Rgba): Sharp {
  const channels = colour(0, 0).length as 3 | 4;
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * channels);
  }
  return sharp(data, { raw: { width, height, channels } });
}

const solid = (width: number, height: number, colour: Rgb | Rgba): Sharp =>
  draw(width, height, () => colour);

/** Noise compresses badly, so its files are large enough to cut in the middle of the pixels. */
function noise(width: number, height: number): Sharp {
  let seed = 12345;
  return draw(width, height, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return [seed & 0xff, (seed >> 8) & 0xff, (seed >> 16) & 0xff];
  });
}

/** Value CLIP expects for a byte in a channel, computed from the published mean and std. */
function normalised(byte: number, channel: number): number {
  return (byte / 255 - CLIP_MEAN[channel]!) / CLIP_STD[channel]!;
}

/** The byte a tensor value came from (inverse of `normalised`). */
function byteAt(pixels: Float32Array, channel: number, row: number, column: number): number {
  const value = pixels[channel * PLANE + row * 224 + column]!;
  return Math.round((value * CLIP_STD[channel]! + CLIP_MEAN[channel]!) * 255);
}

/** Largest distance, in byte values, between the tensor's rows [from, to) and one colour. */
function distanceFrom(pixels: Float32Array, colour: Rgb, from = 0, to = 224): number {
  let worst = 0;
  for (let channel = 0; channel < 3; channel++) {
    for (let row = from; row < to; row++) {
      for (let column = 0; column < 224; column++) {
        worst = Math.max(worst, Math.abs(byteAt(pixels, channel, row, column) - colour[channel]!));
      }
    }
  }
  return worst;
}

/** Largest difference between every value of the tensor and CLIP's value for one colour. */
function maxErrorFrom(pixels: Float32Array, colour: Rgb): number {
  let worst = 0;
  for (let channel = 0; channel < 3; channel++) {
    const expected = normalised(colour[channel]!, channel);
    for (let i = channel * PLANE; i < (channel + 1) * PLANE; i++) {
      worst = Math.max(worst, Math.abs(pixels[i]! - expected));
    }
  }
  return worst;
}

async function refusal(bytes: Uint8Array): Promise<InvalidImageError> {
  const error: unknown = await prepareImage(bytes, CLIP).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidImageError);
  return error as InvalidImageError;
}

/** A PNG chunk: length, type, data, CRC-32 of type and data. */
function pngChunk(type: string, data: Uint8Array): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), 8 + data.length);
  return chunk;
}

/** A PNG whose IHDR declares any size, followed by a one-row IDAT and IEND. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * 16))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('clipGeometry (CLIPImageProcessor: short side 224, long side truncated)', () => {
  it('truncates the long side: 4000x3000 resizes to 298x224 (rounding gives 299) and crops at 37', () => {
    expect(clipGeometry(4000, 3000, 224)).toEqual({
      resizedWidth: 298,
      resizedHeight: 224,
      cropLeft: 37,
      cropTop: 0,
    });
  });

  it('crops at floor((size - 224) / 2): 225x224 keeps its size and crops at column 0, not 1', () => {
    expect(clipGeometry(225, 224, 224)).toEqual({
      resizedWidth: 225,
      resizedHeight: 224,
      cropLeft: 0,
      cropTop: 0,
    });
  });

  it('treats portrait like landscape turned: 3000x4000 resizes to 224x298, crop row 37', () => {
    expect(clipGeometry(3000, 4000, 224)).toEqual({
      resizedWidth: 224,
      resizedHeight: 298,
      cropLeft: 0,
      cropTop: 37,
    });
  });

  it('enlarges a short side under 224: 150x100 becomes 336x224, crop column 56', () => {
    expect(clipGeometry(150, 100, 224)).toEqual({
      resizedWidth: 336,
      resizedHeight: 224,
      cropLeft: 56,
      cropTop: 0,
    });
  });
});

describe('prepareImage tensors', () => {
  it('turns a pure white image into (1 - mean) / std in every channel', async () => {
    const image = await prepareImage(await solid(16, 16, WHITE).png().toBuffer(), CLIP);
    expect(image.pixels).toBeInstanceOf(Float32Array);
    expect(image.pixels.length).toBe(3 * 224 * 224);
    expect(image.pixels[0]).toBeCloseTo(1.930336254158794, 5);
    expect(image.pixels[PLANE]).toBeCloseTo(2.0748838377332515, 5);
    expect(image.pixels[2 * PLANE]).toBeCloseTo(2.1458969890575763, 5);
    expect(maxErrorFrom(image.pixels, WHITE)).toBeLessThan(1e-6);
    expect({ width: image.width, height: image.height, format: image.format }).toEqual({
      width: 16,
      height: 16,
      format: 'png',
    });
  });

  it('lays a pure red image out as an R plane of (1 - mean) / std, then G and B planes of -mean / std', async () => {
    const { pixels } = await prepareImage(await solid(20, 20, RED).png().toBuffer(), CLIP);
    expect(pixels[0]).toBeCloseTo(1.930336254158794, 5);
    expect(pixels[PLANE - 1]).toBeCloseTo(1.930336254158794, 5);
    expect(pixels[PLANE]).toBeCloseTo(-1.7520971281645974, 5);
    expect(pixels[2 * PLANE - 1]).toBeCloseTo(-1.7520971281645974, 5);
    expect(pixels[2 * PLANE]).toBeCloseTo(-1.4802197687835659, 5);
    expect(pixels[3 * PLANE - 1]).toBeCloseTo(-1.4802197687835659, 5);
    expect(maxErrorFrom(pixels, RED)).toBeLessThan(1e-6);
  });

  it('keeps rows in order inside each plane: a red top half and a blue bottom half', async () => {
    const png = await draw(32, 32, (_x, y) => (y < 16 ? RED : BLUE))
      .png()
      .toBuffer();
    const { pixels } = await prepareImage(png, CLIP);
    // Bicubic blends about two source rows (14 output rows) either side of the edge at row 112.
    expect(distanceFrom(pixels, RED, 0, 96)).toBe(0);
    expect(distanceFrom(pixels, BLUE, 128, 224)).toBe(0);
    expect(pixels[0 * PLANE + 10 * 224 + 7]).toBeCloseTo(normalised(255, 0), 5);
    expect(pixels[2 * PLANE + 10 * 224 + 7]).toBeCloseTo(normalised(0, 2), 5);
    expect(pixels[0 * PLANE + 200 * 224 + 7]).toBeCloseTo(normalised(0, 0), 5);
    expect(pixels[2 * PLANE + 200 * 224 + 7]).toBeCloseTo(normalised(255, 2), 5);
  });

  it('normalises with the mean and std it is given, at the size it is given', async () => {
    const vision: VisionPreprocessing = {
      imageSize: 32,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.25, 0.125],
    };
    const { pixels } = await prepareImage(
      await solid(16, 16, [255, 0, 51]).png().toBuffer(),
      vision,
    );
    expect(pixels.length).toBe(3 * 32 * 32);
    expect(pixels[0]).toBeCloseTo(1, 6); // (1 - 0.5) / 0.5
    expect(pixels[1024]).toBeCloseTo(-2, 6); // (0 - 0.5) / 0.25
    expect(pixels[2048]).toBeCloseTo(-2.4, 5); // (0.2 - 0.5) / 0.125
  });

  it('flattens a fully transparent PNG onto white', async () => {
    const png = await solid(16, 16, [0, 0, 0, 0]).png().toBuffer();
    const { pixels } = await prepareImage(png, CLIP);
    expect(maxErrorFrom(pixels, WHITE)).toBeLessThan(1e-6);
  });

  it('blends half-transparent red with white into pink', async () => {
    const png = await solid(16, 16, [255, 0, 0, 128]).png().toBuffer();
    const { pixels } = await prepareImage(png, CLIP);
    // 255 * (1 - 128 / 255) = 127 for green and blue, red stays 255.
    expect(distanceFrom(pixels, [255, 127, 127])).toBeLessThanOrEqual(1);
  });

  it('applies EXIF orientation 6: a 40x20 JPEG reports 20x40 and its left edge comes out on top', async () => {
    const jpeg = await draw(40, 20, (x) => (x < 20 ? RED : BLUE))
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await prepareImage(jpeg, CLIP);
    expect({ width: image.width, height: image.height, format: image.format }).toEqual({
      width: 20,
      height: 40,
      format: 'jpeg',
    });
    expect(distanceFrom(image.pixels, RED, 0, 80)).toBeLessThanOrEqual(6);
    expect(distanceFrom(image.pixels, BLUE, 144, 224)).toBeLessThanOrEqual(6);
  });

  it('crops the middle of a wide image: red | green | blue stripes give only green', async () => {
    const png = await draw(400, 100, (x) => (x < 100 ? RED : x < 300 ? GREEN : BLUE))
      .png()
      .toBuffer();
    const image = await prepareImage(png, CLIP);
    expect(distanceFrom(image.pixels, GREEN)).toBe(0);
    expect({ width: image.width, height: image.height }).toEqual({ width: 400, height: 100 });
  });

  it('crops the middle of a tall image: red / green / blue bands give only green', async () => {
    const png = await draw(100, 400, (_x, y) => (y < 100 ? RED : y < 300 ? GREEN : BLUE))
      .png()
      .toBuffer();
    const image = await prepareImage(png, CLIP);
    expect(distanceFrom(image.pixels, GREEN)).toBe(0);
    expect({ width: image.width, height: image.height }).toEqual({ width: 100, height: 400 });
  });

  it('crops the middle of a 20x1000 strip, enlarged 11.2x: only green', async () => {
    const png = await draw(20, 1000, (_x, y) => (y < 300 ? RED : y < 700 ? GREEN : BLUE))
      .png()
      .toBuffer();
    expect(distanceFrom((await prepareImage(png, CLIP)).pixels, GREEN)).toBe(0);
  });

  it('crops the middle of strips past 16,384 px (one lazy resize keeps memory small): only green', async () => {
    // 20x3000 enlarges to 224x33600; 300x20000 has 20,000 source rows.
    const enlarged = await draw(20, 3000, (_x, y) => (y < 1000 ? RED : y < 2000 ? GREEN : BLUE))
      .png()
      .toBuffer();
    const shrunk = await draw(300, 20000, (_x, y) => (y < 6000 ? RED : y < 14000 ? GREEN : BLUE))
      .png()
      .toBuffer();
    expect(distanceFrom((await prepareImage(enlarged, CLIP)).pixels, GREEN)).toBe(0);
    const image = await prepareImage(shrunk, CLIP);
    expect(distanceFrom(image.pixels, GREEN)).toBe(0);
    expect({ width: image.width, height: image.height }).toEqual({ width: 300, height: 20000 });
  });

  it('reads greyscale as equal R, G and B', async () => {
    const png = await draw(16, 16, () => [128, 128, 128])
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(1);
    const { pixels } = await prepareImage(png, CLIP);
    expect(distanceFrom(pixels, [128, 128, 128])).toBe(0);
  });

  it('accepts a 16-bit PNG and reads it as 8-bit', async () => {
    const png = await solid(16, 16, RED).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const image = await prepareImage(png, CLIP);
    expect(maxErrorFrom(image.pixels, RED)).toBeLessThan(1e-6);
    expect(image.format).toBe('png');
  });

  it('accepts a CMYK JPEG and converts it to sRGB', async () => {
    const white = await solid(16, 16, WHITE)
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toBuffer();
    const red = await solid(16, 16, RED).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(red).metadata()).space).toBe('cmyk');
    expect(distanceFrom((await prepareImage(white, CLIP)).pixels, WHITE)).toBeLessThanOrEqual(1);
    const { pixels, format } = await prepareImage(red, CLIP);
    expect(format).toBe('jpeg');
    // Red goes through the CMYK gamut and back: still strongly red, never read as raw ink values.
    expect(byteAt(pixels, 0, 112, 112)).toBeGreaterThan(200);
    expect(byteAt(pixels, 1, 112, 112)).toBeLessThan(30);
    expect(byteAt(pixels, 2, 112, 112)).toBeLessThan(30);
  });

  it('uses the first frame of an animated GIF: red then blue gives red', async () => {
    const frames = [
      await solid(32, 32, RED).png().toBuffer(),
      await solid(32, 32, BLUE).png().toBuffer(),
    ];
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await prepareImage(gif, CLIP);
    expect(distanceFrom(image.pixels, RED)).toBe(0);
    expect({ width: image.width, height: image.height, format: image.format }).toEqual({
      width: 32,
      height: 32,
      format: 'gif',
    });
  });

  it('uses the first frame of an animated WebP: blue then red gives blue', async () => {
    const frames = [
      await solid(32, 32, BLUE).png().toBuffer(),
      await solid(32, 32, RED).png().toBuffer(),
    ];
    const webp = await sharp(frames, { join: { animated: true } })
      .webp({ lossless: true })
      .toBuffer();
    expect((await sharp(webp).metadata()).pages).toBe(2);
    const image = await prepareImage(webp, CLIP);
    expect(distanceFrom(image.pixels, BLUE)).toBe(0);
    expect(image.height).toBe(32);
  });
});

describe('prepareImage formats', () => {
  const leftRedRightBlue = (): Sharp => draw(48, 32, (x) => (x < 24 ? RED : BLUE));
  const encoders: Array<[string, () => Promise<Buffer>, number]> = [
    [
      'jpeg',
      () => leftRedRightBlue().jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer(),
      8,
    ],
    ['png', () => leftRedRightBlue().png().toBuffer(), 0],
    ['webp', () => leftRedRightBlue().webp({ lossless: true }).toBuffer(), 0],
    ['gif', () => leftRedRightBlue().gif().toBuffer(), 0],
    ['avif', () => leftRedRightBlue().avif({ lossless: true }).toBuffer(), 2],
    ['tiff', () => leftRedRightBlue().tiff({ compression: 'lzw' }).toBuffer(), 0],
  ];

  it.each(encoders)(
    'accepts %s and reports its format and size',
    async (format, encode, tolerance) => {
      const image = await prepareImage(await encode(), CLIP);
      expect({ width: image.width, height: image.height, format: image.format }).toEqual({
        width: 48,
        height: 32,
        format,
      });
      // 48x32 scales by 7 to 336x224; the crop keeps columns 56-280, the edge falling at column 112.
      expect(Math.abs(byteAt(image.pixels, 0, 112, 40) - 255)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(byteAt(image.pixels, 2, 112, 40) - 0)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(byteAt(image.pixels, 0, 112, 190) - 0)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(byteAt(image.pixels, 2, 112, 190) - 255)).toBeLessThanOrEqual(tolerance);
    },
  );

  it('accepts HEIC (decoded by libheif in WebAssembly): left half red, right half blue', async () => {
    const image = await prepareImage(readFileSync(HEIC_FIXTURE), CLIP);
    expect({ width: image.width, height: image.height, format: image.format }).toEqual({
      width: 64,
      height: 48,
      format: 'heif',
    });
    // 64x48 scales to 299x224; the crop keeps columns 37-261, the edge falling near column 112.
    for (const row of [10, 112, 210]) {
      expect(Math.abs(byteAt(image.pixels, 0, row, 30) - 255)).toBeLessThanOrEqual(6);
      expect(byteAt(image.pixels, 2, row, 30)).toBeLessThanOrEqual(6);
      expect(byteAt(image.pixels, 0, row, 200)).toBeLessThanOrEqual(6);
      expect(Math.abs(byteAt(image.pixels, 2, row, 200) - 255)).toBeLessThanOrEqual(6);
    }
  });

  it('keeps the event loop free while decoding (sharp threads, HEIC worker)', async () => {
    const jpeg = await noise(1600, 1200).jpeg().toBuffer();
    for (const bytes of [jpeg, readFileSync(HEIC_FIXTURE)]) {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      await prepareImage(bytes, CLIP);
      clearInterval(timer);
      // Decoding on this thread would run to completion without a single timer callback.
      expect(ticks).toBeGreaterThanOrEqual(3);
    }
  });
  it('reads a plain Uint8Array view at an offset inside a larger buffer (as fetch and Slack give bytes)', async () => {
    const png = await solid(16, 16, GREEN).png().toBuffer();
    const backing = new ArrayBuffer(png.length + 16);
    const view = new Uint8Array(backing, 8, png.length);
    view.set(png);
    new Uint8Array(backing, 0, 8).fill(0x25); // '%' before the view: a sniff of the whole buffer would see '%%%'
    const image = await prepareImage(view, CLIP);
    expect(image.format).toBe('png');
    expect(distanceFrom(image.pixels, GREEN)).toBe(0);
  });
});

describe('prepareImage refusals', () => {
  it('refuses an empty file as invalid', async () => {
    const error = await refusal(new Uint8Array(0));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe('The file is empty (0 bytes): there is no image in it.');
  });

  it('refuses a text file, whatever its name, saying it is text and listing the formats read', async () => {
    const error = await refusal(Buffer.from('holiday-photo.jpg\nThis is not really a JPEG.\n'));
    expect(error.code).toBe('image_unsupported');
    expect(error.message).toBe(`This file is a text file, not an image. ${ACCEPTED}`);
  });

  it('refuses a PDF, saying it is a PDF', async () => {
    const error = await refusal(Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'));
    expect(error.code).toBe('image_unsupported');
    expect(error.message).toBe(`This file is a PDF document, not an image. ${ACCEPTED}`);
  });

  it('refuses an SVG without rasterising it, even one that references an external image', async () => {
    const svg =
      '\ufeff<?xml version="1.0"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg" ' +
      'xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">' +
      '<image xlink:href="http://127.0.0.1:9/tracker.png" width="64" height="64"/></svg>';
    const error = await refusal(Buffer.from(svg));
    expect(error.code).toBe('image_unsupported');
    expect(error.message).toBe(
      'This file is an SVG drawing; findimage does not index SVG. It reads JPEG, PNG, WebP, GIF, AVIF, TIFF and HEIC/HEIF.',
    );
  });

  it('refuses a BMP as a format it does not read', async () => {
    const bmp = Buffer.alloc(54 + 16 * 16 * 4);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(16, 18);
    bmp.writeInt32LE(16, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(32, 28);
    const error = await refusal(bmp);
    expect(error.code).toBe('image_unsupported');
    expect(error.message).toBe(
      'This file is a BMP image, a format findimage does not read. It reads JPEG, PNG, WebP, GIF, AVIF, TIFF and HEIC/HEIF.',
    );
  });

  it('refuses bytes it does not recognise', async () => {
    const error = await refusal(Uint8Array.from({ length: 256 }, (_, i) => (i * 37) % 256));
    expect(error.code).toBe('image_unsupported');
    expect(error.message).toBe(
      'This file is not an image findimage can read. It reads JPEG, PNG, WebP, GIF, AVIF, TIFF and HEIC/HEIF.',
    );
  });

  it('refuses a truncated JPEG as truncated or corrupt', async () => {
    const jpeg = await noise(256, 256).jpeg().toBuffer();
    const error = await refusal(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe(CORRUPT);
  });

  it('refuses a truncated PNG as truncated or corrupt', async () => {
    const png = await noise(128, 128).png().toBuffer();
    const error = await refusal(png.subarray(0, Math.floor(png.length * 0.6)));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe(CORRUPT);
  });

  it('refuses a PNG that declares 100000x100000 pixels before decoding', async () => {
    const bomb = pngDeclaring(100_000, 100_000);
    expect(bomb.length).toBeLessThan(200);
    const error = await refusal(bomb);
    // Decoding would have failed on the one-row IDAT as 'image_invalid'; the header check came first.
    expect(error.code).toBe('image_too_large');
    expect(error.message).toBe(
      'The image is 100000x100000 pixels, more than the 120 megapixels findimage reads.',
    );
  });

  it('refuses a file over the byte limit without reading it', async () => {
    const big = Buffer.alloc(MAX_IMAGE_BYTES + 1);
    big.set([0xff, 0xd8, 0xff]);
    const error = await refusal(big);
    expect(error.code).toBe('image_too_large');
    expect(error.message).toBe('The file is 50.0 MB; findimage reads images up to 50 MB.');
  });

  it('refuses a PNG that declares 0x0 pixels as invalid', async () => {
    const error = await refusal(pngDeclaring(0, 0));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe(CORRUPT);
  });

  it('refuses a 1x1 tracking pixel as too small', async () => {
    const error = await refusal(await solid(1, 1, WHITE).gif().toBuffer());
    expect(error.code).toBe('image_too_small');
    expect(error.message).toBe(
      'The image is only 1x1 pixels; findimage indexes images at least 16 pixels on each side ' +
        '(smaller ones are icons or tracking pixels).',
    );
  });

  it('accepts 16 pixels on the short side and refuses 15', async () => {
    await expect(
      prepareImage(await solid(300, 16, WHITE).png().toBuffer(), CLIP),
    ).resolves.toMatchObject({
      width: 300,
      height: 16,
    });
    const error = await refusal(await solid(300, 15, WHITE).png().toBuffer());
    expect(error.code).toBe('image_too_small');
  });

  it('refuses a truncated HEIC as truncated or corrupt', async () => {
    const heic = readFileSync(HEIC_FIXTURE);
    const error = await refusal(heic.subarray(0, 300));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe(CORRUPT);
  });

  it('refuses a HEIC that declares 100000x100000 pixels before decoding', async () => {
    const heic = Buffer.from(readFileSync(HEIC_FIXTURE));
    // The last 'ispe' box is the primary (grid) image's size: width then height after 4 flag bytes.
    const ispe = heic.lastIndexOf('ispe');
    heic.writeUInt32BE(100_000, ispe + 8);
    heic.writeUInt32BE(100_000, ispe + 12);
    const error = await refusal(heic);
    expect(error.code).toBe('image_too_large');
    expect(error.message).toBe(
      'The image is 100000x100000 pixels, more than the 120 megapixels findimage reads.',
    );
  });

  it('never crashes on cut or damaged files: each either decodes or is refused as an image error', async () => {
    const sources = [
      await noise(64, 48).jpeg().toBuffer(),
      await noise(64, 48).png().toBuffer(),
      await noise(64, 48).webp().toBuffer(),
      await noise(64, 48).gif().toBuffer(),
      await noise(64, 48).tiff().toBuffer(),
      await noise(32, 32).avif().toBuffer(),
      readFileSync(HEIC_FIXTURE),
    ];
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const outcomes = { decoded: 0, refused: 0 };
    for (const source of sources) {
      const variants = [0.1, 0.5, 0.9].map((cut) =>
        source.subarray(0, Math.floor(source.length * cut)),
      );
      for (let i = 0; i < 3; i++) {
        const damaged = Buffer.from(source);
        for (let j = 0; j < 8; j++)
          damaged[16 + Math.floor(random() * (damaged.length - 16))] = Math.floor(random() * 256);
        variants.push(damaged);
      }
      for (const bytes of variants) {
        try {
          const image = await prepareImage(bytes, CLIP);
          expect(image.pixels.length).toBe(3 * PLANE);
          outcomes.decoded++;
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidImageError);
          outcomes.refused++;
        }
      }
    }
    expect(outcomes.decoded + outcomes.refused).toBe(sources.length * 6);
    expect(outcomes.refused).toBeGreaterThanOrEqual(sources.length * 3);
  });
});
