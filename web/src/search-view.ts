// The search page: the box (with the CLI's filter syntax and a syntax error shown under it at the
// part at fault), the search's own settings, the grid, paging, the viewer, and search by an image
// dropped anywhere on the page. Every search is a URL (url-state.ts); the pieces live in
// results-grid.ts, viewer.ts, vote-buttons.ts, search-tuning.ts and recovery.ts.
import * as api from './api.js';
import { h, replace, stateBlock } from './dom.js';
import { failureBlock, whenReady } from './recovery.js';
import { resultCards } from './results-grid.js';
import { tuningControls } from './search-tuning.js';
import { PAGE_SIZE, stateFromUrl, type SearchState } from './search-address.js';
import { pushState, replaceState } from './url-state.js';
import { createViewer } from './viewer.js';
import type { VoteBook } from './vote-buttons.js';
import { userName } from './voter-name.js';


export function mountSearch(root: HTMLElement): void {
  const input = h('input', { type: 'search', id: 'q', name: 'q', placeholder: 'a whiteboard sketch -photo after:2026-01-01', autocomplete: 'off', 'aria-label': 'Describe the image', 'aria-describedby': 'search-hint', 'aria-keyshortcuts': '/' });
  const form = h('form', { class: 'search-form', role: 'search' }, input, h('button', { type: 'submit' }, 'Search'));
  const queryError = h('p', { class: 'query-error', id: 'query-error', hidden: true });
  const hint = h('p', { class: 'hint', id: 'search-hint' }, 'Describe the image. Add -word to avoid something; after:, before: and on: take dates (YYYY-MM-DD). Or drop an image anywhere on this page to find ones like it. Press / to come back to this box.');
  const tuning = tuningControls();
  const heading = h('h2', { class: 'results-heading', id: 'results-heading', tabindex: '-1', hidden: true });
  const cutOffNote = h('p', { class: 'cut-off-note', id: 'cut-off-note', hidden: true });
  const announcer = h('p', { class: 'visually-hidden', id: 'announcer', role: 'status', 'aria-live': 'polite' });
  const status = h('div', { id: 'status' });
  const grid = h('ul', { class: 'grid', id: 'grid', 'aria-labelledby': 'results-heading' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const overlay = h('div', { class: 'drop-overlay', hidden: true }, h('p', {}, 'Drop the image to find ones like it'));

  let current: SearchState = { kind: 'none' };
  let shown: api.Result[] = [];
  let book: VoteBook | undefined;
  /** Counts searches started: an answer for an older one is dropped. */
  let generation = 0;

  const viewer = createViewer({
    results: () => shown,
    book: () => book,
    moreLike: (result) => void show({ kind: 'like', id: result.id, offset: 0, tuning: likeTuning() }, 'push', true),
    returnFocusTo: (result) => grid.querySelector<HTMLElement>(`.card[data-id="${CSS.escape(result.id)}"] .thumb`),
  });
  root.append(h('h1', { class: 'visually-hidden' }, 'Search images'), form, queryError, hint, tuning.element, heading, cutOffNote, announcer, status, grid, pager, overlay, viewer.dialog);

  /** The settings that apply to "more like this": the cut-off only (nothing is worded). */
  const likeTuning = (): api.Tuning => {
    const { minScore } = tuning.read();
    return minScore === undefined ? {} : { minScore };
  };

  const clear = () => {
    replace(grid);
    replace(pager);
    heading.hidden = true;
    cutOffNote.hidden = true;
    queryError.hidden = true;
    input.removeAttribute('aria-invalid');
    input.setAttribute('aria-describedby', 'search-hint');
    shown = [];
  };

  /** Shows the search `state` names, recording it in the history as `how` says. */
  const show = async (state: SearchState, how: 'push' | 'replace' | 'none', focusHeading: boolean): Promise<void> => {
    const mine = ++generation;
    current = state;
    if (how === 'push') pushState(state);
    else if (how === 'replace') replaceState(state);
    input.value = state.kind === 'text' ? state.q : '';
    // Only a description has a template; "more like this" keeps the settings as they are.
    if (state.kind === 'text') tuning.show(state.tuning);
    clear();
    if (state.kind === 'none') {
      await welcome(status, () => mine === generation);
      return;
    }
    replace(status, stateBlock('loading', 'Searching…'));
    try {
      const answer = await whenReady(() => fetchFor(state), status, () => mine === generation);
      if (mine !== generation) return;
      // The server's id for the search keeps its votes and pages: the address learns it.
      if (answer.queryId !== undefined && state.kind !== 'saved') {
        // A link that names a search without its settings (from the evaluation page) shows the
        // settings it ran with: the address and the controls learn them with its id.
        const ranWith: api.Tuning = { ...(answer.minScore === undefined ? {} : { minScore: answer.minScore }), ...(answer.template === undefined ? {} : { template: answer.template }) };
        if (state.qid !== answer.queryId || !sameTuning(answer, state.tuning)) {
          current = { ...state, qid: answer.queryId, tuning: ranWith };
          replaceState(current);
          if (current.kind === 'text') tuning.show(ranWith);
        }
      }
      await render(answer, mine, focusHeading);
    } catch (error) {
      if (mine !== generation) return;
      showFailure(error, () => void show(current, 'none', focusHeading));
    }
  };

  const fetchFor = (state: Exclude<SearchState, { kind: 'none' }>): Promise<api.SearchAnswer> => {
    switch (state.kind) {
      case 'text':
        return state.qid === undefined ? api.search(state.q, PAGE_SIZE, state.offset, state.tuning) : resume(state.qid, state.offset, (a) => a.query === state.q.trim() && asksFor(a, state.tuning), () => api.search(state.q, PAGE_SIZE, state.offset, state.tuning));
      case 'like':
        return state.qid === undefined ? api.similar(state.id, PAGE_SIZE, state.offset, state.tuning) : resume(state.qid, state.offset, (a) => a.image === state.id && asksFor(a, state.tuning), () => api.similar(state.id, PAGE_SIZE, state.offset, state.tuning));
      case 'saved':
        return api.searchPage(state.qid, PAGE_SIZE, state.offset);
    }
  };

  /**
   * A page of the search the address names, so its votes still show; a new search when the
   * server no longer knows it (400) or it was of something else (the address was edited).
   */
  const resume = async (queryId: string, offset: number, matches: (answer: api.SearchAnswer) => boolean, fresh: () => Promise<api.SearchAnswer>): Promise<api.SearchAnswer> => {
    try {
      const answer = await api.searchPage(queryId, PAGE_SIZE, offset);
      if (matches(answer)) return answer;
    } catch (error) {
      if (!(error instanceof api.ApiError) || error.status !== 400) throw error;
    }
    return fresh();
  };

  const render = async (answer: api.SearchAnswer, mine: number, focusHeading: boolean) => {
    const votes = new Map<string, 1 | -1>();
    const user = userName();
    if (answer.queryId !== undefined && user !== undefined) {
      for (const label of (await api.votesOf(answer.queryId, user)).labels) votes.set(label.imageId, label.value);
    }
    if (mine !== generation || current.kind === 'none') return;
    book = answer.queryId === undefined ? undefined : { queryId: answer.queryId, votes, onError: (title, detail) => replace(status, stateBlock('error', title, detail)) };
    shown = answer.results;
    const offset = current.offset;
    if (answer.results.length === 0) {
      replace(status, offset > 0 ? stateBlock('empty', 'No more results.', 'This search has no results this far down; go back a page.') : stateBlock('empty', 'No images match.', 'Describe the image differently, or add images on the Index page.'));
      announcer.textContent = offset > 0 ? 'No more results.' : 'No images match.';
    } else {
      replace(status);
      const what = current.kind === 'text' ? `“${current.q}”` : `images like ${answer.imageName ?? answer.image ?? 'an image'}`;
      replace(heading, `Results ${offset + 1}–${offset + answer.results.length} for ${what}`, answer.truncated ? ' (the description was cut to the part the model reads)' : '');
      heading.hidden = false;
      announcer.textContent = `${answer.results.length} result${answer.results.length === 1 ? '' : 's'}, page ${Math.floor(offset / PAGE_SIZE) + 1}${answer.hasMore ? '' : ', the last'}.`;
    }
    showCutOff(answer);
    replace(grid, ...resultCards(answer.results, book, viewer.open));
    const prev = h('button', { type: 'button', class: 'prev', disabled: offset === 0 }, '← Previous');
    const next = h('button', { type: 'button', class: 'next', disabled: !answer.hasMore }, 'Next →');
    prev.addEventListener('click', () => page(-1));
    next.addEventListener('click', () => page(1));
    if (answer.results.length > 0 || offset > 0) replace(pager, prev, h('span', { class: 'page-number' }, `Page ${Math.floor(offset / PAGE_SIZE) + 1}`), next);
    // After paging the focus goes to the new results' heading, not to the page's body.
    if (focusHeading) (heading.hidden ? status : heading).focus();
  };

  /** Says how many results the cut-off hid, and offers them. */
  const showCutOff = (answer: api.SearchAnswer) => {
    const cut = answer.cutOff;
    if (cut === undefined || cut.below === 0 || cut.applied <= 0 || answer.hasMore) return;
    const text = `${cut.mayBeMore ? 'At least ' : ''}${cut.below} more result${cut.below === 1 ? '' : 's'} scored under the cut-off (${Math.round(cut.applied * 100)}% of the best score).`;
    if (current.kind === 'text' || current.kind === 'like') {
      const state = current;
      const button = h('button', { type: 'button', class: 'show-all' }, 'Show them');
      button.addEventListener('click', () => {
        const { qid: _qid, ...rest } = state;
        void show({ ...rest, tuning: { ...state.tuning, minScore: 0 } }, 'push', true);
      });
      replace(cutOffNote, text, ' ', button);
    } else {
      replace(cutOffNote, text, ' Lower the cut-off in Search settings and drop the image again to see them.');
    }
    cutOffNote.hidden = false;
  };

  const showFailure = (error: unknown, retry: () => void) => {
    if (error instanceof api.ApiError && error.code === 'query_invalid' && current.kind === 'text') {
      replace(status);
      showQueryError(current.q, error);
      return;
    }
    replace(status, failureBlock('The search failed.', error, retry));
    announcer.textContent = 'The search failed.';
  };

  /** The refusal under the box, with the part of the query at fault marked. */
  const showQueryError = (q: string, error: api.ApiError) => {
    const span = error.span;
    const part = span === undefined ? undefined : q.slice(span.start, span.end);
    replace(queryError, error.message, part === undefined || part === '' ? null : h('span', { class: 'at-fault' }, ' In your search: ', q.slice(0, span?.start), h('mark', {}, part), q.slice(span?.end)));
    queryError.hidden = false;
    input.value = q;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', 'query-error search-hint');
    announcer.textContent = error.message;
  };

  const page = (direction: 1 | -1) => {
    if (current.kind === 'none') return;
    void show({ ...current, offset: Math.max(0, current.offset + direction * PAGE_SIZE) }, 'push', true);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (q === '') {
      clear();
      replace(status, stateBlock('empty', 'Type what the image shows.', 'For example: a red car in the snow'));
      return;
    }
    void show({ kind: 'text', q, offset: 0, tuning: tuning.read() }, 'push', false);
  });

  // Back and Forward show the search of that entry.
  window.addEventListener('popstate', () => {
    if (viewer.dialog.open) viewer.dialog.close();
    void show(stateFromUrl(location.search), 'none', false);
  });

  // "/" comes back to the box from anywhere but a field or the viewer.
  document.addEventListener('keydown', (event) => {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || viewer.dialog.open) return;
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLElement && target.isContentEditable)) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  // Search by an image dropped anywhere on the page.
  let depth = 0;
  document.addEventListener('dragenter', (event) => {
    if (!event.dataTransfer?.types.includes('Files')) return;
    depth++;
    overlay.hidden = false;
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  document.addEventListener('dragover', (event) => event.preventDefault());
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) void dropSearch(file);
  });

  /** A search by a dropped file: its URL names the saved search once the server has it. */
  const dropSearch = async (file: File) => {
    const mine = ++generation;
    const settings = likeTuning();
    clear();
    replace(status, stateBlock('loading', `Searching images like ${file.name}…`));
    try {
      const answer = await whenReady(() => api.searchByImage(file, PAGE_SIZE, settings), status, () => mine === generation);
      if (mine !== generation) return;
      current = answer.queryId === undefined ? { kind: 'none' } : { kind: 'saved', qid: answer.queryId, offset: 0, tuning: settings };
      if (current.kind === 'saved') pushState(current);
      if (current.kind === 'none') {
        // Nothing matched, so there is no search to name: the address must not keep showing
        // the previous one, which a reload would bring back under this message.
        replaceState(current);
        replace(status, stateBlock('empty', 'No images match.', `Nothing indexed looks like ${file.name}.`));
        return;
      }
      await render(answer, mine, false);
    } catch (error) {
      if (mine === generation) showFailure(error, () => void dropSearch(file));
    }
  };

  // The address as read, bad values dropped or brought into range: a reload shows the same.
  void show(stateFromUrl(location.search), 'replace', false);
}

/** The first view: how many images there are, or where to add some. */
async function welcome(status: HTMLElement, isCurrent: () => boolean): Promise<void> {
  try {
    const stats = await whenReady(() => api.stats(), status, isCurrent);
    if (!isCurrent()) return;
    replace(
      status,
      stats.total === 0
        ? stateBlock('empty', 'Nothing is indexed yet.', 'Add images on the Index page, or run: findimage index <folder>')
        : stateBlock('empty', `Search ${stats.total} image${stats.total === 1 ? '' : 's'}.`, 'Type a description above, or drop an image here.'),
    );
  } catch (error) {
    if (isCurrent()) replace(status, failureBlock('findimage cannot be reached.', error, () => void welcome(status, isCurrent)));
  }
}

/** Whether a page's answer ran with exactly these settings. */
function sameTuning(answer: api.SearchAnswer, tuning: api.Tuning): boolean {
  return answer.minScore === tuning.minScore && answer.template === tuning.template;
}

/** Whether a saved search fits the settings an address asks for (one that names none takes the search's own). */
function asksFor(answer: api.SearchAnswer, tuning: api.Tuning): boolean {
  return (tuning.minScore === undefined || answer.minScore === tuning.minScore) && (tuning.template === undefined || answer.template === tuning.template);
}
