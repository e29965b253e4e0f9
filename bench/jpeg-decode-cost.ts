// CPU time per 12 MP JPEG, one image at a time, of findimage's CLIP preprocessing (and SigLIP's
// squash) with the scaled JPEG decode and at full size, and of libjpeg's decode alone at each
// scale (1/8, 1/4, 1/2, full): where the time of a phone photo goes (issue 18, part 1). CPU time counts every thread of the
// process and is what other load on a shared machine changes least; the best of the rounds is kept.
// --before DIR adds the preprocessing of another version of the sources, alternating with this
// one: DIR holds its src/, e.g. `git archive main src | tar -x -C .bench/before`.
//   node --import tsx bench/jpeg-decode-cost.ts [--photos 4] [--rounds 5] [--before DIR] [--json]
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { prepareImage } from '../src/core/image/clip-preprocessor.js';
import { prepareSquashedImage } from '../src/core/image/squash-preprocessor.js';
import { CLIP_MEAN, CLIP_STD, type VisionPreprocessing } from '../src/core/models/model-spec.js';
import { loadPhotoCorpus, PHOTO_HEIGHT, PHOTO_WIDTH } from './jpeg-corpus.js';
import { describeMachine } from './machine-info.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIP: VisionPreprocessing = { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD };
/** SigLIP's squash to 224x224 (the siglip family's preprocessing). */
const SIGLIP: VisionPreprocessing = { imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash' };

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    before: { type: 'string' },
  },
});
sharp.cache(false);
const photos = await loadPhotoCorpus(join(ROOT, '.bench', 'jpeg-12mp'), Number(values.photos));
const rounds = Number(values.rounds);

/**
 * A resize that makes sharp decode at 1/scale (its rule: a shrink of 9 or more gives 1/8, 5 to 9
 * gives 1/4, 3 to 5 gives 1/2), with the cheapest kernel, so the figure is mostly libjpeg's.
 */
function decodeAt(scale: 2 | 4 | 8): (bytes: Uint8Array) => Promise<unknown> {
  const shrink = scale + 1.2;
  const width = Math.floor(PHOTO_WIDTH / shrink);
  const height = Math.floor(PHOTO_HEIGHT / shrink);
  return (bytes) => sharp(bytes).resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
}

const steps: Record<string, (bytes: Uint8Array) => Promise<unknown>> = {
  preprocessScaled: (bytes) => prepareImage(bytes, CLIP),
  preprocessFullSize: (bytes) => prepareImage(bytes, CLIP, { scaledDecode: false }),
  squashScaled: (bytes) => prepareSquashedImage(bytes, SIGLIP),
  squashFullSize: (bytes) => prepareSquashedImage(bytes, SIGLIP, { scaledDecode: false }),
  decodeOnlyEighth: decodeAt(8),
  decodeOnlyQuarter: decodeAt(4),
  decodeOnlyHalf: decodeAt(2),
  decodeOnlyFullSize: (bytes) => sharp(bytes).raw().toBuffer(),
};

if (values.before !== undefined) {
  const module = join(resolve(values.before), 'src', 'core', 'image', 'clip-preprocessor.ts');
  const before = (await import(pathToFileURL(module).href)) as { prepareImage: typeof prepareImage };
  steps.preprocessBefore = (bytes) => before.prepareImage(bytes, CLIP);
}

const best: Record<string, number> = {};
// Steps alternate within each round, so other load falls on all of them alike.
for (let round = 0; round < rounds; round++) {
  for (const [name, step] of Object.entries(steps)) {
    const before = process.cpuUsage();
    for (const photo of photos) await step(photo);
    const used = process.cpuUsage(before);
    const ms = (used.user + used.system) / 1000 / photos.length;
    best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ms);
  }
}
const cpuMsPerImage = Object.fromEntries(Object.entries(best).map(([name, ms]) => [name, Math.round(ms * 10) / 10]));
const result = { photos: photos.length, photoSize: `${PHOTO_WIDTH}x${PHOTO_HEIGHT}`, rounds, cpuMsPerImage, machine: describeMachine() };
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else for (const [name, ms] of Object.entries(cpuMsPerImage)) process.stdout.write(`${name.padEnd(20)} ${ms} ms CPU per image\n`);
