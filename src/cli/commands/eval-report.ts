// The HTML report of `findimage eval --dataset --report out.html`: one self-contained file
// (inline SVG charts, thumbnails as data: URLs, no script, nothing fetched when it is opened)
// that shows recall against K per model, the scores of relevant against irrelevant results,
// the queries on which the runs disagree most, and each model with and without templates.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describeTemplates, runLabel, type DatasetEvaluation, type EvalRun } from '../../core/evaluation/dataset-evaluation.js';
import type { ScoreHistogram } from '../../core/evaluation/dataset-evaluator.js';
import { DISAGREEMENT_QUERIES, mostDisagreed } from '../../core/evaluation/disagreements.js';

/** Thumbnail edge in pixels; at JPEG quality 60 one is about 2 KB, so the report stays under a megabyte. */
const THUMBNAIL_EDGE = 64;
const THUMBNAIL_QUALITY = 60;
/** Line colours for up to eight runs (then they repeat). */
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/** Writes the report for `evaluation` to `path`. */
export async function writeEvalReport(evaluation: DatasetEvaluation, path: string): Promise<void> {
  const disagreements = mostDisagreed(evaluation.runs, DISAGREEMENT_QUERIES);
  const wanted = new Set<string>();
  for (const index of disagreements) {
    for (const run of evaluation.runs) {
      const q = run.grades.queries[index];
      if (q === undefined) continue;
      if (q.relevant[0] !== undefined) wanted.add(q.relevant[0]);
      if (q.top[0] !== undefined) wanted.add(q.top[0]);
    }
  }
  const thumbnails = await makeThumbnails(evaluation, wanted);
  await writeFile(path, renderEvalReport(evaluation, thumbnails, disagreements));
}

async function makeThumbnails(evaluation: DatasetEvaluation, ids: ReadonlySet<string>): Promise<Map<string, string>> {
  const thumbnails = new Map<string, string>();
  for (const id of ids) {
    const row = evaluation.rows[evaluation.imageIds.indexOf(id)];
    if (row === undefined) continue;
    try {
      const jpeg = await sharp(await readFile(join(evaluation.dataset, row.image)))
        .rotate()
        .resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: 'cover' })
        .jpeg({ quality: THUMBNAIL_QUALITY })
        .toBuffer();
      thumbnails.set(id, `data:image/jpeg;base64,${jpeg.toString('base64')}`);
    } catch {
      // The image was indexed moments ago; if it cannot be read now, the report shows its name.
    }
  }
  return thumbnails;
}

/** The report as one HTML string. `thumbnails` maps point ids to data: URLs. */
export function renderEvalReport(evaluation: DatasetEvaluation, thumbnails: ReadonlyMap<string, string>, disagreements: readonly number[]): string {
  const runs = evaluation.runs;
  const sections = [
    `<h1>findimage evaluation</h1>`,
    `<p>${esc(evaluation.dataset)}: ${evaluation.images} images, ${evaluation.queries} caption queries. Intervals are 95% bootstrap intervals (${esc(String(evaluation.seed))} as seed).</p>`,
    ...evaluation.notes.map((n) => `<p class="note">${esc(n)}</p>`),
    `<h2>Recall against K (text to image)</h2>`,
    recallChart(runs, evaluation.ks),
    `<h2>All metrics</h2>`,
    metricsTable(runs),
    `<h2>With and without templates</h2>`,
    templatesTable(runs),
    `<h2>Scores of relevant and irrelevant images</h2>`,
    `<p>Cosine similarity of each caption with its relevant images (filled) and with every other image (outline), as shares of each group. The further apart, the easier the ranking.</p>`,
    `<div class="grid">${runs.map((run, i) => `<figure>${histogramChart(run.grades.scores.relevant, run.grades.scores.irrelevant, COLOURS[i % COLOURS.length] as string)}<figcaption>${esc(runLabel(run))}</figcaption></figure>`).join('')}</div>`,
    `<h2>Where the runs disagree most</h2>`,
    disagreementTable(evaluation, thumbnails, disagreements),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>findimage evaluation</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}.ci{color:#777;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}.note{background:#fff6d5;padding:.5em}
img{width:64px;height:64px;display:block}.better{color:#2ca02c}.worse{color:#d62728}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}

function metricsTable(runs: readonly EvalRun[]): string {
  const first = runs[0];
  if (first === undefined) return '<p>No run.</p>';
  const rows = [
    ...first.grades.textToImage.map((m, i) => ({ name: `text→image ${m.name}`, cells: runs.map((r) => r.grades.textToImage[i]) })),
    ...first.grades.imageToText.map((m, i) => ({ name: `image→text ${m.name}`, cells: runs.map((r) => r.grades.imageToText[i]) })),
  ];
  const head = `<tr><th>metric</th>${runs.map((r) => `<th>${esc(runLabel(r))}</th>`).join('')}</tr>`;
  const body = rows
    .map(({ name, cells }) => `<tr><td>${esc(name)}</td>${cells.map((m) => (m === undefined ? '<td></td>' : `<td class="num">${fmt(m.estimate.value)} <span class="ci">[${fmt(m.estimate.low)}, ${fmt(m.estimate.high)}]</span></td>`)).join('')}</tr>`)
    .join('');
  return `<table>${head}${body}</table>`;
}

function templatesTable(runs: readonly EvalRun[]): string {
  const byModel = new Map<string, EvalRun[]>();
  for (const run of runs) byModel.set(run.model, [...(byModel.get(run.model) ?? []), run]);
  const names = ['R@1', 'R@5', 'R@10', 'MRR'];
  const rows: string[] = [];
  for (const [model, list] of byModel) {
    const baseline = list.find((r) => describeTemplates(r.templates) === 'no template');
    for (const run of list) {
      const cells = names.map((name) => {
        const value = run.grades.textToImage.find((m) => m.name === name)?.estimate.value;
        const base = baseline?.grades.textToImage.find((m) => m.name === name)?.estimate.value;
        if (value === undefined) return '<td></td>';
        const delta = base === undefined || run === baseline ? '' : ` <span class="${value >= base ? 'better' : 'worse'}">(${value >= base ? '+' : ''}${fmt(value - base)})</span>`;
        return `<td class="num">${fmt(value)}${delta}</td>`;
      });
      rows.push(`<tr><td>${esc(model)}</td><td>${esc(describeTemplates(run.templates))}</td>${cells.join('')}</tr>`);
    }
  }
  return `<table><tr><th>model</th><th>templates</th>${names.map((n) => `<th>${n}</th>`).join('')}</tr>${rows.join('')}</table><p class="ci">In brackets: the change from the same model with no template.</p>`;
}

function disagreementTable(evaluation: DatasetEvaluation, thumbnails: ReadonlyMap<string, string>, indices: readonly number[]): string {
  if (evaluation.runs.length < 2) return '<p>One run only: give several models (--models) or template sets (--templates) to compare.</p>';
  if (indices.length === 0) return '<p>Every run ranked every query the same.</p>';
  const picture = (id: string | undefined) => {
    if (id === undefined) return '';
    const url = thumbnails.get(id);
    const name = evaluation.rows[evaluation.imageIds.indexOf(id)]?.image ?? id;
    return url === undefined ? esc(name) : `<img src="${url}" alt="${esc(name)}" title="${esc(name)}">`;
  };
  const head = `<tr><th>query</th><th>wanted</th>${evaluation.runs.map((r) => `<th>${esc(runLabel(r))}<br><span class="ci">rank, top result</span></th>`).join('')}</tr>`;
  const body = indices
    .map((i) => {
      const own = evaluation.runs[0]?.grades.queries[i];
      const cells = evaluation.runs.map((run) => {
        const q = run.grades.queries[i];
        return q === undefined ? '<td></td>' : `<td>rank ${q.firstRank}${picture(q.top[0])}</td>`;
      });
      return `<tr><td>${esc(own?.text ?? '')}</td><td>${picture(own?.relevant[0])}</td>${cells.join('')}</tr>`;
    })
    .join('');
  return `<table>${head}${body}</table>`;
}

/** Text-to-image Recall@K against K, one line per run. */
function recallChart(runs: readonly EvalRun[], ks: readonly number[]): string {
  const width = 560;
  const height = 300;
  const pad = { left: 50, right: 20, top: 20, bottom: 40 };
  const maxK = Math.max(...ks, 1);
  const minK = Math.min(...ks, maxK);
  const x = (k: number) => pad.left + (maxK === minK ? 0 : ((k - minK) / (maxK - minK)) * (width - pad.left - pad.right));
  const y = (v: number) => height - pad.bottom - v * (height - pad.top - pad.bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v}</text>`)
    .join('');
  const ticks = ks.map((k) => `<text x="${x(k)}" y="${height - pad.bottom + 16}" text-anchor="middle" font-size="11">${k}</text>`).join('');
  const lines = runs
    .map((run, i) => {
      const colour = COLOURS[i % COLOURS.length] as string;
      const points = ks.map((k) => [x(k), y(run.grades.textToImage.find((m) => m.name === `R@${k}`)?.estimate.value ?? 0)] as const);
      const band = ks.map((k) => run.grades.textToImage.find((m) => m.name === `R@${k}`)?.estimate);
      const whiskers = band
        .map((e, j) => (e === undefined ? '' : `<line x1="${points[j]?.[0]}" x2="${points[j]?.[0]}" y1="${y(e.low)}" y2="${y(e.high)}" stroke="${colour}" stroke-opacity="0.5" stroke-width="3"/>`))
        .join('');
      return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map((p) => p.join(',')).join(' ')}"/>${whiskers}${points.map((p) => `<circle cx="${p[0]}" cy="${p[1]}" r="3" fill="${colour}"/>`).join('')}`;
    })
    .join('');
  const legend = runs.map((run, i) => `<span style="color:${COLOURS[i % COLOURS.length]}">■</span> ${esc(runLabel(run))}`).join('<br>');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="Recall at K">${grid}${ticks}<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="12">K</text>${lines}</svg><p>${legend}<br><span class="ci">Bars: 95% intervals.</span></p>`;
}

/** Two histograms on one scale, each as shares of its own group. */
function histogramChart(relevant: ScoreHistogram, irrelevant: ScoreHistogram, colour: string): string {
  const width = 340;
  const height = 160;
  const pad = 24;
  const share = (h: ScoreHistogram) => {
    const total = h.counts.reduce((a, b) => a + b, 0) || 1;
    return h.counts.map((c) => c / total);
  };
  const rel = share(relevant);
  const irr = share(irrelevant);
  const top = Math.max(...rel, ...irr, 1e-9);
  const bins = rel.length;
  const barWidth = (width - 2 * pad) / bins;
  const bars = rel.map((v, i) => `<rect x="${pad + i * barWidth}" y="${height - pad - (v / top) * (height - 2 * pad)}" width="${barWidth}" height="${(v / top) * (height - 2 * pad)}" fill="${colour}" fill-opacity="0.6"/>`).join('');
  const outline = irr.map((v, i) => `${pad + i * barWidth},${height - pad - (v / top) * (height - 2 * pad)} ${pad + (i + 1) * barWidth},${height - pad - (v / top) * (height - 2 * pad)}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="Score distributions">${bars}<polyline fill="none" stroke="#333" points="${outline}"/><line x1="${pad}" x2="${width - pad}" y1="${height - pad}" y2="${height - pad}" stroke="#999"/><text x="${pad}" y="${height - 6}" font-size="11">${relevant.min.toFixed(3)}</text><text x="${width - pad}" y="${height - 6}" font-size="11" text-anchor="end">${relevant.max.toFixed(3)}</text></svg>`;
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
