// `findimage eval --dataset <dir>`: grades one or more models, each with one or more sets of
// prompt templates, on a captioned dataset, through core's evaluateDataset (which indexes the
// images into a scratch folder of their own, never the user's index, then asks every caption as
// a query), with a progress bar per step; then prints the table or JSON and writes the report.
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { DEFAULT_BOOTSTRAP_SEED } from '../../core/evaluation/bootstrap.js';
import {
  defaultTemplateSets,
  describeTemplates,
  embedCaptions,
  evaluateDataset,
  indexDatasetImages,
  runLabel,
  type DatasetEvaluation,
  type EvaluationProgress,
} from '../../core/evaluation/dataset-evaluation.js';
import type { CaptionedImage } from '../../core/evaluation/caption-dataset.js';
import type { GradedQuery, MetricEstimate } from '../../core/evaluation/dataset-evaluator.js';
import type { Embedder } from '../../core/embedding/embedder.js';
import type { ImageIndexer } from '../../core/indexing/image-indexer.js';
import type { FeedbackGrades } from '../../core/evaluation/held-out-feedback.js';
import { findModelSpec } from '../../core/models/registered-models.js';
import { evaluationModelOpener } from '../../evaluation-models.js';
import type { Progress, Terminal } from '../terminal.js';
import { writeEvalReport } from './eval-report.js';

export interface EvalDatasetOptions {
  /** The dataset folder (images plus captions.jsonl). */
  dataset: string;
  /** Registry ids of the models to grade (default: the configured one). */
  models?: string[];
  /** Template sets to compare (default: the configured set and none). */
  templates?: string[][];
  /** Cut-offs for Recall@K and Precision@K. */
  ks: number[];
  /** Share of queries held out for grading label feedback (0 < split < 1). */
  split?: number;
  /** Seed of the bootstrap and the split. */
  seed?: number;
  json: boolean;
  /** Where to write the HTML report. */
  report?: string;
  /** Keep the scratch index in this folder (it must be empty or absent), to inspect it with FINDIMAGE_DATA=<dir>. */
  keepIndex?: string;
}

/** Runs core's evaluateDataset (the same run as the web app's "Evaluate models"), with progress bars, then prints it. */
export async function runEvalDataset(config: Config, options: EvalDatasetOptions, terminal: Terminal, logger: Logger): Promise<DatasetEvaluation> {
  // Unknown ids are refused before anything is indexed; "tiny-test:q8" becomes the variant's id.
  const models = (options.models ?? [config.model]).map((id) => findModelSpec(id, config.dataDir).id);
  const bars = new ProgressBars(terminal);
  let evaluation: DatasetEvaluation;
  try {
    evaluation = await evaluateDataset(
      {
        dataset: options.dataset,
        models,
        templates: options.templates ?? defaultTemplateSets(config.promptTemplates),
        ks: options.ks,
        seed: options.seed ?? DEFAULT_BOOTSTRAP_SEED,
        ...(options.split === undefined ? {} : { split: options.split }),
        ...(options.keepIndex === undefined ? {} : { keepIndex: options.keepIndex }),
      },
      { openModel: evaluationModelOpener(config, logger), logger, onProgress: (progress) => bars.show(progress) },
    );
  } finally {
    bars.stop();
  }
  if (options.report !== undefined) await writeEvalReport(evaluation, resolve(options.report));
  if (options.json) terminal.out(JSON.stringify(jsonView(evaluation)));
  else printSummary(evaluation, terminal, options.report);
  return evaluation;
}

/** Core's indexDatasetImages with a progress bar; for `findimage tune`, which indexes a dataset the same way. */
export async function indexRows(indexer: ImageIndexer, dir: string, rows: readonly CaptionedImage[], terminal: Terminal, modelId: string) {
  const progress = terminal.progress(rows.length, `Indexing for ${modelId}`);
  try {
    return await indexDatasetImages(indexer, dir, rows, progress);
  } finally {
    progress.stop();
  }
}

/** Core's embedCaptions over the distinct texts of `queries`, with a progress bar; for `findimage tune`. */
export async function embedQueries(embedder: Embedder, queries: readonly GradedQuery[], terminal: Terminal, label: string): Promise<Map<string, Float32Array>> {
  const texts = [...new Set(queries.map((q) => q.text))];
  const progress = terminal.progress(texts.length, label);
  try {
    return await embedCaptions(embedder, texts, progress);
  } finally {
    progress.stop();
  }
}

/** One terminal progress bar per step of the run. */
class ProgressBars {
  readonly #terminal: Terminal;
  #bar: Progress | undefined;
  #step = 0;
  #done = 0;

  constructor(terminal: Terminal) {
    this.#terminal = terminal;
  }

  show(progress: EvaluationProgress): void {
    if (progress.step !== this.#step) {
      this.#bar?.stop();
      this.#bar = this.#terminal.progress(progress.total, progress.label);
      this.#step = progress.step;
      this.#done = 0;
    }
    for (; this.#done < progress.done; this.#done++) this.#bar?.tick();
  }

  stop(): void {
    this.#bar?.stop();
  }
}

/** The JSON output: everything but the per-query details and histograms, which only the report needs. */
function jsonView(evaluation: DatasetEvaluation) {
  return {
    dataset: evaluation.dataset,
    images: evaluation.images,
    queries: evaluation.queries,
    ks: evaluation.ks,
    seed: evaluation.seed,
    indexing: evaluation.indexing,
    ...(evaluation.keptIndex === undefined ? {} : { keptIndex: evaluation.keptIndex }),
    notes: evaluation.notes,
    runs: evaluation.runs.map((run) => ({
      model: run.model,
      templates: run.templates,
      queriesPerSecond: run.queriesPerSecond,
      textToImage: asRecord(run.grades.textToImage),
      imageToText: asRecord(run.grades.imageToText),
      ...(run.feedback === undefined
        ? {}
        : {
            feedback: {
              heldOut: run.feedback.heldOut,
              withLabels: run.feedback.withLabels,
              window: run.feedback.window,
              plain: asRecord(run.feedback.plain),
              ...(run.feedback.withFeedback === undefined ? {} : { withFeedback: asRecord(run.feedback.withFeedback) }),
            },
          }),
    })),
  };
}

function asRecord(metrics: readonly MetricEstimate[]) {
  return Object.fromEntries(metrics.map((m) => [m.name, m.estimate]));
}

function printSummary(evaluation: DatasetEvaluation, terminal: Terminal, report: string | undefined): void {
  terminal.out(`Dataset ${evaluation.dataset}: ${evaluation.images} images, ${evaluation.queries} caption queries (95% bootstrap intervals, seed ${evaluation.seed})`);
  for (const { model, skipped } of evaluation.indexing) for (const s of skipped) terminal.out(`  skipped for ${model}: ${s.image}: ${s.reason}`);
  const first = evaluation.runs[0];
  if (first === undefined) return;
  // Metrics as rows and runs as columns: a few runs fit a terminal, a dozen metrics would not.
  const header = ['metric', ...evaluation.runs.map(runLabel)];
  const rows = [
    ...first.grades.textToImage.map((m, i) => [m.name, ...evaluation.runs.map((run) => formatEstimate(run.grades.textToImage[i] ?? m))]),
    ...first.grades.imageToText.map((m, i) => [`image→text ${m.name}`, ...evaluation.runs.map((run) => formatEstimate(run.grades.imageToText[i] ?? m))]),
  ];
  printTable(terminal, header, rows);
  const withFeedback = evaluation.runs.filter((r) => r.feedback !== undefined);
  if (withFeedback.length > 0) {
    const f = withFeedback[0]?.feedback as FeedbackGrades;
    terminal.out(`Held-out queries (${f.heldOut}; ${f.withLabels} share a caption with training queries; top ${f.window} ranked):`);
    const names = f.plain.map((m) => m.name);
    const feedbackRows = withFeedback.flatMap((run) => {
      const g = run.feedback as FeedbackGrades;
      const base = [run.model, describeTemplates(run.templates)];
      return [
        [...base, 'plain', ...g.plain.map(formatEstimate)],
        ...(g.withFeedback === undefined ? [] : [[...base, 'label feedback', ...g.withFeedback.map(formatEstimate)]]),
      ];
    });
    printTable(terminal, ['model', 'templates', 'method', ...names], feedbackRows);
  }
  for (const note of evaluation.notes) terminal.out(note);
  if (evaluation.keptIndex !== undefined) terminal.out(`Scratch index kept in ${evaluation.keptIndex} (search it with FINDIMAGE_DATA=${evaluation.keptIndex}).`);
  if (report !== undefined) terminal.out(`Report written to ${resolve(report)}`);
}

function formatEstimate(m: MetricEstimate): string {
  const { value, low, high } = m.estimate;
  const digits = m.name === 'median rank' ? 1 : 3;
  return `${value.toFixed(digits)} [${low.toFixed(digits)}, ${high.toFixed(digits)}]`;
}

function printTable(terminal: Terminal, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  terminal.out(line(header));
  for (const row of rows) terminal.out(line(row));
}

