// `findimage search "<text>"` and `findimage similar <image>`: ranked results with scores, as a
// table for people or as JSON for scripts.
import { resolve } from 'node:path';
import type { SearchResults } from '../../core/search/search-service.js';
import type { Findimage } from '../../findimage.js';
import { displayName } from '../file-names.js';
import { readImageFile } from '../image-files.js';
import { LOCAL_TENANT } from '../local-scope.js';
import type { Terminal } from '../terminal.js';

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
