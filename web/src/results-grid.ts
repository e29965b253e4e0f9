// The grid of results: every card the same size whatever the image's shape (the thumbnail is
// fitted into a fixed 4:3 frame), the whole card opens the viewer, and the votes sit on top.
import type * as api from './api.js';
import { thumbnailUrl } from './api.js';
import { formatDate, h } from './dom.js';
import { voteButtons, type VoteBook } from './vote-buttons.js';

/** The grid's cards for a page of results; `open` shows one in the viewer. */
export function resultCards(results: readonly api.Result[], book: VoteBook | undefined, open: (result: api.Result) => void): HTMLElement[] {
  return results.map((result) => card(result, book, open));
}

function card(result: api.Result, book: VoteBook | undefined, open: (result: api.Result) => void): HTMLElement {
  // The image is decoration of the button, which carries the name: alt="" keeps it from being read twice.
  const img = h('img', { src: thumbnailUrl(result.id), alt: '', loading: 'lazy', decoding: 'async' });
  // Its ::after covers the whole card (see styles.css), so a click anywhere on it opens the viewer.
  const opener = h('button', { type: 'button', class: 'thumb', 'aria-label': `Open image ${result.rank}, ${result.filename}` }, img);
  opener.addEventListener('click', () => open(result));
  return h(
    'li',
    { class: 'card', 'data-id': result.id },
    h('div', { class: 'frame' }, opener),
    h(
      'div',
      { class: 'meta' },
      h('span', { class: 'name', title: result.filename }, result.filename),
      h('span', { class: 'score', title: 'Cosine similarity, as the API gives it' }, formatScore(result.score)),
      h('span', { class: 'date' }, formatDate(result.createdAt)),
    ),
    book === undefined ? null : voteButtons(result, book),
  );
}

/** A score as the API gives it, to 3 decimals (cosine similarity, -1 to 1). */
export function formatScore(score: number): string {
  return score.toFixed(3);
}
