// The "Evaluate models" page: runs `findimage eval --dataset` on a dataset folder the server can
// read, in the background with its progress shown, then shows the report (R@K, P@K, nDCG, MRR
// with their 95% intervals per model and template set, recall against K, score histograms, the
// queries where the runs disagree) and keeps past runs to open or delete. The run shown is in the
// URL (?run=<id>), so a link opens it and Back returns to the last one.
import { ApiError } from './api.js';
import { formatDate, h, replace, stateBlock } from './dom.js';
import * as evaluations from './evaluations-api.js';
import { histogramChart, lineChart, type Series } from './plot.js';

/** How often the page asks how a running evaluation is doing. */
const POLL_MS = 1000;
/** Line colours: CSS classes run-0 to run-7 (then they repeat). */
const COLOURS = 8;
/** Shares of the queries the page offers to hold out for label feedback. */
const SPLITS = [0.2, 0.3, 0.5];

interface View {
  form: HTMLElement;
  progress: HTMLElement;
  report: HTMLElement;
  history: HTMLElement;
  /** Why the last action failed, if it did. */
  status: HTMLElement;
}

export function mountModels(root: HTMLElement): void {
  const view: View = {
    form: h('section', { id: 'new-evaluation', 'aria-labelledby': 'new-evaluation-heading' }),
    progress: h('section', { id: 'evaluation-progress', 'aria-live': 'polite' }),
    status: h('div', { id: 'evaluation-status' }),
    report: h('section', { id: 'evaluation-report', 'aria-labelledby': 'report-heading', tabindex: '-1' }),
    history: h('section', { id: 'evaluation-history', 'aria-labelledby': 'history-heading' }),
  };
  root.append(
    h('h1', {}, 'Evaluate models'),
    h(
      'p',
      { class: 'hint' },
      'Grades models and prompt templates on a captioned dataset, as findimage eval --dataset does: its images are indexed apart from yours, and every caption is asked as a search.',
    ),
    view.form,
    view.status,
    view.progress,
    view.report,
    view.history,
  );
  replace(view.form, stateBlock('loading', 'Reading the datasets and models…'));
  void evaluations
    .options()
    .then((options) => renderForm(view, options))
    .catch((error: unknown) => replace(view.form, stateBlock('error', 'The evaluation options could not be read.', messageOf(error))));
  void refresh(view);
  window.addEventListener('popstate', () => void showRun(view, runInUrl()));
  void showRun(view, runInUrl());
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function runInUrl(): string | undefined {
  return new URLSearchParams(location.search).get('run') ?? undefined;
}

function renderForm(view: View, options: evaluations.EvaluationOptions): void {
  if (options.datasets.length === 0) {
    replace(
      view.form,
      h('h2', { id: 'new-evaluation-heading' }, 'New evaluation'),
      stateBlock(
        'empty',
        `No dataset in ${options.datasetsRoot}.`,
        'A dataset is a folder of images with a captions.jsonl (findimage dataset import writes one from Flickr30k or COCO). Put it in that folder, or point FINDIMAGE_DATASETS_DIR at the folder that holds yours.',
      ),
    );
    return;
  }
  const dataset = h('select', { id: 'dataset', name: 'dataset' }, ...options.datasets.map((d) => h('option', { value: d.name }, `${d.name} (${d.images} images)`)));
  const models = options.models.map((m) =>
    h(
      'label',
      { class: 'choice' },
      h('input', { type: 'checkbox', name: 'model', value: m.id, checked: m.configured }),
      // One span of text: on a narrow screen the note wraps under the name, beside the box.
      h(
        'span',
        {},
        h('span', { class: 'model-id' }, m.id),
        ' ',
        m.configured ? h('span', { class: 'muted' }, '(searching now)') : m.onThisMachine ? null : h('span', { class: 'muted' }, '(downloaded first)'),
      ),
    ),
  );
  const templateSets = options.defaults.templates.map((set) =>
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', name: 'templates', value: JSON.stringify(set), checked: true }), ` ${describeTemplates(set)}`),
  );
  const ownTemplates = h('input', { type: 'text', id: 'own-templates', name: 'own-templates', placeholder: 'a picture of {} | {}, a photo', 'aria-describedby': 'own-templates-hint' });
  const ks = h('input', { type: 'text', id: 'ks', name: 'ks', value: options.defaults.ks.join(', '), inputmode: 'numeric', 'aria-describedby': 'ks-hint' });
  const split = h(
    'select',
    { id: 'split', name: 'split' },
    h('option', { value: '' }, 'none'),
    ...SPLITS.map((share) => h('option', { value: String(share) }, `${Math.round(share * 100)}% of the captions`)),
  );
  const start = h('button', { type: 'submit', id: 'start-evaluation' }, 'Evaluate');
  const form = h(
    'form',
    { class: 'evaluation-form' },
    h('div', { class: 'field' }, h('label', { for: 'dataset' }, 'Dataset'), dataset),
    h('fieldset', {}, h('legend', {}, 'Models'), ...models),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Prompt templates'),
      ...templateSets,
      h('label', { for: 'own-templates', class: 'own' }, 'Your own set'),
      ownTemplates,
      h('p', { class: 'hint', id: 'own-templates-hint' }, 'Templates with {} where the caption goes, separated by |; several are averaged.'),
    ),
    h('div', { class: 'field' }, h('label', { for: 'ks' }, 'Cut-offs K'), ks, h('p', { class: 'hint', id: 'ks-hint' }, 'For Recall@K and Precision@K, separated by commas.')),
    h('div', { class: 'field' }, h('label', { for: 'split' }, 'Hold out for label feedback'), split),
    start,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const request = readForm(form, options);
    if (typeof request === 'string') {
      replace(view.status, stateBlock('error', request));
      return;
    }
    replace(view.status);
    start.disabled = true;
    evaluations
      .start(request)
      .then((record) => {
        navigate(view, record.id);
        void refresh(view);
      })
      .catch((error: unknown) => {
        const busy = error instanceof ApiError && error.status === 409;
        replace(view.status, stateBlock('error', busy ? 'Another evaluation is running.' : 'The evaluation could not start.', messageOf(error)));
      })
      .finally(() => {
        start.disabled = false;
      });
  });
  replace(view.form, h('h2', { id: 'new-evaluation-heading' }, 'New evaluation'), form);
}

/** The request the form describes, or why it is not one. */
function readForm(form: HTMLFormElement, options: evaluations.EvaluationOptions): evaluations.EvaluationRequest | string {
  const data = new FormData(form);
  const models = data.getAll('model').map(String);
  if (models.length === 0) return 'Pick at least one model.';
  if (models.length > options.limits.models) return `Pick at most ${options.limits.models} models: each is loaded beside the server's own.`;
  const templates = data.getAll('templates').map((v) => JSON.parse(String(v)) as string[]);
  const own = String(data.get('own-templates') ?? '').trim();
  if (own !== '') {
    const set = own.split('|').map((t) => t.trim()).filter((t) => t !== '');
    const missing = set.find((t) => !t.includes('{}'));
    if (missing !== undefined) return `The template "${missing}" has no {} for the caption to go in.`;
    templates.push(set);
  }
  if (templates.length === 0) return 'Pick at least one template set, or write your own.';
  if (templates.length > options.limits.templateSets) return `Compare at most ${options.limits.templateSets} template sets at once.`;
  const ks = String(data.get('ks') ?? '')
    .split(/[\s,]+/)
    .filter((k) => k !== '')
    .map(Number);
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1 || k > 1000)) return 'Cut-offs are whole numbers from 1 to 1000, such as 1, 5, 10.';
  const split = String(data.get('split') ?? '');
  return {
    dataset: String(data.get('dataset')),
    models,
    templates,
    ks: [...new Set(ks)].slice(0, options.limits.ks),
    ...(split === '' ? {} : { split: Number(split) }),
  };
}

/** Shows the run in the URL, adding a history entry so that Back returns to the one before. */
function navigate(view: View, id: string): void {
  const url = `/models?${new URLSearchParams({ run: id })}`;
  if (location.pathname + location.search !== url) history.pushState(null, '', url);
  void showRun(view, id);
}

let polling: number | undefined;

/** Reads the runs: the current one's progress (polled until it ends) and the list of past ones. */
async function refresh(view: View): Promise<void> {
  let answer: Awaited<ReturnType<typeof evaluations.list>>;
  try {
    answer = await evaluations.list();
  } catch (error) {
    replace(view.history, h('h2', { id: 'history-heading' }, 'Past evaluations'), stateBlock('error', 'The past evaluations could not be read.', messageOf(error)));
    return;
  }
  const wasRunning = view.progress.dataset.run;
  renderProgress(view, answer.current);
  renderHistory(view, answer.runs);
  // The run shown has just ended (finished, failed or cancelled): show how.
  if (wasRunning !== undefined && answer.current?.id !== wasRunning && runInUrl() === wasRunning) void showRun(view, wasRunning);
  window.clearTimeout(polling);
  if (answer.current !== null) {
    polling = window.setTimeout(() => void refresh(view), POLL_MS);
  }
}

function renderProgress(view: View, current: evaluations.EvaluationRecord | null): void {
  if (current === null) {
    delete view.progress.dataset.run;
    replace(view.progress);
    return;
  }
  view.progress.dataset.run = current.id;
  const p = current.progress;
  const overall = p === undefined || p.steps === 0 ? 0 : (p.step - 1 + (p.total === 0 ? 0 : p.done / p.total)) / p.steps;
  const cancel = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    evaluations
      .cancel(current.id)
      .catch((error: unknown) => replace(view.status, stateBlock('error', 'The evaluation could not be cancelled.', messageOf(error))))
      .finally(() => void refresh(view));
  });
  replace(
    view.progress,
    h('h2', {}, `Evaluating ${current.request.dataset}`),
    h('progress', { max: '1', value: String(Math.max(0, overall)), 'aria-label': 'Evaluation progress' }),
    h('p', { class: 'progress-label', 'data-step': String(p?.step ?? 0) }, p?.label === 'Cancelling' ? 'Cancelling…' : p === undefined || p.step === 0 ? 'Loading the model…' : `Step ${p.step} of ${p.steps}: ${p.label}, ${p.done} of ${p.total}`),
    cancel,
  );
}

function renderHistory(view: View, runs: evaluations.EvaluationRecord[]): void {
  const heading = h('h2', { id: 'history-heading' }, 'Past evaluations');
  if (runs.length === 0) {
    replace(view.history, heading, stateBlock('empty', 'No evaluation yet.', 'Start one above: it runs on the server, and its report is kept here.'));
    return;
  }
  const rows = runs.map((run) => {
    const open = h('a', { href: `/models?${new URLSearchParams({ run: run.id })}` }, run.request.dataset);
    open.addEventListener('click', (event) => {
      event.preventDefault();
      navigate(view, run.id);
    });
    const remove = h('button', { type: 'button', class: 'delete', 'aria-label': `Delete the evaluation of ${run.request.dataset} from ${formatDateTime(run.startedAt)}`, disabled: run.state === 'running' }, 'Delete');
    remove.addEventListener('click', () => {
      remove.disabled = true;
      evaluations
        .remove(run.id)
        .then(() => {
          if (runInUrl() === run.id) {
            history.pushState(null, '', '/models');
            replace(view.report);
          }
        })
        .catch((error: unknown) => replace(view.status, stateBlock('error', 'The evaluation could not be deleted.', messageOf(error))))
        .finally(() => void refresh(view));
    });
    return h(
      'tr',
      { 'data-id': run.id, 'data-state': run.state },
      h('th', { scope: 'row' }, open),
      h('td', {}, run.request.models.join(', ')),
      h('td', {}, run.request.templates.map(describeTemplates).join('; ')),
      h('td', {}, formatDateTime(run.startedAt)),
      h('td', { class: `run-state ${run.state}` }, STATE_NAMES[run.state]),
      h('td', {}, remove),
    );
  });
  replace(
    view.history,
    heading,
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-labelledby': 'history-heading', tabindex: '0' },
      h(
        'table',
        { class: 'runs' },
        h('thead', {}, h('tr', {}, ...['Dataset', 'Models', 'Templates', 'Started', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...rows),
      ),
    ),
  );
}

const STATE_NAMES: Record<evaluations.EvaluationRecord['state'], string> = {
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

async function showRun(view: View, id: string | undefined): Promise<void> {
  if (id === undefined) {
    replace(view.report);
    return;
  }
  replace(view.report, stateBlock('loading', 'Opening the evaluation…'));
  let record: evaluations.EvaluationRecord;
  try {
    record = await evaluations.get(id);
  } catch (error) {
    replace(view.report, stateBlock('error', 'This evaluation could not be opened.', messageOf(error)));
    return;
  }
  if (record.state === 'running') {
    replace(view.report);
    return;
  }
  renderReport(view.report, record);
}

function renderReport(section: HTMLElement, record: evaluations.EvaluationRecord): void {
  const heading = h('h2', { id: 'report-heading' }, `Report: ${record.request.dataset}, ${formatDateTime(record.startedAt)}`);
  const report = record.report;
  if (record.state !== 'done' || report === undefined) {
    const why = record.state === 'cancelled' ? 'It was cancelled before it finished.' : record.state === 'interrupted' ? 'The server stopped while it ran.' : (record.error?.message ?? 'It failed.');
    replace(section, heading, stateBlock(record.state === 'failed' ? 'error' : 'empty', `This evaluation has no report (${STATE_NAMES[record.state]}).`, why));
    return;
  }
  const runs = report.runs;
  const colour = (i: number) => `run-${i % COLOURS}`;
  const recall: Series[] = runs.map((run, i) => ({
    name: run.label,
    className: colour(i),
    points: report.ks.flatMap((k) => {
      const m = run.textToImage.find((e) => e.name === `R@${k}`);
      return m === undefined ? [] : [{ x: k, y: m.estimate.value, low: m.estimate.low, high: m.estimate.high }];
    }),
  }));
  const legend = h('ul', { class: 'run-legend' }, ...runs.map((run, i) => h('li', {}, h('span', { class: `swatch ${colour(i)}`, 'aria-hidden': 'true' }), ` ${run.label}`)));
  // The run's name goes under the chart, where it may wrap: a long template set does not fit its title.
  const histograms = runs.map((run, i) =>
    h('figure', { class: 'histogram-figure' }, histogramChart('Cosine scores', `Scores of ${run.label}`, run.scores.relevant, run.scores.irrelevant, colour(i)), h('figcaption', {}, run.label)),
  );
  replace(
    section,
    heading,
    h('p', {}, `${report.images} images, ${report.queries} caption queries; brackets hold 95% bootstrap intervals (seed ${report.seed}).`),
    ...report.indexing.flatMap((i) => i.skipped.map((s) => h('p', { class: 'note' }, `Skipped for ${i.model}: ${s.image}: ${s.reason}`))),
    ...report.notes.map((note) => h('p', { class: 'note' }, note)),
    h('h3', {}, 'Recall against K (text to image)'),
    h('div', { class: 'charts single' }, lineChart('Recall@K', report.ks, recall)),
    legend,
    h('h3', { id: 'metrics-heading' }, 'All metrics'),
    metricsTable('metrics-heading', runs),
    ...feedbackSection(runs),
    h('h3', {}, 'Scores of relevant and irrelevant images'),
    h('p', { class: 'hint' }, 'Bars: each caption with its own images; outline: with every other image, as shares of each group. The further apart, the easier the ranking.'),
    h('div', { class: 'charts' }, ...histograms),
    ...disagreementSection(report),
  );
}

/** Metrics as rows and runs as columns, as the CLI prints them; scrolls inside its box on a phone. */
function metricsTable(labelledBy: string, runs: evaluations.RunSummary[]): HTMLElement {
  const first = runs[0];
  const rows = first === undefined ? [] : [
    ...first.textToImage.map((m, i) => ({ name: `text→image ${m.name}`, cells: runs.map((r) => r.textToImage[i]) })),
    ...first.imageToText.map((m, i) => ({ name: `image→text ${m.name}`, cells: runs.map((r) => r.imageToText[i]) })),
  ];
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-labelledby': labelledBy, tabindex: '0' },
    h(
      'table',
      { class: 'metrics' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), ...runs.map((r) => h('th', { scope: 'col' }, r.label)))),
      h('tbody', {}, ...rows.map(({ name, cells }) => h('tr', {}, h('th', { scope: 'row' }, name), ...cells.map((m) => estimateCell(m))))),
    ),
  );
}

function estimateCell(m: evaluations.MetricEstimate | undefined): HTMLElement {
  if (m === undefined) return h('td', {}, '–');
  const digits = m.name === 'median rank' ? 1 : 3;
  const { value, low, high } = m.estimate;
  return h('td', {}, value.toFixed(digits), ' ', h('span', { class: 'ci' }, `[${low.toFixed(digits)}, ${high.toFixed(digits)}]`));
}

function feedbackSection(runs: evaluations.RunSummary[]): HTMLElement[] {
  const graded = runs.filter((r) => r.feedback !== undefined);
  const f = graded[0]?.feedback;
  if (f === undefined) return [];
  const names = f.plain.map((m) => m.name);
  const rows = graded.flatMap((run) => {
    const g = run.feedback as NonNullable<evaluations.RunSummary['feedback']>;
    return [
      h('tr', {}, h('th', { scope: 'row' }, `${run.label}, plain`), ...g.plain.map((m) => estimateCell(m))),
      ...(g.withFeedback === undefined ? [] : [h('tr', {}, h('th', { scope: 'row' }, `${run.label}, label feedback`), ...g.withFeedback.map((m) => estimateCell(m)))]),
    ];
  });
  return [
    h('h3', { id: 'feedback-heading' }, 'Held-out captions, without and with label feedback'),
    h('p', { class: 'hint' }, `${f.heldOut} captions held out; ${f.withLabels} of them share their caption with a training caption, whose images act as the team's thumbs-up.`),
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-labelledby': 'feedback-heading', tabindex: '0' },
      h('table', { class: 'metrics' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Run'), ...names.map((n) => h('th', { scope: 'col' }, n)))), h('tbody', {}, ...rows)),
    ),
  ];
}

function disagreementSection(report: evaluations.EvaluationReport): HTMLElement[] {
  if (report.runs.length < 2) return [];
  const heading = h('h3', { id: 'disagreements-heading' }, 'Where the runs disagree most');
  if (report.disagreements.length === 0) return [heading, h('p', {}, 'Every run ranked every caption the same.')];
  return [
    heading,
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-labelledby': 'disagreements-heading', tabindex: '0' },
      h(
        'table',
        { class: 'metrics disagreements' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Caption'), h('th', { scope: 'col' }, 'Wanted'), ...report.runs.map((r) => h('th', { scope: 'col' }, r.label)))),
        h(
          'tbody',
          {},
          ...report.disagreements.map((d) =>
            h('tr', {}, h('th', { scope: 'row' }, d.query), h('td', {}, d.wanted), ...d.runs.map((r) => h('td', {}, `rank ${r.rank}`, h('br'), h('span', { class: 'ci' }, `first: ${r.top}`)))),
          ),
        ),
      ),
    ),
  ];
}

function describeTemplates(templates: readonly string[]): string {
  return templates.length === 1 && templates[0] === '{}' ? 'no template' : templates.map((t) => `"${t}"`).join(' | ');
}

function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? formatDate(iso) : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
