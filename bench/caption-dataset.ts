// The captioned dataset the `eval --dataset` and `tune` benches run on (docs/benchmarks.md,
// "Dataset evaluation speed" and "Issue 20, part 4: tune"): 1,000 64x64 PNGs of seeded noise,
// two captions each ("image number <i>", "a picture of noise pattern <i>"), 2,000 caption
// queries. Run: node --import tsx bench/caption-dataset.ts <out-dir> [images]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { formatCaptionsJsonl, type CaptionedImage } from '../src/core/evaluation/caption-dataset.js';
import { seededRandom } from '../src/core/seeded-random.js';

/** Side of each image: small, so the figures are the eval's and the tuning's own cost more than decoding's. */
const SIDE = 64;
/** The documented size of the bench dataset. */
const DEFAULT_IMAGES = 1000;

const [out, count = String(DEFAULT_IMAGES)] = process.argv.slice(2);
if (out === undefined) {
  process.stderr.write('usage: node --import tsx bench/caption-dataset.ts <out-dir> [images]\n');
  process.exit(2);
}
const images = Number(count);
await mkdir(join(out, 'images'), { recursive: true });
const rows: CaptionedImage[] = [];
for (let i = 0; i < images; i++) {
  const random = seededRandom(0xda7a + i);
  const pixels = Buffer.from(Array.from({ length: SIDE * SIDE * 3 }, () => Math.floor(random() * 256)));
  const image = `images/${i}.png`;
  await sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(join(out, image));
  rows.push({ image, captions: [`image number ${i}`, `a picture of noise pattern ${i}`] });
}
await writeFile(join(out, 'captions.jsonl'), formatCaptionsJsonl(rows));
process.stdout.write(`${images} images, ${images * 2} captions in ${out}\n`);
