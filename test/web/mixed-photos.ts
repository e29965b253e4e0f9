// Photos of mixed shapes for the browser tests and the docs' screenshots: the repository's real
// photo cut-outs (examples/images, from Tux Paint's stamps) placed on a sky-and-ground scene at
// eight aspect ratios, from a 3:1 panorama to a 1:2 portrait, as JPEGs like a camera's. A grid
// that only holds on 4:3 images shows its flaws on these.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import sharp from 'sharp';

/** The cut-outs in examples/images, each with what it shows. */
const STAMPS = ['kangaroo', 'sports-car', 'dog', 'red-apple', 'penguin', 'owl', 'clownfish', 'bee'] as const;
/** Width:height of the photos, in turn: landscape, portrait, square, panorama, tall. */
const SHAPES: Array<[number, number]> = [[3, 2], [2, 3], [1, 1], [16, 9], [9, 16], [3, 1], [4, 3], [1, 2]];
/** Longest side: larger than a 512 px thumbnail, so the viewer's image is seen to be the original. */
const LONG_SIDE = 1024;

/** One generated photo. */
export interface MixedPhoto {
  /** File name, such as "kangaroo 03.jpg". */
  name: string;
  /** JPEG bytes. */
  bytes: Buffer;
  width: number;
  height: number;
}

/** `count` photos; the stamp and the shape change at different rates, so every pairing occurs. */
export async function mixedPhotos(count: number): Promise<MixedPhoto[]> {
  const stamps = await Promise.all(STAMPS.map((name) => readFile(resolve('examples/images', `${name}.png`))));
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const stamp = i % STAMPS.length;
      const [w, h] = SHAPES[(i + Math.floor(i / STAMPS.length)) % SHAPES.length] as [number, number];
      const width = w >= h ? LONG_SIDE : Math.round((LONG_SIDE * w) / h);
      const height = w >= h ? Math.round((LONG_SIDE * h) / w) : LONG_SIDE;
      const hue = (i * 47) % 360;
      const scene = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
          `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue},60%,78%)"/><stop offset="1" stop-color="hsl(${(hue + 30) % 360},55%,92%)"/></linearGradient></defs>` +
          `<rect width="100%" height="100%" fill="url(#sky)"/>` +
          `<ellipse cx="${width * 0.5}" cy="${height * 1.05}" rx="${width * 0.9}" ry="${height * 0.35}" fill="hsl(${(hue + 120) % 360},35%,45%)"/>` +
          `<circle cx="${width * 0.82}" cy="${height * 0.18}" r="${Math.min(width, height) * 0.08}" fill="hsl(45,95%,70%)"/></svg>`,
      );
      // At most 5 times its own size: the smallest cut-outs (a 46 px apple) blur past that.
      const { width: stampWidth = 1, height: stampHeight = 1 } = await sharp(stamps[stamp]).metadata();
      const side = Math.min(Math.round(Math.min(width, height) * 0.7), 5 * Math.max(stampWidth, stampHeight));
      const cutOut = await sharp(stamps[stamp]).resize(side, side, { fit: 'inside' }).png().toBuffer();
      const bytes = await sharp(scene)
        .composite([{ input: cutOut, gravity: 'centre' }])
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85 })
        .toBuffer();
      return { name: `${STAMPS[stamp]} ${String(i + 1).padStart(2, '0')}.jpg`, bytes, width, height };
    }),
  );
}
