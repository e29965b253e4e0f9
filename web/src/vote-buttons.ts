// The good/bad match buttons of a result, on its card and in the viewer. Each has its own
// accessible name ("Good match: image 3, kangaroo.jpg"), an SVG icon, and aria-pressed for the
// voter's current vote; pressing the same vote again takes it back. Every button of one image
// shows the same state, wherever it is.
import * as api from './api.js';
import { h } from './dom.js';
import { icon } from './icons.js';
import { userName } from './voter-name.js';

/** The voter's votes on the search shown, and what to say when a vote fails. */
export interface VoteBook {
  /** The search the votes belong to. */
  queryId: string;
  /** This voter's votes by image id. */
  votes: Map<string, 1 | -1>;
  /** Shows why a vote was not stored (no name typed, or the server refused). */
  onError(title: string, detail: string): void;
}

/** Shows why a vote was not stored. */
export type VoteErrorLine = (title: string, detail: string) => void;

/**
 * The two vote buttons for `result`, named after its rank and file name. `onError` replaces the
 * book's where the page's status line cannot be seen (the viewer: a modal dialog makes the rest of
 * the page inert, so a message there is neither seen nor read out).
 */
export function voteButtons(result: api.Result, book: VoteBook, onError: VoteErrorLine = (title, detail) => book.onError(title, detail)): HTMLElement {
  return h('div', { class: 'votes', role: 'group', 'aria-label': `Vote on image ${result.rank}` }, voteButton(result, book, 1, onError), voteButton(result, book, -1, onError));
}

function voteButton(result: api.Result, book: VoteBook, value: 1 | -1, onError: VoteErrorLine): HTMLButtonElement {
  const label = `${value === 1 ? 'Good match' : 'Bad match'}: image ${result.rank}, ${result.filename}`;
  const button = h('button', {
    type: 'button',
    class: `vote vote-${value === 1 ? 'up' : 'down'}`,
    'aria-label': label,
    title: label,
    'aria-pressed': String(book.votes.get(result.id) === value),
    'data-image-id': result.id,
    'data-value': String(value),
  });
  button.append(icon(value === 1 ? 'thumbUp' : 'thumbDown'));
  button.addEventListener('click', async () => {
    const user = userName();
    if (user === undefined) {
      onError('Type your name first.', 'Votes are stored under a name: type yours in the box at the top of the page (it is kept in this browser).');
      // The name box is behind an open viewer, which makes it inert: focus it only from the page.
      if (button.closest('dialog[open]') === null) document.getElementById('user-name')?.focus();
      return;
    }
    const next = book.votes.get(result.id) === value ? 0 : value;
    try {
      await api.vote(book.queryId, result.id, user, next);
      if (next === 0) book.votes.delete(result.id);
      else book.votes.set(result.id, next);
      showVotes(result.id, book);
    } catch (error) {
      onError('The vote was not saved.', error instanceof Error ? error.message : String(error));
    }
  });
  return button;
}

/** Brings every vote button of an image on the page in line with the book. */
export function showVotes(imageId: string, book: VoteBook): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.vote')) {
    if (button.dataset.imageId !== imageId) continue;
    button.setAttribute('aria-pressed', String(book.votes.get(imageId) === Number(button.dataset.value)));
  }
}
