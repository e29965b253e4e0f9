// `findimage index <folder>`: indexes every image below a folder, never stopping at a bad file or
// folder, reading no file over the size limit, and ends with a summary of what was indexed and
// why anything was skipped.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { FindimageError, InvalidImageError, asFindimageError } from '../../core/errors.js';
import type { ImageIndexing } from '../../core/indexing/image-indexer.js';
import { EmbedSlots } from '../../core/indexing/embed-slots.js';
import { listFolderImages, type FolderImage, type SkippedEntry } from '../image-folder.js';
import { INDEXING, type CommandContext } from '../command-context.js';
import { HeldImages } from '../held-images.js';
import { readImageFile, type ImageFile } from '../../core/image/image-files.js';
import { LOCAL_TENANT } from '../local-scope.js';
import type { Terminal } from '../terminal.js';

export { IMAGE_EXTENSIONS } from '../image-folder.js';

export function register(program: Command, { terminal, settings, withCore }: CommandContext): void {
  program
    .command('index')
    .description('index every image below a folder')
    .argument('<folder>', 'folder to walk recursively')
    .action(async (folder: string) => {
      const { config, logger } = settings();
      if (config.fleet !== undefined) {
        // Fleet mode: the fleet's workers embed the images; this process loads no model.
        const { runFleetIndex } = await import('../fleet-index.js');
        terminal.out(formatIndexSummary(await runFleetIndex({ ...config, fleet: config.fleet }, logger, folder, terminal)));
        return;
      }
      await withCore(INDEXING, async (findimage) => {
        const summary = await runIndex(findimage, folder, terminal);
        terminal.out(formatIndexSummary(summary));
      });
    });
}

/**
 * Images decoded and embedded at once, at the least. Decoding runs on sharp's threads while the
 * worker pool runs the model, so a few at once keep both busy; more only cost memory (the
 * process-wide decode budget bounds the pixels they decode together, whatever this is).
 */
const MIN_IMAGES_DECODING = 6;

/**
 * Images in flight per core (imagesDecodingFor): with the model on a GPU, every core decodes
 * (UV_THREADPOOL_SIZE is the core count, bin/findimage.js) and the GPU's batches (32 by default)
 * can only fill with that many images between decode and embedding; 6 in all capped a 16-core
 * machine's decoding at 6 threads and its batches at 6 images. The GPU bench's end to end keeps
 * the same 4 a core in flight (bench/gpu-end-to-end.ts).
 */
const IMAGES_DECODING_PER_CORE = 4;

/** How many images `findimage index` decodes and embeds at once on a machine of `cores`. */
export function imagesDecodingFor(cores: number): number {
  return Math.max(MIN_IMAGES_DECODING, IMAGES_DECODING_PER_CORE * cores);
}

/**
 * Bytes of image files read ahead and held until the indexer has stored them, at most (one file
 * more may come in while under it: MAX_IMAGE_BYTES). Enough for a full store batch of 64 of the
 * 1 to 2 MB photos most folders hold, and for 32 12-megapixel JPEGs (about 4 MB each), which
 * still cost a store only 2/32 requests an image; and a fifth of the 600 MB that indexing
 * decompression bombs is held under, so reading ahead does not crowd out decoding.
 */
export const READ_AHEAD_BYTES = 128 * 1024 * 1024;

/**
 * In fleet mode, bytes of images in the fleet's queue at once for this run, at most: the images
 * travel in Redis (as base64, a third more), whose memory is shared with every replica and
 * worker, so a run over a large folder keeps its share small; 64 MB keeps 8 GPU workers fed.
 */
export const FLEET_QUEUED_BYTES = 64 * 1024 * 1024;

export interface IndexSummary {
  /** Images embedded and stored by this run. */
  indexed: number;
  /** Images the store already had (from an earlier run, or an identical file in this one). */
  duplicates: number;
  /** Files and folders not indexed, with the reason. */
  skipped: SkippedEntry[];
  /** Files whose names are not images. */
  ignored: number;
}

export interface RunIndexOptions {
  /** The indexer to use (default: findimage.indexer). */
  indexer?: ImageIndexing;
  /** Bytes of files read ahead and held at once (default READ_AHEAD_BYTES). */
  readAheadBytes?: number;
  /** Images decoded and embedded at once (default imagesDecodingFor this machine's cores). */
  imagesDecoding?: number;
}

export async function runIndex(
  findimage: { indexer: ImageIndexing },
  folder: string,
  terminal: Terminal,
  options: RunIndexOptions = {},
): Promise<IndexSummary> {
  const indexer = options.indexer ?? findimage.indexer;
  const { images, skipped, ignored } = await listFolderImages(folder);
  const summary: IndexSummary = { indexed: 0, duplicates: 0, skipped: [...skipped], ignored };
  const progress = terminal.progress(images.length, 'Indexing');
  // Images are read ahead and handed to the indexer a batch at a time, so that its lookups and
  // writes go to the store in full batches; it decodes and embeds imagesDecoding at once.
  const decoding = new EmbedSlots(options.imagesDecoding ?? imagesDecodingFor(availableParallelism()));
  const held = new HeldImages(indexer.batching.size * indexer.batching.inFlight, options.readAheadBytes ?? READ_AHEAD_BYTES);
  const indexing: Array<Promise<void>> = [];
  let batch: Array<{ image: FolderImage; file: ImageFile }> = [];
  let fatal: FindimageError | undefined;

  /** Sorts an error out: a file to skip, with the reason, or the end of the run. */
  const failed = (image: FolderImage, thrown: unknown): void => {
    const error = asFindimageError(thrown);
    if (error instanceof InvalidImageError) summary.skipped.push({ path: image.shown, reason: error.message });
    // The file went away, or became unreadable, between the walk and the read.
    else if (error.code === 'not_found') summary.skipped.push({ path: image.shown, reason: withoutPath(error.message, image.shown) });
    else fatal ??= error;
  };
  const indexOne = async (image: FolderImage, file: ImageFile): Promise<void> => {
    try {
      const result = await indexer.index(
        { bytes: file.bytes, filename: image.shown, path: image.text, tenant: LOCAL_TENANT, source: 'local', createdAt: file.modified },
        { embedSlots: decoding, holdForBatch: true },
      );
      if (result.status === 'indexed') summary.indexed++;
      else summary.duplicates++;
    } catch (thrown) {
      failed(image, thrown);
    } finally {
      held.release(file.bytes.length);
      progress.tick(image.shown);
    }
  };
  // All in one turn of the event loop, so that the batch's lookups share one request.
  const handOver = (): void => {
    for (const { image, file } of batch) indexing.push(indexOne(image, file));
    batch = [];
  };

  for (const image of images) {
    if (!held.hasRoom) {
      // What was read goes to the indexer before waiting, or the room would never come.
      handOver();
      await held.room();
    }
    if (fatal !== undefined) break;
    let file: ImageFile;
    try {
      file = await readImageFile(image.path, image.shown);
    } catch (thrown) {
      failed(image, thrown);
      progress.tick(image.shown);
      continue;
    }
    held.add(file.bytes.length);
    batch.push({ image, file });
    if (batch.length >= indexer.batching.size) handOver();
  }
  // After a fatal error (the store gone, say) files read but not handed over are left alone.
  if (fatal === undefined) handOver();
  await Promise.all(indexing);
  progress.stop();
  if (fatal !== undefined) throw fatal;
  return summary;
}

export function formatIndexSummary(summary: IndexSummary): string {
  const lines = [
    `Indexed ${summary.indexed} image${summary.indexed === 1 ? '' : 's'}, ${summary.duplicates} already indexed, ${summary.skipped.length} skipped.`,
  ];
  if (summary.ignored > 0) lines.push(`Ignored ${summary.ignored} file(s) whose names are not images.`);
  for (const { path, reason } of summary.skipped) lines.push(`  skipped ${path}: ${reason}`);
  return lines.join('\n');
}

/** "a.jpg: permission denied." as "permission denied.", since the summary names the file already. */
function withoutPath(message: string, shown: string): string {
  return message.startsWith(`${shown}: `) ? message.slice(shown.length + 2) : message;
}
