// The evaluation page: the labels graded as `findimage eval` grades them, P@K, R@K and nDCG@K
// with and without feedback from labels, plotted against K, and a table of the labelled queries
// linking to their results.
import * as api from './api.js';
import { h, replace, stateBlock } from './dom.js';
import { lineChart, type Series } from './plot.js';

const METRICS: Array<{ key: keyof api.Metrics; title: string }> = [
  { key: 'precisionAtK', title: 'Precision@K' },
  { key: 'recallAtK', title: 'Recall@K' },
  { key: 'ndcgAtK', title: 'nDCG@K' },
];

export function mountEval(root: HTMLElement): void {
  const body = h('div', { id: 'eval' });
  root.append(h('h1', {}, 'Evaluation'), h('p', { class: 'hint' }, 'Every search someone voted on is run again and graded with its votes: without feedback, and with feedback from the votes on other searches of the same text.'), body);
  replace(body, stateBlock('loading', 'Grading the labelled searches…'));
  void api
    .evaluation()
    .then((report) => render(body, report))
    .catch((error: unknown) => replace(body, stateBlock('error', 'The evaluation failed.', error instanceof Error ? error.message : String(error))));
}

function render(body: HTMLElement, report: api.EvalAnswer): void {
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
  const table = h(
    'table',
    { class: 'queries' },
    h('caption', {}, `${report.queries.length} labelled search${report.queries.length === 1 ? '' : 'es'} at K=${k} (model ${report.model}); “+fb” is with feedback`),
    h('thead', {}, h('tr', {}, ...['Query', 'Judged', `P@${k}`, `P@${k} +fb`, `R@${k}`, `R@${k} +fb`, `nDCG@${k}`, `nDCG@${k} +fb`].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows),
  );
  replace(body, h('div', { class: 'charts' }, ...charts), legend, table);
}
