// The evaluation page: the labels graded as `findimage eval` grades them, P@K, R@K and nDCG@K
// with and without feedback from labels, plotted against K, and a table of the labelled queries
// linking to their results. A split holds a seeded share of the labelled searches out of
// feedback and grades only those, as feedback would fare on questions never judged; it is in the
// URL (?split=0.3&seed=12), so a link shows the same split.
import * as api from './api.js';
import { h, replace, stateBlock } from './dom.js';
import { lineChart, type Series } from './plot.js';

const METRICS: Array<{ key: keyof api.Metrics; title: string }> = [
  { key: 'precisionAtK', title: 'Precision@K' },
  { key: 'recallAtK', title: 'Recall@K' },
  { key: 'ndcgAtK', title: 'nDCG@K' },
];
/** Shares of the labelled searches the page offers to hold out. */
const SPLITS = [0.2, 0.3, 0.5];
/** The seed when the URL gives none (the CLI's default seed). */
const DEFAULT_SEED = 12;

export function mountEval(root: HTMLElement): void {
  const body = h('div', { id: 'eval' });
  const split = splitInUrl();
  const share = h(
    'select',
    { id: 'split', name: 'split' },
    h('option', { value: '' }, 'none: grade every search, with feedback from all the others'),
    ...SPLITS.map((s) => h('option', { value: String(s), selected: split?.share === s }, `${Math.round(s * 100)}% of the searches`)),
  );
  const seed = h('input', { type: 'number', id: 'split-seed', name: 'seed', min: '0', step: '1', value: String(split?.seed ?? DEFAULT_SEED), 'aria-describedby': 'split-hint' });
  const form = h(
    'form',
    { class: 'split-form', role: 'search', 'aria-label': 'Split of the labelled searches' },
    h('div', { class: 'field' }, h('label', { for: 'split' }, 'Held out from feedback'), share),
    h('div', { class: 'field' }, h('label', { for: 'split-seed' }, 'Seed'), seed),
    h('button', { type: 'submit' }, 'Grade'),
    h('p', { class: 'hint', id: 'split-hint' }, 'A held-out search is graded with feedback learned only from the others, as a question nobody judged would be. The seed picks which; each search keeps its side as more are judged.'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = share.value === '' ? undefined : { share: Number(share.value), seed: Math.max(0, Math.floor(Number(seed.value) || 0)) };
    const url = chosen === undefined ? '/eval' : `/eval?${new URLSearchParams({ split: String(chosen.share), seed: String(chosen.seed) })}`;
    if (location.pathname + location.search !== url) history.pushState(null, '', url);
    load(body, chosen);
  });
  window.addEventListener('popstate', () => {
    const now = splitInUrl();
    share.value = now === undefined ? '' : String(now.share);
    seed.value = String(now?.seed ?? DEFAULT_SEED);
    load(body, now);
  });
  root.append(
    h('h1', {}, 'Evaluation'),
    h('p', { class: 'hint' }, 'Every search someone voted on is run again and graded with its votes: without feedback, and with feedback from the votes on other searches of the same text.'),
    form,
    body,
  );
  load(body, split);
}

/** The split the URL asks for, if a valid one. */
function splitInUrl(): api.LabelSplit | undefined {
  const params = new URLSearchParams(location.search);
  const share = Number(params.get('split'));
  if (!(share > 0 && share < 1)) return undefined;
  const seed = Number(params.get('seed') ?? DEFAULT_SEED);
  return { share, seed: Number.isInteger(seed) && seed >= 0 ? seed : DEFAULT_SEED };
}

function load(body: HTMLElement, split: api.LabelSplit | undefined): void {
  replace(body, stateBlock('loading', 'Grading the labelled searches…'));
  void api
    .evaluation(split)
    .then((report) => render(body, report))
    .catch((error: unknown) => replace(body, stateBlock('error', 'The evaluation failed.', error instanceof Error ? error.message : String(error))));
}

function render(body: HTMLElement, report: api.EvalAnswer): void {
  if (report.split !== undefined && report.queries.length === 0 && report.split.judged > 0) {
    replace(body, stateBlock('empty', `This split holds out none of the ${report.split.judged} labelled searches.`, 'Pick a larger share or another seed.'));
    return;
  }
  if (report.queries.length === 0) {
    replace(body, stateBlock('empty', 'No labelled searches yet.', 'Search, then vote 👍 or 👎 on results: each vote is a label graded here.'));
    return;
  }
  const ks = report.curve.map((point) => point.k);
  const charts = METRICS.map(({ key, title }) => {
    const series: Series[] = [{ name: 'plain', className: 'plain', points: report.curve.map((p) => ({ x: p.k, y: p.plain[key] })) }];
    const withFeedback = report.curve.filter((p) => p.withFeedback !== undefined);
    if (withFeedback.length > 0) series.push({ name: 'with feedback', className: 'feedback', points: withFeedback.map((p) => ({ x: p.k, y: (p.withFeedback as api.Metrics)[key] })) });
    return lineChart(title, ks, series);
  });
  const legend = h('p', { class: 'legend' }, h('span', { class: 'swatch plain' }), ' plain search  ', h('span', { class: 'swatch feedback' }), ' with feedback from labels');
  const k = report.k;
  const cell = (v: number | undefined) => h('td', {}, v === undefined ? '–' : v.toFixed(3));
  const rows = report.queries.map((q) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: `/?${new URLSearchParams({ q: q.text, qid: q.queryId })}` }, q.text)),
      h('td', {}, String(q.judged)),
      cell(q.plain.precisionAtK),
      cell(q.withFeedback?.precisionAtK),
      cell(q.plain.recallAtK),
      cell(q.withFeedback?.recallAtK),
      cell(q.plain.ndcgAtK),
      cell(q.withFeedback?.ndcgAtK),
    ),
  );
  const s = report.split;
  const graded =
    s === undefined
      ? `${report.queries.length} labelled search${report.queries.length === 1 ? '' : 'es'}`
      : `${s.heldOut} of ${s.judged} labelled searches held out (each with a ${Math.round(s.share * 100)}% chance, seed ${s.seed}), feedback learned from the other ${s.judged - s.heldOut}`;
  const summary = h('p', { class: 'split-summary', id: 'split-summary' }, `Graded: ${graded}.`);
  const table = h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-labelledby': 'queries-caption', tabindex: '0' },
    h(
      'table',
      { class: 'queries' },
      h('caption', { id: 'queries-caption' }, `${s === undefined ? 'Labelled' : 'Held-out'} searches at K=${k} (model ${report.model}); “+fb” is with feedback`),
      h('thead', {}, h('tr', {}, ...['Query', 'Judged', `P@${k}`, `P@${k} +fb`, `R@${k}`, `R@${k} +fb`, `nDCG@${k}`, `nDCG@${k} +fb`].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...rows),
    ),
  );
  replace(body, summary, h('div', { class: 'charts' }, ...charts), legend, table);
}
