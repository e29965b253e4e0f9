// The page's entry: the header (navigation and the voter's name) and the view for the path.
import { session } from './api.js';
import { h } from './dom.js';
import { mountEval } from './eval-view.js';
import { mountIndex } from './index-view.js';
import { mountModels } from './models-view.js';
import { mountSearch } from './search-view.js';
import { setUserName, userName } from './voter-name.js';

/** The pages; `short` is the label a phone's one header row has room for. */
const VIEWS: Array<{ path: string; label: string; short: string; mount: (root: HTMLElement) => void }> = [
  { path: '/', label: 'Search', short: 'Search', mount: mountSearch },
  { path: '/index', label: 'Index', short: 'Index', mount: mountIndex },
  { path: '/eval', label: 'Evaluation', short: 'Grades', mount: mountEval },
  { path: '/models', label: 'Evaluate models', short: 'Models', mount: mountModels },
];

function start(): void {
  const view = VIEWS.find((v) => v.path === location.pathname) ?? VIEWS[0];
  if (view === undefined) return;
  const name = h('input', { type: 'text', id: 'user-name', placeholder: 'your name', maxlength: '64', 'aria-label': 'Your name, stored with your votes', value: userName() ?? '' });
  name.addEventListener('change', () => setUserName(name.value));
  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '/' }, 'findimage'),
    h('nav', {}, ...VIEWS.map((v) => h('a', { href: v.path, 'aria-current': v === view ? 'page' : undefined }, h('span', { class: 'long' }, v.label), h('span', { class: 'short' }, v.short)))),
    h('label', { class: 'user' }, 'Voting as ', name),
  );
  const main = h('main', { id: 'view', 'data-view': view.label.toLowerCase() });
  document.body.replaceChildren(header, main);
  view.mount(main);
  void offerLogout(header);
}

/**
 * Adds a logout button when the server has a login. A plain form POST: the server clears the
 * HttpOnly cookie (which no script can) and sends the browser to the login page.
 */
async function offerLogout(header: HTMLElement): Promise<void> {
  const { login } = await session().catch(() => ({ login: false }));
  if (!login) return;
  // Before the name field, so that on a phone both share the header's last row.
  header.querySelector('.user')?.before(h('form', { class: 'logout', method: 'post', action: '/logout' }, h('button', { type: 'submit', id: 'logout' }, 'Log out')));
  // On a phone the navigation may now scroll sideways: keep the current page's link in view.
  const current = header.querySelector<HTMLElement>('nav [aria-current="page"]');
  const nav = current?.parentElement;
  if (current && nav) nav.scrollLeft = Math.max(0, current.offsetLeft + current.offsetWidth - nav.clientWidth);
}

start();
