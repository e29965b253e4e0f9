// `npm run bench -- index`: indexing 12-megapixel JPEGs end to end (`findimage index` on folders
// of them) against the model alone and the decoding alone, with findimage's preprocessing (large
// JPEGs decoded at reduced scale) and, alternating with it in the same run, the full-size decode
// that came before (issue 18, part 1). `--json` prints {"endToEndImagesPerSecond",
// "modelOnlyImagesPerSecond", "decodeImagesPerSecond", "photos", ...}.
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import type { PreparedImage } from '../src/core/embedding/embedder.js';
import { prepareImage } from '../src/core/image/clip-preprocessor.js';
import { openFindimage } from '../src/findimage.js';
import { createLogger } from '../src/logger.js';
import { chooseBenchModel } from './bench-model.js';
import type { BenchModel } from './bench-options.js';
import { measureThroughput, type Rate, type ThroughputResult } from './index-throughput.js';
import { loadPhotoCorpus, PHOTO_HEIGHT, PHOTO_WIDTH } from './jpeg-corpus.js';
import { describeMachine } from './machine-info.js';

export const INDEX_USAGE = `Usage: npm run bench -- index [options]
  --json              print one JSON object: {"endToEndImagesPerSecond", "modelOnlyImagesPerSecond",
                      "decodeImagesPerSecond", "photos", "fullSizeDecode": {...}, ...}
  --model NAME        vit-b32-random (default: ViT-B/32-shaped, random weights) or tiny-test
  --quick             tiny-test model, 4 photos, 1 round (a smoke run)
  --photos N          distinct ${PHOTO_WIDTH}x${PHOTO_HEIGHT} JPEGs indexed per round (default 12)
  --rounds N          rounds of each preprocessing, alternating (default 3)
  --before DIR        also index with the preprocessing of another version of the sources, in the
                      same rounds ("before" in the JSON): DIR holds its src/, made with e.g.
                      git archive main src | tar -x -C .bench/before`;

/** Settings a user may set to bench another configuration; the model and folders are the bench's. */
const PASSED_THROUGH = ['FINDIMAGE_DEVICE', 'FINDIMAGE_WORKERS', 'FINDIMAGE_MAX_BATCH', 'FINDIMAGE_BATCH_WAIT_MS'] as const;

/** The figures of one preprocessing, summed over its rounds. */
interface Figures {
  endToEnd: Rate;
  modelOnly: Rate;
  decode: Rate;
}

function sum(a: Rate, b: Rate): Rate {
  const images = a.images + b.images;
  const seconds = a.seconds + b.seconds;
  return { images, seconds, imagesPerSecond: images / seconds, cpuSeconds: (a.cpuSeconds ?? 0) + (b.cpuSeconds ?? 0) };
}

/** CPU milliseconds per image (every thread of the process). */
const cpuMs = (rate: Rate) => Math.round(((rate.cpuSeconds ?? 0) * 1000 * 10) / rate.images) / 10;

function add(total: Figures | undefined, round: ThroughputResult): Figures {
  const figures = { endToEnd: round.endToEnd, modelOnly: round.modelOnly, decode: round.preprocessOnly };
  if (total === undefined) return figures;
  return {
    endToEnd: sum(total.endToEnd, figures.endToEnd),
    modelOnly: sum(total.modelOnly, figures.modelOnly),
    decode: sum(total.decode, figures.decode),
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

export async function runIndexBench(argv: readonly string[], root: string, log: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      model: { type: 'string' },
      photos: { type: 'string' },
      rounds: { type: 'string' },
      before: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    log(INDEX_USAGE);
    return 0;
  }
  const model = (values.model ?? (values.quick ? 'tiny-test' : 'vit-b32-random')) as BenchModel;
  if (model !== 'vit-b32-random' && model !== 'tiny-test') {
    log(`--model must be vit-b32-random or tiny-test, not "${model}"\n\n${INDEX_USAGE}`);
    return 2;
  }
  const photoCount = Number(values.photos ?? (values.quick ? 4 : 12));
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3));
  if (!Number.isInteger(photoCount) || photoCount < 1 || !Number.isInteger(rounds) || rounds < 1) {
    log(`--photos and --rounds take whole numbers above 0\n\n${INDEX_USAGE}`);
    return 2;
  }

  const machine = describeMachine();
  const loadAtStart = loadavg().map(round2);
  log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${loadAtStart.join(' ')}`);
  const choice = chooseBenchModel(model, root, log);
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) if (process.env[name] !== undefined) env[name] = process.env[name];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dataDir = join(root, '.bench', 'data', `index-${stamp}`);
  const config = loadConfig({
    ...env,
    ...choice.env,
    FINDIMAGE_DATA: dataDir,
    FINDIMAGE_CACHE: join(root, '.bench', 'cache'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const findimage = await openFindimage({
    config,
    logger: createLogger({ level: config.logLevel ?? 'warn', pretty: false }),
    model: choice.spec,
  });
  try {
    log(`Reading ${photoCount} photos of ${PHOTO_WIDTH}x${PHOTO_HEIGHT} from .bench/jpeg-12mp (generated once)...`);
    const photos = await loadPhotoCorpus(join(root, '.bench', 'jpeg-12mp'), photoCount);
    const vision = findimage.model.vision;
    const fullSize = (bytes: Uint8Array) => prepareImage(bytes, vision, { scaledDecode: false });
    let beforePrepare: ((bytes: Uint8Array) => Promise<PreparedImage>) | undefined;
    if (values.before !== undefined) {
      const module = join(resolve(values.before), 'src', 'core', 'image', 'clip-preprocessor.ts');
      const loaded = (await import(pathToFileURL(module).href)) as { prepareImage: typeof prepareImage };
      beforePrepare = (bytes) => loaded.prepareImage(bytes, vision);
    }
    let scaled: Figures | undefined;
    let full: Figures | undefined;
    let before: Figures | undefined;
    const variants = beforePrepare === undefined ? (['scaled', 'full'] as const) : (['scaled', 'full', 'before'] as const);
    // Alternating rounds spread the other load of a shared machine over every preprocessing.
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const measured = await measureThroughput({
          findimage,
          photos,
          workDir: join(root, '.bench', 'index-rounds'),
          rounds: 1,
          modelCopies: 2,
          label: `${stamp} ${variant} ${round}`,
          ...(variant === 'full' ? { prepare: fullSize } : variant === 'before' && beforePrepare !== undefined ? { prepare: beforePrepare } : {}),
        });
        log(
          `  round ${round + 1} ${variant === 'scaled' ? 'scaled decode' : variant === 'full' ? 'full-size decode' : 'before'}: end to end ` +
            `${measured.endToEnd.imagesPerSecond.toFixed(2)}/s, model only ${measured.modelOnly.imagesPerSecond.toFixed(2)}/s, ` +
            `decode only ${measured.preprocessOnly.imagesPerSecond.toFixed(2)}/s`,
        );
        if (variant === 'scaled') scaled = add(scaled, measured);
        else if (variant === 'full') full = add(full, measured);
        else before = add(before, measured);
      }
    }
    if (scaled === undefined || full === undefined) throw new Error('no round ran');
    const modelRate = before === undefined ? sum(scaled.modelOnly, full.modelOnly) : sum(sum(scaled.modelOnly, full.modelOnly), before.modelOnly);
    const modelOnly = modelRate.imagesPerSecond;
    const result = {
      endToEndImagesPerSecond: round2(scaled.endToEnd.imagesPerSecond),
      modelOnlyImagesPerSecond: round2(modelOnly),
      decodeImagesPerSecond: round2(scaled.decode.imagesPerSecond),
      photos: photos.length,
      photoSize: `${PHOTO_WIDTH}x${PHOTO_HEIGHT}`,
      rounds,
      endToEndOverModelOnly: round3(scaled.endToEnd.imagesPerSecond / modelOnly),
      fullSizeDecode: {
        endToEndImagesPerSecond: round2(full.endToEnd.imagesPerSecond),
        decodeImagesPerSecond: round2(full.decode.imagesPerSecond),
        endToEndOverModelOnly: round3(full.endToEnd.imagesPerSecond / modelOnly),
        endToEndCpuMsPerImage: cpuMs(full.endToEnd),
        decodeCpuMsPerImage: cpuMs(full.decode),
      },
      ...(before === undefined
        ? {}
        : {
            before: {
              endToEndImagesPerSecond: round2(before.endToEnd.imagesPerSecond),
              decodeImagesPerSecond: round2(before.decode.imagesPerSecond),
              endToEndOverModelOnly: round3(before.endToEnd.imagesPerSecond / modelOnly),
              endToEndCpuMsPerImage: cpuMs(before.endToEnd),
              decodeCpuMsPerImage: cpuMs(before.decode),
              cpuBoundSpeedup: round3(cpuMs(before.endToEnd) / cpuMs(scaled.endToEnd)),
              endToEndSpeedup: round3(scaled.endToEnd.imagesPerSecond / before.endToEnd.imagesPerSecond),
            },
          }),
      // CPU per image, every thread of the process: what other processes' load changes least.
      endToEndCpuMsPerImage: cpuMs(scaled.endToEnd),
      modelOnlyCpuMsPerImage: cpuMs(modelRate),
      decodeCpuMsPerImage: cpuMs(scaled.decode),
      /**
       * With every core busy (CPU inference, no other load), end to end over model only can reach
       * at most model CPU / end-to-end CPU per image: decoding takes the difference.
       */
      cpuBoundEndToEndOverModelOnly: round3(cpuMs(modelRate) / cpuMs(scaled.endToEnd)),
      cpuBoundSpeedup: round3(cpuMs(full.endToEnd) / cpuMs(scaled.endToEnd)),
      endToEndSpeedup: round3(scaled.endToEnd.imagesPerSecond / full.endToEnd.imagesPerSecond),
      decodeSpeedup: round3(scaled.decode.imagesPerSecond / full.decode.imagesPerSecond),
      /** With CPU inference, decoding and the model share the cores: 1 / (1 + model / decode). */
      sharedCoreCeiling: round3(1 / (1 + modelOnly / scaled.decode.imagesPerSecond)),
      model: findimage.model.id,
      device: config.device.kind,
      machine: { ...machine, loadAverage: { start: loadAtStart, end: loadavg().map(round2) } },
    };
    log(
      `end to end ${result.endToEndImagesPerSecond}/s (${result.endToEndOverModelOnly} of model only ${result.modelOnlyImagesPerSecond}/s), ` +
        `decode ${result.decodeImagesPerSecond}/s; full-size decode: end to end ${result.fullSizeDecode.endToEndImagesPerSecond}/s, ` +
        `decode ${result.fullSizeDecode.decodeImagesPerSecond}/s; speedup ${result.endToEndSpeedup}x end to end, ${result.decodeSpeedup}x decode`,
    );
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await findimage.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
