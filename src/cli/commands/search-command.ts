// `findimage search "<text>"` and `findimage similar <image>`: ranked results with scores, as a
// table for people or as JSON for scripts.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { SearchResults } from '../../core/search/search-service.js';
import type { Findimage } from '../../findimage.js';
import { ONE_IMAGE_QUERY, ONE_QUERY, type CommandContext } from '../command-context.js';
import { displayName } from '../file-names.js';
import { readImageFile } from '../../core/image/image-files.js';
import { LOCAL_TENANT } from '../local-scope.js';
import { parseCount, parseOffset } from '../option-parsers.js';
import type { Terminal } from '../terminal.js';

export function register(program: Command, { terminal, withCore }: CommandContext): void {
  program
    .command('search')
    .description('find images matching a description')
    .argument('<text...>', 'what the image shows, e.g. "a black car"')
    .option('--k <n>', 'number of results', parseCount, 10)
    .option('--offset <n>', 'results to skip (for paging)', parseOffset, 0)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (words: string[], options: { k: number; offset: number; json: boolean }) => {
      await withCore(ONE_QUERY, (findimage) => runSearch(findimage, words.join(' '), options, terminal));
    });

  program
    .command('similar')
    .description('find images that look like an image file')
    .argument('<image>', 'path to an image')
    .option('--k <n>', 'number of results', parseCount, 10)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (image: string, options: { k: number; json: boolean }) => {
      await withCore(ONE_IMAGE_QUERY, (findimage) => runSimilar(findimage, image, { ...options, offset: 0 }, terminal));
    });
}

export interface SearchCommandOptions {
  k: number;
  /** Results to skip, for paging. */
  offset: number;
  json: boolean;
  tenant?: string;
}

export async function runSearch(findimage: Findimage, text: string, options: SearchCommandOptions, terminal: Terminal): Promise<void> {
  const results = await findimage.search.searchText({
    text,
    scope: { tenant: options.tenant ?? LOCAL_TENANT },
    limit: options.k,
    offset: options.offset,
  });
  printResults(findimage, { query: text }, results, options, terminal);
}

export async function runSimilar(findimage: Findimage, imagePath: string, options: SearchCommandOptions, terminal: Terminal): Promise<void> {
  const path = resolve(imagePath);
  // A missing file, a folder or a link loop is refused here with a FindimageError (exit 5).
  const file = await readImageFile(path, displayName(path));
  const image = await findimage.prepareImage(file.bytes);
  const results = await findimage.search.searchSimilarToImage(image, {
    scope: { tenant: options.tenant ?? LOCAL_TENANT },
    limit: options.k,
  });
  printResults(findimage, { image: path }, results, options, terminal);
}

function printResults(
  findimage: Findimage,
  asked: { query?: string; image?: string },
  results: SearchResults,
  options: SearchCommandOptions,
  terminal: Terminal,
): void {
  if (options.json) {
    terminal.out(
      JSON.stringify({
        ...asked,
        model: findimage.model.id,
        results: results.hits.map((hit) => ({ id: hit.id, score: hit.score, ...hit.payload })),
      }),
    );
    return;
  }
  if (findimage.model.developmentOnly) {
    terminal.err(`Note: model ${findimage.model.id} has random weights; the ranking is meaningless.`);
  }
  if (results.hits.length === 0 && options.offset > 0) {
    terminal.out(
      `No results at --offset ${options.offset}: this search has ${options.offset} or fewer. ` +
        'Give a smaller --offset (0 is the first page).',
    );
    return;
  }
  if (results.hits.length === 0) {
    terminal.out('No images found. Index a folder first (findimage index <folder>), or describe the image differently.');
    return;
  }
  const rows = results.hits.map((hit, i) => [
    // Ranks count from the page's start, so `--offset 10` shows 11, 12, ...
    String(options.offset + i + 1).padStart(3),
    hit.score.toFixed(4),
    // The CLI sees every share, so the first one with a link will do. Escaped: a file name may
    // hold control characters, which must not reach the terminal raw.
    displayName(hit.payload.path ?? hit.payload.shares.find((share) => share.permalink)?.permalink ?? hit.payload.filename),
  ]);
  terminal.out('  #  score   image');
  for (const row of rows) terminal.out(row.join('  '));
}
