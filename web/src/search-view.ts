// The search page: a box with the CLI's filter syntax, a grid of thumbnails with score, name and
// date, paging, a larger view with "More like this", 👍/👎 votes by a remembered user name, and
// search by an image dropped anywhere on the page.
import * as api from './api.js';
import { formatDate, h, replace, stateBlock } from './dom.js';

/** Results per page: four rows of the grid on a laptop screen. */
export const PAGE_SIZE = 20;
/** Where the voter's name is kept in the browser. */
const USER_KEY = 'findimage.user';

/** What the grid is showing, so paging can ask for the next page of the same search. */
type Shown =
  | { kind: 'text'; q: string; offset: number; queryId?: string }
  | { kind: 'similar'; id: string; name: string; offset: number; queryId?: string }
  | { kind: 'image'; name: string; offset: number; queryId?: string };

export function userName(): string | undefined {
  const name = localStorage.getItem(USER_KEY)?.trim();
  return name === undefined || name === '' ? undefined : name;
}

export function mountSearch(root: HTMLElement): void {
  const params = new URLSearchParams(location.search);
  const input = h('input', { type: 'search', id: 'q', name: 'q', placeholder: 'a whiteboard sketch -photo after:2026-01-01', autocomplete: 'off', 'aria-label': 'Describe the image', value: params.get('q') ?? '' });
  const form = h('form', { class: 'search-form', role: 'search' }, input, h('button', { type: 'submit' }, 'Search'));
  const hint = h('p', { class: 'hint' }, 'Describe the image. Add -word to avoid something; after:, before: and on: take dates (YYYY-MM-DD). Or drop an image anywhere on this page to find ones like it.');
  const heading = h('p', { class: 'results-heading', id: 'results-heading' });
  const status = h('div', { id: 'status' });
  const grid = h('ul', { class: 'grid', id: 'grid' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const overlay = h('div', { class: 'drop-overlay', hidden: true }, h('p', {}, 'Drop the image to find ones like it'));
  const dialog = h('dialog', { class: 'viewer', id: 'viewer' });
  root.append(form, hint, heading, status, grid, pager, overlay, dialog);

  let shown: Shown | undefined;
  let votes = new Map<string, 1 | -1>();

  const run = async (next: Shown, fetchPage: () => Promise<api.SearchAnswer>) => {
    replace(status, stateBlock('loading', 'Searching…'));
    replace(grid);
    replace(pager);
    replace(heading);
    try {
      const answer = await fetchPage();
      shown = { ...next, ...(answer.queryId === undefined ? {} : { queryId: answer.queryId }) };
      votes = new Map();
      const user = userName();
      if (answer.queryId !== undefined && user !== undefined) {
        for (const label of (await api.votesOf(answer.queryId, user)).labels) votes.set(label.imageId, label.value);
      }
      render(answer);
    } catch (error) {
      replace(status, stateBlock('error', 'The search failed.', error instanceof Error ? error.message : String(error)));
    }
  };

  /** Keeps the search in the address, so a reload or a shared link shows the same page and votes. */
  const remember = (q: string, offset: number, queryId: string | undefined) => {
    const url = new URL(location.href);
    url.searchParams.set('q', q);
    if (offset > 0) url.searchParams.set('offset', String(offset));
    else url.searchParams.delete('offset');
    if (queryId !== undefined) url.searchParams.set('qid', queryId);
    else url.searchParams.delete('qid');
    history.replaceState(null, '', url);
  };

  const searchText = async (q: string, offset: number, queryId?: string) => {
    remember(q, offset, queryId);
    await run({ kind: 'text', q, offset }, () => (queryId === undefined ? api.search(q, PAGE_SIZE, offset) : resumeText(q, offset, queryId)));
    if (shown?.kind === 'text') remember(q, offset, shown.queryId);
  };

  /**
   * A page of the search the address names, so its votes still show; a new search of `q` when
   * the server no longer knows that search (400) or it was of other words (the address was edited).
   */
  const resumeText = async (q: string, offset: number, queryId: string): Promise<api.SearchAnswer> => {
    try {
      const answer = await api.searchPage(queryId, PAGE_SIZE, offset);
      if (answer.query === q.trim()) return answer;
    } catch (error) {
      if (!(error instanceof api.ApiError) || error.status !== 400) throw error;
    }
    return api.search(q, PAGE_SIZE, offset);
  };

  const render = (answer: api.SearchAnswer) => {
    if (shown === undefined) return;
    if (answer.results.length === 0) {
      replace(
        status,
        shown.offset > 0
          ? stateBlock('empty', 'No more results.', 'This search has no results this far down; go back a page.')
          : stateBlock('empty', 'No images match.', 'Describe the image differently, or add images on the Index page.'),
      );
    } else {
      replace(status);
    }
    const from = shown.offset + 1;
    const to = shown.offset + answer.results.length;
    const what = shown.kind === 'text' ? `“${shown.q}”` : `images like ${shown.name}`;
    replace(heading, answer.results.length === 0 ? '' : `Results ${from}–${to} for ${what}`, answer.truncated ? ' (the description was cut to the part the model reads)' : '');
    replace(grid, ...answer.results.map((result) => card(result, answer.queryId)));
    const prev = h('button', { type: 'button', class: 'prev', disabled: shown.offset === 0 }, '← Previous');
    const next = h('button', { type: 'button', class: 'next', disabled: !answer.hasMore }, 'Next →');
    prev.addEventListener('click', () => page(-1));
    next.addEventListener('click', () => page(1));
    replace(pager, prev, h('span', { class: 'page-number' }, `Page ${Math.floor(shown.offset / PAGE_SIZE) + 1}`), next);
  };

  const page = (direction: 1 | -1) => {
    if (shown === undefined) return;
    const offset = Math.max(0, shown.offset + direction * PAGE_SIZE);
    if (shown.kind === 'text') void searchText(shown.q, offset, shown.queryId);
    else if (shown.queryId !== undefined) {
      // Every kind pages by its queryId: a dropped image's later pages come from the server's snapshot.
      const queryId = shown.queryId;
      void run({ ...shown, offset }, () => api.searchPage(queryId, PAGE_SIZE, offset));
    } else if (shown.kind === 'similar') {
      const { id, name } = shown;
      void run({ kind: 'similar', id, name, offset }, () => api.similar(id, PAGE_SIZE, offset));
    }
  };

  const card = (result: api.Result, queryId: string | undefined): HTMLElement => {
    const img = h('img', { src: api.thumbnailUrl(result.id), alt: result.filename, loading: 'lazy', width: '256', height: '192' });
    const open = h('button', { type: 'button', class: 'thumb', 'aria-label': `Open ${result.filename}` }, img);
    open.addEventListener('click', () => view(result));
    const up = voteButton(result, queryId, 1);
    const down = voteButton(result, queryId, -1);
    return h(
      'li',
      { class: 'card', 'data-id': result.id },
      open,
      h('div', { class: 'meta' },
        h('span', { class: 'name', title: result.filename }, result.filename),
        h('span', { class: 'score', title: 'Cosine similarity' }, result.score.toFixed(3)),
        h('span', { class: 'date' }, formatDate(result.createdAt)),
      ),
      queryId === undefined ? null : h('div', { class: 'votes' }, up, down),
    );
  };

  const voteButton = (result: api.Result, queryId: string | undefined, value: 1 | -1): HTMLButtonElement => {
    const label = value === 1 ? 'Relevant' : 'Not relevant';
    const button = h('button', { type: 'button', class: `vote vote-${value === 1 ? 'up' : 'down'}`, 'aria-label': label, title: label, 'aria-pressed': String(votes.get(result.id) === value) }, value === 1 ? '👍' : '👎');
    button.addEventListener('click', async () => {
      if (queryId === undefined) return;
      const user = userName();
      if (user === undefined) {
        replace(status, stateBlock('error', 'Type your name first.', 'Votes are stored under a name: type yours in the box at the top of the page (it is kept in this browser).'));
        document.getElementById('user-name')?.focus();
        return;
      }
      const current = votes.get(result.id);
      const next = current === value ? 0 : value;
      try {
        await api.vote(queryId, result.id, user, next);
        if (next === 0) votes.delete(result.id);
        else votes.set(result.id, next);
        const card = button.closest('.card');
        card?.querySelectorAll<HTMLButtonElement>('.vote').forEach((b) => {
          const own = b.classList.contains('vote-up') ? 1 : -1;
          b.setAttribute('aria-pressed', String(votes.get(result.id) === own));
        });
      } catch (error) {
        replace(status, stateBlock('error', 'The vote was not saved.', error instanceof Error ? error.message : String(error)));
      }
    });
    return button;
  };

  const view = (result: api.Result) => {
    const more = h('button', { type: 'button', class: 'more-like-this' }, 'More like this');
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close' }, '×');
    more.addEventListener('click', () => {
      dialog.close();
      void run({ kind: 'similar', id: result.id, name: result.filename, offset: 0 }, () => api.similar(result.id, PAGE_SIZE, 0));
    });
    close.addEventListener('click', () => dialog.close());
    replace(
      dialog,
      close,
      h('img', { src: api.thumbnailUrl(result.id), alt: result.filename }),
      h('h2', {}, result.filename),
      h('p', { class: 'detail' }, `${result.width} × ${result.height} px · ${formatDate(result.createdAt)} · score ${result.score.toFixed(3)}`),
      more,
    );
    dialog.showModal();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (q === '') {
      replace(status, stateBlock('empty', 'Type what the image shows.', 'For example: a red car in the snow'));
      return;
    }
    void searchText(q, 0);
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
    if (file === undefined) return;
    void run({ kind: 'image', name: file.name, offset: 0 }, () => api.searchByImage(file, PAGE_SIZE));
  });

  const q = params.get('q');
  if (q !== null && q.trim() !== '') void searchText(q, Number(params.get('offset') ?? 0) || 0, params.get('qid') ?? undefined);
  else void welcome(status);
}

/** The first view: how many images there are, or where to add some. */
async function welcome(status: HTMLElement): Promise<void> {
  try {
    const stats = await api.stats();
    replace(
      status,
      stats.total === 0
        ? stateBlock('empty', 'Nothing is indexed yet.', 'Add images on the Index page, or run: findimage index <folder>')
        : stateBlock('empty', `Search ${stats.total} image${stats.total === 1 ? '' : 's'}.`, 'Type a description above, or drop an image here.'),
    );
  } catch (error) {
    replace(status, stateBlock('error', 'findimage is not ready.', error instanceof Error ? error.message : String(error)));
  }
}

/** Saves the name votes are stored under, in this browser. */
export function setUserName(name: string): void {
  const clean = name.trim().slice(0, 64);
  if (clean === '') localStorage.removeItem(USER_KEY);
  else localStorage.setItem(USER_KEY, clean);
}
