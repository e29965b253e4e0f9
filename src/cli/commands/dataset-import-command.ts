// `findimage dataset import --format flickr30k|coco <annotations> <images> <out>`: turns the
// caption files people already have into a dataset folder for `findimage eval --dataset`.
// Images are hard-linked when the filesystem allows (no copy of 1 GB of photos), else copied.
import { copyFile, link, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { CAPTIONS_FILE, formatCaptionsJsonl } from '../../core/evaluation/caption-dataset.js';
import { DATASET_FORMATS, importCoco, importKarpathy, type DatasetFormat, type ImportedImage } from '../../core/evaluation/dataset-importers.js';
import type { CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

export function register(program: Command, { terminal }: CommandContext): void {
  program
    .command('dataset')
    .description('captioned datasets for findimage eval --dataset')
    .command('import')
    .description('convert a Flickr30k (Karpathy split JSON) or COCO captions file into a dataset folder')
    .requiredOption('--format <format>', 'flickr30k (Karpathy dataset_*.json) or coco (captions_*.json)', parseDatasetFormat)
    .option('--karpathy-split <name>', `with flickr30k: the split to keep (default: ${DEFAULT_KARPATHY_SPLIT})`)
    .argument('<annotations>', 'the annotations JSON file')
    .argument('<images>', 'the folder holding its images')
    .argument('<out>', 'the dataset folder to write (new or empty)')
    .action(async (annotations: string, images: string, out: string, options: DatasetImportOptions) => {
      await runDatasetImport(annotations, images, out, options, terminal);
    });
}

/** The Karpathy split kept when none is named: the 1k test images of Flickr30k, 5k of COCO. */
export const DEFAULT_KARPATHY_SPLIT = 'test';

/** What `findimage dataset import` was asked for. */
export interface DatasetImportOptions {
  /** The annotation format of the file. */
  format: DatasetFormat;
  /**
   * With flickr30k (any Karpathy split file): the split to keep, DEFAULT_KARPATHY_SPLIT when
   * absent. Refused with any other format, which has no such split, rather than ignored.
   */
  karpathySplit?: string;
}

/** What an import wrote. */
export interface DatasetImportSummary {
  /** Images written to the dataset folder. */
  images: number;
  /** Captions of those images. */
  captions: number;
  /** Listed in the annotations but not found in the images folder. */
  missing: string[];
}

export function parseDatasetFormat(value: string): DatasetFormat {
  const format = DATASET_FORMATS.find((f) => f === value);
  if (format === undefined) throw new ConfigError(`Unknown dataset format "${value}". Give ${DATASET_FORMATS.join(' or ')}.`);
  return format;
}

export async function runDatasetImport(
  annotations: string,
  imagesDir: string,
  out: string,
  options: DatasetImportOptions,
  terminal: Terminal,
): Promise<DatasetImportSummary> {
  if (options.karpathySplit !== undefined && options.format !== 'flickr30k') {
    throw new ConfigError(
      `--karpathy-split works with --format flickr30k only: a ${options.format} captions file has no Karpathy split. ` +
        `Leave --karpathy-split out to import the whole file, or give --format flickr30k with a Karpathy split file (dataset_${options.format}.json).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(resolve(annotations), 'utf8'));
  } catch (error) {
    throw new ConfigError(`Cannot read ${annotations} as JSON: ${(error as Error).message}`, { cause: error });
  }
  const imported = options.format === 'coco' ? importCoco(json) : importKarpathy(json, options.karpathySplit ?? DEFAULT_KARPATHY_SPLIT);
  const outDir = resolve(out);
  await mkdir(outDir, { recursive: true });
  if ((await readdir(outDir)).includes(CAPTIONS_FILE)) throw new ConfigError(`${outDir} already holds a dataset (${CAPTIONS_FILE}); give an empty or new folder.`);
  const kept: ImportedImage[] = [];
  const missing: string[] = [];
  const progress = terminal.progress(imported.length, 'Importing');
  try {
    for (const row of imported) {
      const from = join(resolve(imagesDir), row.source);
      const to = join(outDir, row.image);
      await mkdir(dirname(to), { recursive: true });
      try {
        await link(from, to).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') throw error;
          await copyFile(from, to);
        });
        kept.push(row);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        missing.push(row.source);
      }
      progress.tick(row.source);
    }
  } finally {
    progress.stop();
  }
  if (kept.length === 0) throw new ConfigError(`None of the ${imported.length} images named in ${annotations} is in ${imagesDir} (first: ${imported[0]?.source}).`);
  await writeFile(join(outDir, CAPTIONS_FILE), formatCaptionsJsonl(kept.map(({ image, captions }) => ({ image, captions }))));
  const summary = { images: kept.length, captions: kept.reduce((n, r) => n + r.captions.length, 0), missing };
  terminal.out(`Wrote ${outDir}: ${summary.images} images, ${summary.captions} captions.`);
  if (missing.length > 0) terminal.out(`${missing.length} images were not found in ${imagesDir} and were left out (first: ${missing[0]}).`);
  return summary;
}
