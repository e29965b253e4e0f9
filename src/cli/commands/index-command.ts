// `findimage index <folder>`: indexes every image below a folder, never stopping at a bad file,
// and ends with a summary of what was indexed and why anything was skipped.
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { FindimageError, InvalidImageError, asFindimageError } from '../../core/errors.js';
import type { Findimage } from '../../findimage.js';
import { LOCAL_TENANT } from '../local-scope.js';
import type { Terminal } from '../terminal.js';

/** File endings looked at; other files are counted as ignored, not reported one by one. */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg', '.jpeg', '.jfif', '.png', '.webp', '.gif', '.avif', '.tif', '.tiff', '.heic', '.heif', '.svg',
]);

/**
 * Files read and embedded at once. Decoding runs on sharp's threads while the worker pool runs
 * the model, so a few files in flight keep both busy; more only costs memory.
 */
const FILES_IN_FLIGHT = 6;

export interface IndexSummary {
  indexed: number;
  duplicates: number;
  skipped: Array<{ path: string; reason: string }>;
  ignored: number;
}

export async function runIndex(findimage: Findimage, folder: string, terminal: Terminal): Promise<IndexSummary> {
  const root = resolve(folder);
  const { images, ignored } = await listImages(root);
  const summary: IndexSummary = { indexed: 0, duplicates: 0, skipped: [], ignored };
  const progress = terminal.progress(images.length, 'Indexing');
  let next = 0;
  let fatal: FindimageError | undefined;

  const worker = async (): Promise<void> => {
    while (fatal === undefined && next < images.length) {
      const path = images[next++] as string;
      const shown = relative(root, path);
      try {
        const info = await stat(path);
        const bytes = await readFile(path);
        const result = await findimage.indexer.index({
          bytes,
          filename: shown,
          path,
          tenant: LOCAL_TENANT,
          source: 'local',
          createdAt: info.mtime,
        });
        if (result.status === 'indexed') summary.indexed++;
        else summary.duplicates++;
      } catch (thrown) {
        const error = asFindimageError(thrown);
        if (error instanceof InvalidImageError) summary.skipped.push({ path: shown, reason: error.message });
        else if (isUnreadableFile(thrown)) summary.skipped.push({ path: shown, reason: 'The file could not be read.' });
        else fatal = error;
      }
      progress.tick(shown);
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

async function listImages(root: string): Promise<{ images: string[]; ignored: number }> {
  const info = await stat(root).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new FindimageError('not_found', `${root} is not a folder. Give the folder that holds your images.`);
  }
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const images: string[] = [];
  let ignored = 0;
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const path = join(entry.parentPath, entry.name);
    if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) images.push(path);
    else ignored++;
  }
  images.sort();
  return { images, ignored };
}

function isUnreadableFile(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EISDIR' || code === 'ENOENT' || code === 'EPERM';
}
