// Specification of decodeHeic: real HEVC pixels from a committed fixture, limits applied before
// decoding, and a stalled or broken decode turned into an image error.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../errors.js';
import { decodeHeic } from './heic-decoder.js';

const FIXTURE = readFileSync(
  new URL('../../../test/fixtures/images/red-blue-64x48.heic', import.meta.url),
);

async function failure(promise: Promise<unknown>): Promise<InvalidImageError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidImageError);
  return error as InvalidImageError;
}

describe('decodeHeic', () => {
  it('decodes the 64x48 fixture to RGBA: red on the left half, blue on the right', async () => {
    const { width, height, rgba } = await decodeHeic(FIXTURE, { maxPixels: 10_000 });
    expect({ width, height, length: rgba.length }).toEqual({
      width: 64,
      height: 48,
      length: 64 * 48 * 4,
    });
    const at = (x: number, y: number): number[] => [
      ...rgba.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4),
    ];
    for (const [x, y] of [
      [2, 2],
      [20, 24],
      [28, 45],
    ] as const) {
      const [r, g, b, a] = at(x, y);
      expect([r! >= 248, g! <= 6, b! <= 6, a]).toEqual([true, true, true, 255]);
    }
    for (const [x, y] of [
      [36, 2],
      [50, 24],
      [61, 45],
    ] as const) {
      const [r, g, b, a] = at(x, y);
      expect([r! <= 6, g! <= 6, b! >= 248, a]).toEqual([true, true, true, 255]);
    }
  });

  it('refuses an image over maxPixels from its declared size, before decoding it', async () => {
    const error = await failure(decodeHeic(FIXTURE, { maxPixels: 3000 }));
    expect(error.code).toBe('image_too_large');
    expect(error.details).toEqual({ width: 64, height: 48, maxPixels: 3000 });
  });

  it('refuses a file cut after its header boxes as corrupt, keeping what libheif said', async () => {
    const error = await failure(decodeHeic(FIXTURE.subarray(0, 300), { maxPixels: 10_000 }));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe('The image could not be read: it looks truncated or corrupt.');
    expect(error.details.format).toBe('heif');
    expect(String(error.details.reason)).toContain('Could not parse HEIF file');
  });

  it('stops a decode that runs past its time limit', async () => {
    const error = await failure(decodeHeic(FIXTURE, { maxPixels: 10_000, timeoutMs: 1 }));
    expect(error.code).toBe('image_invalid');
    expect(error.message).toBe(
      'The HEIC image could not be decoded within 0.001 s; it may be corrupt.',
    );
  });

  it('refuses bytes that are not HEIF at all', async () => {
    const error = await failure(
      decodeHeic(Buffer.from('not a heic file at all'), { maxPixels: 10_000 }),
    );
    expect(error.code).toBe('image_invalid');
    expect(error.details.reason).toBe('input buffer is not a HEIC image');
  });
});
