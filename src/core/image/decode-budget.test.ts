// Specification of the decode budget: never more pixels granted at once than its capacity, in
// the order asked, an image over the whole budget decoded alone rather than never, and every
// preprocessing path (CLIP and SigLIP) holding the pixels its header declares while it decodes.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { CLIP_MEAN, CLIP_STD, type VisionPreprocessing } from '../models/model-spec.js';
import { prepareImage } from './clip-preprocessor.js';
import { DECODE_BUDGET_PIXELS, DecodeBudget, processDecodeBudget } from './decode-budget.js';
import { MAX_IMAGE_PIXELS, withOpenedImage } from './image-decoder.js';
import { prepareSquashedImage } from './squash-preprocessor.js';

const CLIP: VisionPreprocessing = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD };
const SIGLIP: VisionPreprocessing = { imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash' };

/** A promise's state after pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('DecodeBudget', () => {
  it('grants requests while they fit and makes the next one wait for a release', async () => {
    const budget = new DecodeBudget(100);
    const first = await budget.acquire(60);
    const second = budget.acquire(60);
    expect(await settled(second)).toBe(false);
    expect(budget.inUse).toBe(60);
    first();
    const release = await second;
    expect(budget.inUse).toBe(60);
    release();
    expect(budget.inUse).toBe(0);
    expect(budget.peak).toBe(60);
  });

  it('decodes an image larger than the whole budget alone, once nothing else is decoding', async () => {
    const budget = new DecodeBudget(100);
    const small = await budget.acquire(10);
    const huge = budget.acquire(5_000);
    expect(await settled(huge)).toBe(false);
    small();
    const release = await huge;
    expect(budget.inUse).toBe(100);
    const after = budget.acquire(1);
    expect(await settled(after)).toBe(false);
    release();
    (await after)();
    expect(budget.inUse).toBe(0);
  });

  it('charges an image of unknown size the whole budget', async () => {
    const budget = new DecodeBudget(100);
    const release = await budget.acquire(Number.NaN);
    expect(budget.inUse).toBe(100);
    release();
    await budget.acquire(Number.POSITIVE_INFINITY);
    expect(budget.inUse).toBe(100);
  });

  it('serves waiters in order: a big request is not overtaken by small ones', async () => {
    const budget = new DecodeBudget(100);
    const held = await budget.acquire(50);
    const order: string[] = [];
    const big = budget.acquire(80).then((release) => (order.push('big'), release));
    const small = budget.acquire(10).then((release) => (order.push('small'), release));
    expect(await settled(small)).toBe(false);
    held();
    (await big)();
    (await small)();
    expect(order).toEqual(['big', 'small']);
  });

  it('gives pixels back once however often release is called', async () => {
    const budget = new DecodeBudget(100);
    const release = await budget.acquire(70);
    const other = await budget.acquire(30);
    release();
    release();
    expect(budget.inUse).toBe(30);
    other();
    expect(budget.inUse).toBe(0);
  });

  it('refuses a capacity that is not a whole number of at least 1', () => {
    expect(() => new DecodeBudget(0)).toThrow(RangeError);
    expect(() => new DecodeBudget(1.5)).toThrow(RangeError);
  });

  it('is at least as large as one image may be, so no image the per-image limit lets through waits forever', () => {
    // Not required for progress (larger requests are capped), but a smaller budget would make every
    // large photo wait for an empty budget.
    expect(DECODE_BUDGET_PIXELS).toBeGreaterThanOrEqual(12_000_000 * 4);
    expect(DECODE_BUDGET_PIXELS).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
  });
});

describe('decoding within the process budget', () => {
  /** A 3000x2000 (6 MP) PNG of one colour: cheap to make and to decode. */
  const sixMegapixels = (red: number): Promise<Buffer> =>
    sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: red, g: 40, b: 40 } } })
      .png({ compressionLevel: 1 })
      .toBuffer();

  it('holds the header’s pixels while an image is opened and preprocessed, and gives them back after', async () => {
    const budget = new DecodeBudget(10_000_000);
    const bytes = await sixMegapixels(10);
    let during = 0;
    await withOpenedImage(
      bytes,
      async (opened) => {
        during = budget.inUse;
        return opened.width;
      },
      { budget },
    );
    expect(during).toBe(6_000_000);
    expect(budget.inUse).toBe(0);
  });

  it('charges a HEIC the pixels its container declares, read before the decoder runs', async () => {
    const heic = readFileSync(new URL('../../../test/fixtures/images/red-blue-64x48.heic', import.meta.url));
    const budget = new DecodeBudget(10_000_000);
    const during = await withOpenedImage(heic, async () => budget.inUse, { budget });
    expect(during).toBe(64 * 48);
    expect(budget.inUse).toBe(0);
  });

  it('gives the pixels back when preprocessing fails', async () => {
    const budget = new DecodeBudget(10_000_000);
    const bytes = await sixMegapixels(20);
    await expect(
      withOpenedImage(bytes, () => Promise.reject(new Error('preprocessing failed')), { budget }),
    ).rejects.toThrow('preprocessing failed');
    expect(budget.inUse).toBe(0);
  });

  it('makes CLIP and SigLIP preprocessing wait while the process budget is spent, and run once it is given back', async () => {
    const images = await Promise.all([1, 2, 3].map((i) => sixMegapixels(100 + i)));
    const held = await processDecodeBudget.acquire(DECODE_BUDGET_PIXELS);
    const done = vi.fn();
    const prepared = images.map((bytes, i) =>
      (i === 1 ? prepareSquashedImage(bytes, SIGLIP) : prepareImage(bytes, CLIP)).then((image) => {
        done();
        return image;
      }),
    );
    // Each reads its header, then waits for its 6 MP: nothing is decoded while the budget is spent.
    await vi.waitFor(() => expect(processDecodeBudget.waiting).toBe(3));
    expect(done).not.toHaveBeenCalled();
    held();
    const results = await Promise.all(prepared);
    expect(results.map((image) => [image.width, image.height, image.pixels.length])).toEqual(
      Array(3).fill([3000, 2000, 3 * 224 * 224]),
    );
    expect(processDecodeBudget.inUse).toBe(0);
  });
});
