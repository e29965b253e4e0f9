// SigLIP's squash resize against hand-computed values, beside CLIP's crop of the same image: a
// 672x224 picture of three vertical bands (red, green, blue). CLIP keeps the centre 224x224,
// which is all green; SigLIP squeezes the whole width into 224, so all three bands remain.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { findFamily } from '../models/model-family.js';
import { prepareImage } from './clip-preprocessor.js';
import { prepareSquashedImage } from './squash-preprocessor.js';

const SIZE = 224;
const PLANE = SIZE * SIZE;
const SIGLIP_VISION = { imageSize: SIZE, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash' } as const;
const CLIP_VISION = {
  imageSize: SIZE,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
} as const;

let bands: Buffer;

/** The normalised value of channel `c` at (x, y) in a CHW tensor. */
function at(pixels: Float32Array, c: number, x: number, y: number): number {
  return pixels[c * PLANE + y * SIZE + x] as number;
}

beforeAll(async () => {
  const raw = Buffer.alloc(672 * 224 * 3);
  for (let y = 0; y < 224; y++) {
    for (let x = 0; x < 672; x++) {
      raw[(y * 672 + x) * 3 + Math.floor(x / 224)] = 255;
    }
  }
  bands = await sharp(raw, { raw: { width: 672, height: 224, channels: 3 } }).png().toBuffer();
});

describe('SigLIP squash preprocessing', () => {
  it('keeps all three bands, each a third of the width, normalised to -1..1 by mean = std = 0.5', async () => {
    const image = await prepareSquashedImage(bands, SIGLIP_VISION);
    expect(image.pixels.length).toBe(3 * PLANE);
    expect([image.width, image.height, image.format]).toEqual([672, 224, 'png']);
    // Far from the band edges (at 74.7 and 149.3) the bicubic filter sees one colour: (255/255 - 0.5) / 0.5 = 1, (0 - 0.5) / 0.5 = -1.
    const columns: Array<[number, [number, number, number]]> = [
      [10, [1, -1, -1]],
      [112, [-1, 1, -1]],
      [213, [-1, -1, 1]],
    ];
    for (const [x, rgb] of columns) {
      for (const y of [0, 100, 223]) {
        expect([0, 1, 2].map((c) => at(image.pixels, c, x, y))).toEqual(rgb.map((v) => expect.closeTo(v, 5)));
      }
    }
  });

  it('differs from CLIP, which crops the centre square: all green', async () => {
    const image = await prepareImage(bands, CLIP_VISION);
    // (1 - 0.4578275) / 0.26130258 = 2.0748837 for green; (0 - mean) / std for the others.
    const green = [-0.48145466 / 0.26862954, (1 - 0.4578275) / 0.26130258, -0.40821073 / 0.27577711];
    for (const x of [0, 10, 112, 213, 223]) {
      expect([0, 1, 2].map((c) => at(image.pixels, c, x, 100))).toEqual(green.map((v) => expect.closeTo(v, 5)));
    }
  });

  it('squashes a photo too large for the exact JavaScript passes through libvips, to the same bands', async () => {
    // 2400x1600: its first pass would cost about 60 million multiply-adds, over
    // MAX_PIL_RESAMPLE_COST, so libvips reduces it. Left half red, right half blue.
    const raw = Buffer.alloc(2400 * 1600 * 3);
    for (let y = 0; y < 1600; y++) {
      for (let x = 0; x < 2400; x++) raw[(y * 2400 + x) * 3 + (x < 1200 ? 0 : 2)] = 255;
    }
    const png = await sharp(raw, { raw: { width: 2400, height: 1600, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const image = await prepareSquashedImage(png, SIGLIP_VISION);
    expect([image.width, image.height]).toEqual([2400, 1600]);
    for (const y of [0, 223]) {
      expect([0, 1, 2].map((c) => at(image.pixels, c, 10, y))).toEqual([1, -1, -1].map((v) => expect.closeTo(v, 5)));
      expect([0, 1, 2].map((c) => at(image.pixels, c, 213, y))).toEqual([-1, -1, 1].map((v) => expect.closeTo(v, 5)));
    }
  });

  it('squashes a WebP over 16 MP (WEBP_SHRINK_ON_LOAD_PIXELS, the one-pass path) to the right colour', async () => {
    const webp = await sharp({ create: { width: 4100, height: 4000, channels: 3, background: { r: 0, g: 255, b: 0 } } })
      .webp({ lossless: true })
      .toBuffer();
    const image = await prepareSquashedImage(webp, SIGLIP_VISION);
    expect([image.width, image.height, image.format]).toEqual([4100, 4000, 'webp']);
    expect([0, 1, 2].map((c) => at(image.pixels, c, 112, 112))).toEqual([-1, 1, -1].map((v) => expect.closeTo(v, 5)));
  });

  it('is what the siglip family runs, and the openai-clip family crops', async () => {
    const siglip = findFamily('siglip');
    const clip = findFamily('openai-clip');
    expect(siglip?.defaults.vision).toMatchObject({ imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash' });
    const viaFamily = await siglip!.prepareImage(bands, siglip!.defaults.vision);
    expect(at(viaFamily.pixels, 0, 10, 100)).toBeCloseTo(1, 5);
    const cropped = await clip!.prepareImage(bands, clip!.defaults.vision);
    expect(at(cropped.pixels, 0, 10, 100)).toBeCloseTo(-0.48145466 / 0.26862954, 5);
  });
});
