// Parity sweep of the scaled JPEG decode (issue 18, part 1): for each JPEG drawn by
// scripts/build-parity-sweep.py into .bench/parity-sweep/ (with the crop CLIPImageProcessor makes
// of it), and the bench's 12 MP photos when references for them are there, the cosine and largest
// error of findimage's CLIP tensor against the reference, with the scaled decode and at full size,
// and the scale libjpeg decoded at. The committed fixtures are in src/core/image/clip-parity.test.ts.
//   python scripts/build-parity-sweep.py && node --import tsx bench/jpeg-parity-sweep.ts [--before DIR]
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { clipShrunkSize, prepareImage } from '../src/core/image/clip-preprocessor.js';
import { withOpenedImage } from '../src/core/image/image-decoder.js';
import { CLIP_MEAN, CLIP_STD, type VisionPreprocessing } from '../src/core/models/model-spec.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIP: VisionPreprocessing = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD };
const PLANE = 224 * 224;

const { values } = parseArgs({ options: { before: { type: 'string' }, dir: { type: 'string' } } });
const dir = values.dir ?? join(ROOT, '.bench', 'parity-sweep');
sharp.cache(false);

type Prepare = (bytes: Uint8Array) => Promise<{ pixels: Float32Array }>;
const variants: Record<string, Prepare> = {
  scaled: (bytes) => prepareImage(bytes, CLIP),
  fullSize: (bytes) => prepareImage(bytes, CLIP, { scaledDecode: false }),
};
if (values.before !== undefined) {
  const module = join(resolve(values.before), 'src', 'core', 'image', 'clip-preprocessor.ts');
  const before = (await import(pathToFileURL(module).href)) as { prepareImage: typeof prepareImage };
  variants.before = (bytes) => before.prepareImage(bytes, CLIP);
}

/** Cosine and largest difference of a tensor against the reference bytes, normalised as CLIP does. */
function compare(tensor: Float32Array, reference: Buffer): { cosine: number; maxError: number } {
  let dot = 0;
  let a = 0;
  let b = 0;
  let maxError = 0;
  for (let channel = 0; channel < 3; channel++) {
    for (let i = 0; i < PLANE; i++) {
      const expected = (reference[i * 3 + channel]! / 255 - CLIP_MEAN[channel]!) / CLIP_STD[channel]!;
      const actual = tensor[channel * PLANE + i]!;
      dot += actual * expected;
      a += actual * actual;
      b += expected * expected;
      maxError = Math.max(maxError, Math.abs(actual - expected));
    }
  }
  return { cosine: dot / Math.sqrt(a * b), maxError };
}

const names = readdirSync(dir).filter((name) => name.endsWith('.jpg')).sort();
process.stdout.write(`${'image'.padEnd(26)} scale  ${Object.keys(variants).map((name) => name.padEnd(18)).join('')}\n`);
for (const name of names) {
  const bytes = readFileSync(join(dir, name));
  const reference = readFileSync(join(dir, `${name}.ref.rgb`));
  const scale = await withOpenedImage(bytes, async (opened) => opened.decodeShrink, {
    reduceTo: (width, height) => clipShrunkSize(width, height, 224),
  });
  const cells: string[] = [];
  for (const prepare of Object.values(variants)) {
    const { cosine, maxError } = compare((await prepare(bytes)).pixels, reference);
    cells.push(`${cosine.toFixed(6)} / ${maxError.toFixed(2)}`.padEnd(18));
  }
  process.stdout.write(`${name.padEnd(26)} 1/${String(scale).padEnd(4)} ${cells.join('')}\n`);
}
