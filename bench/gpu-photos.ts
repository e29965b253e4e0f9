// The photos the GPU bench decodes: JPEGs of 1 to 2 megapixels (what chat apps resize uploads
// to), noise over a colour gradient like bench/jpeg-corpus.ts's 12 MP ones, written once to a
// folder and read back as bytes, so every run decodes real JPEG files from disk.
//   node --import tsx bench/gpu-photos.ts DIR [COUNT]   (generates what is missing)
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from './jpeg-corpus.js';

/** Sizes cycled through: 1.2 to 2.1 megapixels, landscape and portrait. */
export const MID_SIZES: readonly (readonly [number, number])[] = [
  [1600, 1200],
  [1200, 1600],
  [1920, 1080],
  [1280, 960],
  [1440, 1080],
];
const JPEG_QUALITY = 88;
/** Noise amplitude, in 8-bit levels either side of the gradient: keeps decode cost photo-like. */
const NOISE_LEVELS = 24;

async function generate(index: number, path: string): Promise<void> {
  const [width, height] = MID_SIZES[index % MID_SIZES.length] as readonly [number, number];
  const random = seededRandom(0x6a11 + index);
  const from = [random() * 255, random() * 255, random() * 255];
  const to = [random() * 255, random() * 255, random() * 255];
  const pixels = Buffer.allocUnsafe(width * height * 3);
  let offset = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      for (let c = 0; c < 3; c++) {
        const value = (from[c] as number) * (1 - t) + (to[c] as number) * t + (random() * 2 - 1) * NOISE_LEVELS;
        pixels[offset++] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  const partial = `${path}.partial`;
  await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: JPEG_QUALITY }).toFile(partial);
  await rename(partial, path);
}

/** Writes photo-NNNN.jpg for every index below `count` that is not there yet. */
export async function ensureMidSizePhotos(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const path = join(dir, `photo-${String(i).padStart(4, '0')}.jpg`);
    if (!existsSync(path)) await generate(i, path);
  }
}

/** The bytes of up to `count` .jpg files in `dir`, in name order; throws when there are none. */
export async function readPhotoFolder(dir: string, count: number): Promise<Uint8Array[]> {
  const names = (await readdir(dir)).filter((name) => name.toLowerCase().endsWith('.jpg')).sort();
  if (names.length === 0) throw new Error(`No .jpg files in ${dir}`);
  return Promise.all(names.slice(0, count).map((name) => readFile(join(dir, name))));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [dir, count] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: gpu-photos.ts DIR [COUNT]');
  await ensureMidSizePhotos(dir, Number(count ?? 64));
}
