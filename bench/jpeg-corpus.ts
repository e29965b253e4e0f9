// The photos the bench indexes: 12-megapixel JPEGs (a phone camera's 4000x3000) of noise over a
// colour gradient, generated once with sharp into .bench/ and reused. Noise keeps the files as
// large and slow to decode as real photos; a flat image would decode unrealistically fast.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../src/core/evaluation/bootstrap.js';

/** A phone camera's 12 megapixels. */
export const PHOTO_WIDTH = 4000;
export const PHOTO_HEIGHT = 3000;
/** Typical phone JPEG quality; with the noise, files come out at several MB like real photos. */
const JPEG_QUALITY = 90;
/** Noise amplitude, in 8-bit levels either side of the gradient. */
const NOISE_LEVELS = 24;

/** The seeded generator the evaluation's bootstrap uses, so every run generates the same photos. */
export { seededRandom };

async function generatePhoto(index: number, path: string): Promise<void> {
  const random = seededRandom(0x5eed + index);
  const from = [random() * 255, random() * 255, random() * 255];
  const to = [random() * 255, random() * 255, random() * 255];
  const pixels = Buffer.allocUnsafe(PHOTO_WIDTH * PHOTO_HEIGHT * 3);
  let offset = 0;
  for (let y = 0; y < PHOTO_HEIGHT; y++) {
    for (let x = 0; x < PHOTO_WIDTH; x++) {
      const t = (x / PHOTO_WIDTH + y / PHOTO_HEIGHT) / 2;
      for (let c = 0; c < 3; c++) {
        const base = (from[c] as number) * (1 - t) + (to[c] as number) * t;
        const value = base + (random() * 2 - 1) * NOISE_LEVELS;
        pixels[offset++] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  const partial = `${path}.partial`;
  await sharp(pixels, { raw: { width: PHOTO_WIDTH, height: PHOTO_HEIGHT, channels: 3 } })
    .jpeg({ quality: JPEG_QUALITY })
    .toFile(partial);
  await rename(partial, path);
}

/**
 * Returns `count` photos from `dir`, generating those that are missing (about a second each).
 * Files are named photo-NN.jpg; the bytes are read into memory.
 */
export async function loadPhotoCorpus(dir: string, count: number): Promise<Uint8Array[]> {
  await mkdir(dir, { recursive: true });
  const photos: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `photo-${String(i).padStart(2, '0')}.jpg`);
    if (!existsSync(path)) await generatePhoto(i, path);
    photos.push(await readFile(path));
  }
  return photos;
}

/** Names of the photos already generated in `dir`. */
export async function listPhotos(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).filter((name) => name.endsWith('.jpg')) : [];
}

/** Largest text a JPEG COM segment holds (its 2-byte length field counts itself). */
const MAX_COMMENT_BYTES = 65_533;

/**
 * The same photo with a JPEG comment (COM segment) inserted after the SOI marker: a valid JPEG
 * that decodes to the same pixels but has a different sha256, so the indexer embeds it instead of
 * recognising a duplicate. This is how the bench indexes "new" photos without generating more.
 */
export function withComment(jpeg: Uint8Array, comment: string): Uint8Array {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG: it does not start with SOI');
  const text = Buffer.from(comment, 'utf8');
  if (text.length > MAX_COMMENT_BYTES) throw new Error('JPEG comment too long');
  const segmentLength = text.length + 2;
  const out = Buffer.allocUnsafe(jpeg.length + 4 + text.length);
  out[0] = 0xff;
  out[1] = 0xd8;
  out[2] = 0xff;
  out[3] = 0xfe;
  out.writeUInt16BE(segmentLength, 4);
  text.copy(out, 6);
  out.set(jpeg.subarray(2), 6 + text.length);
  return out;
}
