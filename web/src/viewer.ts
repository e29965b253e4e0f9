// The viewer: one result large (the original, or a large rendition of a format browsers cannot
// show), with ←/→ to the previous and next result of the page, the votes, "more like this" and
// a download of the original. A modal <dialog>: Escape closes it, Tab stays inside it, and on
// closing the focus returns to the card of the result last shown.
import * as api from './api.js';
import { formatDate, h, replace } from './dom.js';
import { icon } from './icons.js';
import { formatScore } from './results-grid.js';
import { voteButtons, type VoteBook } from './vote-buttons.js';

/** What the viewer needs from the search page. */
export interface ViewerHost {
  /** The results of the page shown, in order. */
  results(): readonly api.Result[];
  /** The votes of the search shown; undefined when it cannot be voted on. */
  book(): VoteBook | undefined;
  /** Starts "more like this" on a result. */
  moreLike(result: api.Result): void;
  /** The element to focus when the viewer closes on `result` (its card's button). */
  returnFocusTo(result: api.Result): HTMLElement | null;
}

/** The viewer's dialog and how to open it. */
export interface Viewer {
  dialog: HTMLDialogElement;
  open(result: api.Result): void;
}

export function createViewer(host: ViewerHost): Viewer {
  const dialog = h('dialog', { class: 'viewer', id: 'viewer', 'aria-labelledby': 'viewer-title' });
  let shown: api.Result | undefined;

  const step = (by: 1 | -1) => {
    if (shown === undefined) return;
    const results = host.results();
    const at = results.findIndex((r) => r.id === shown?.id);
    const next = results[at + by];
    if (next !== undefined) render(next, by === 1 ? '.next-result' : '.previous-result');
  };

  const render = (result: api.Result, keepFocusOn?: string) => {
    shown = result;
    const results = host.results();
    const at = results.findIndex((r) => r.id === result.id);
    const previous = results[at - 1];
    const next = results[at + 1];
    const close = h('button', { type: 'button', class: 'icon-button close', 'aria-label': 'Close the viewer' }, icon('close'));
    close.addEventListener('click', () => dialog.close());
    const previousButton = h('button', { type: 'button', class: 'icon-button previous-result', disabled: previous === undefined, 'aria-label': previous === undefined ? 'No previous result' : `Previous: image ${previous.rank}, ${previous.filename}` }, icon('previous'));
    const nextButton = h('button', { type: 'button', class: 'icon-button next-result', disabled: next === undefined, 'aria-label': next === undefined ? 'No next result' : `Next: image ${next.rank}, ${next.filename}` }, icon('next'));
    previousButton.addEventListener('click', () => step(-1));
    nextButton.addEventListener('click', () => step(1));
    const more = h('button', { type: 'button', class: 'more-like-this' }, icon('similar'), 'More like this');
    more.addEventListener('click', () => {
      dialog.close();
      host.moreLike(result);
    });
    const download = h('a', { class: 'button download', href: api.originalUrl(result.id), download: result.filename }, icon('download'), 'Download');
    // Inside the dialog, so it is seen and read out while the page behind is inert.
    const message = h('p', { class: 'viewer-message', role: 'status', 'aria-live': 'polite' });
    const say = (title: string, detail = '') => {
      message.textContent = detail === '' ? title : `${title} ${detail}`;
    };
    const image = h('img', { src: api.largeUrl(result.id), alt: result.filename, class: 'viewer-image' });
    // A 404 for the large image: the file is gone, changed, or on another replica of a fleet
    // (docs/web.md). The thumbnail comes from the index, so show it and say why.
    image.addEventListener('error', () => {
      if (image.getAttribute('src') !== api.largeUrl(result.id)) return;
      image.src = api.thumbnailUrl(result.id);
      say('The original is not available here.', 'This is its thumbnail; the original file is gone, changed since it was indexed, or on another machine.');
    });
    const book = host.book();
    replace(
      dialog,
      h('header', { class: 'viewer-top' }, h('h2', { id: 'viewer-title' }, result.filename), close),
      h('div', { class: 'viewer-stage' },
        previousButton,
        image,
        nextButton,
      ),
      h('p', { class: 'detail' }, `Image ${result.rank} · ${result.width} × ${result.height} px · ${formatDate(result.createdAt)} · score ${formatScore(result.score)}`),
      h('div', { class: 'viewer-actions' }, book === undefined ? null : voteButtons(result, book, say), more, download),
      message,
    );
    // Arrow keys and the arrow buttons keep the focus where it was, so stepping on is one key.
    const target = keepFocusOn === undefined ? null : dialog.querySelector<HTMLButtonElement>(keepFocusOn);
    (target !== null && !target.disabled ? target : close).focus();
  };

  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      // Inside a text field an arrow moves the caret; there is none in the viewer, but stay safe.
      if (event.target instanceof HTMLInputElement) return;
      event.preventDefault();
      step(event.key === 'ArrowRight' ? 1 : -1);
    } else if (event.key === 'Tab') {
      trapTab(dialog, event);
    }
  });
  dialog.addEventListener('close', () => {
    // Back to the result it showed, unless a key pressed as it closed ("/") already put the
    // focus in a field: the close event comes a task after Escape.
    if (shown !== undefined && !(document.activeElement instanceof HTMLInputElement)) host.returnFocusTo(shown)?.focus();
    shown = undefined;
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });

  return {
    dialog,
    open: (result) => {
      render(result);
      if (!dialog.open) dialog.showModal();
      dialog.querySelector<HTMLButtonElement>('.close')?.focus();
    },
  };
}

/** Keeps Tab within the dialog: from the last control to the first, and back with Shift. */
function trapTab(dialog: HTMLDialogElement, event: KeyboardEvent): void {
  const focusable = [...dialog.querySelectorAll<HTMLElement>('button:not([disabled]), a[href], input, select, [tabindex]:not([tabindex="-1"])')];
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (first === undefined || last === undefined) return;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}
