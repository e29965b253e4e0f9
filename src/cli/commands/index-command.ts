// `findimage index <folder>`: indexes every image below a folder, never stopping at a bad file or
// folder, reading no file over the size limit, and ends with a summary of what was indexed and
// why anything was skipped.
import type { Command } from 'commander';
import { FindimageError, InvalidImageError, asFindimageError } from '../../core/errors.js';
import { ImageIndexer } from '../../core/indexing/image-indexer.js';
import type { Findimage } from '../../findimage.js';
import { listFolderImages, type SkippedEntry } from '../image-folder.js';
import { INDEXING, type CommandContext } from '../command-context.js';
import { readImageFile } from '../image-files.js';
import { LOCAL_TENANT } from '../local-scope.js';
import type { Terminal } from '../terminal.js';

export { IMAGE_EXTENSIONS } from '../image-folder.js';

export function register(program: Command, { terminal, withCore }: CommandContext): void {
  program
    .command('index')
    .description('index every image below a folder')
    .argument('<folder>', 'folder to walk recursively')
    .action(async (folder: string) => {
      await withCore(INDEXING, async (findimage) => {
        const summary = await runIndex(findimage, folder, terminal);
        terminal.out(formatIndexSummary(summary));
      });
    });
}

/**
 * Files read and embedded at once. Decoding runs on sharp's threads while the worker pool runs
 * the model, so a few files in flight keep both busy; more only costs memory (each file is at
 * most MAX_IMAGE_BYTES, so this also bounds the bytes held).
 */
const FILES_IN_FLIGHT = 6;

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
  indexer?: ImageIndexer;
}

export async function runIndex(
  findimage: Findimage,
  folder: string,
  terminal: Terminal,
  options: RunIndexOptions = {},
): Promise<IndexSummary> {
  const indexer = options.indexer ?? findimage.indexer;
  const { images, skipped, ignored } = await listFolderImages(folder);
  const summary: IndexSummary = { indexed: 0, duplicates: 0, skipped: [...skipped], ignored };
  const progress = terminal.progress(images.length, 'Indexing');
  let next = 0;
  let fatal: FindimageError | undefined;

  const worker = async (): Promise<void> => {
    while (fatal === undefined && next < images.length) {
      const image = images[next++];
      if (image === undefined) break;
      try {
        const file = await readImageFile(image.path, image.shown);
        const result = await indexer.index({
          bytes: file.bytes,
          filename: image.shown,
          path: image.text,
          tenant: LOCAL_TENANT,
          source: 'local',
          createdAt: file.modified,
        });
        if (result.status === 'indexed') summary.indexed++;
        else summary.duplicates++;
      } catch (thrown) {
        const error = asFindimageError(thrown);
        if (error instanceof InvalidImageError) summary.skipped.push({ path: image.shown, reason: error.message });
        // The file went away, or became unreadable, between the walk and the read.
        else if (error.code === 'not_found') summary.skipped.push({ path: image.shown, reason: withoutPath(error.message, image.shown) });
        else fatal = error;
      }
      progress.tick(image.shown);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILES_IN_FLIGHT, images.length) }, worker));
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
