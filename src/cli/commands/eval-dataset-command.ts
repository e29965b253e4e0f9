// `findimage eval --dataset <dir>`: grades one or more models, each with one or more sets of
// prompt templates, on a captioned dataset. The images are indexed into a scratch folder of
// its own (never the user's index), then every caption is asked as a query.
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError, InvalidImageError, asFindimageError } from '../../core/errors.js';
import { CAPTIONS_FILE, captionQueries, parseCaptionsJsonl, type CaptionedImage } from '../../core/evaluation/caption-dataset.js';
import { DEFAULT_BOOTSTRAP_SEED } from '../../core/evaluation/bootstrap.js';
import { gradeDataset, type DatasetGrades, type GradedQuery, type MetricEstimate } from '../../core/evaluation/dataset-evaluator.js';
import { gradeHeldOut, holdOut, TrainingLabelFeedback, type FeedbackGrades } from '../../core/evaluation/held-out-feedback.js';
import { PromptEnsembleEmbedder } from '../../core/evaluation/prompt-ensemble-embedder.js';
import { ImageIndexer } from '../../core/indexing/image-indexer.js';
import { familyOf } from '../../core/models/model-family.js';
import { findModelSpec } from '../../core/models/registered-models.js';
import { SearchService } from '../../core/search/search-service.js';
import { openSqliteVectorStore } from '../../core/store/sqlite-vector-store.js';
import { embeddedStorePath, openEmbedding } from '../../findimage.js';
import { LOCAL_TENANT } from '../local-scope.js';
import type { Terminal } from '../terminal.js';
import { writeEvalReport } from './eval-report.js';

/** Images read and embedded at once while indexing (as `findimage index` does). */
const FILES_IN_FLIGHT = 6;
/** Queries embedded at once: enough to fill the worker pool's batches. */
const QUERIES_IN_FLIGHT = 32;
/** Shown for a template set that is only "{}": the caption as written. */
export const NO_TEMPLATE = '{}';

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

/** One model with one template set, graded. */
export interface EvalRun {
  model: string;
  /** The prompt templates used for the captions. */
  templates: string[];
  grades: DatasetGrades;
  /** With --split: held-out queries without and with label feedback. */
  feedback?: FeedbackGrades;
  /** Captions embedded per second (after the templates) for this run. */
  queriesPerSecond: number;
}

export interface DatasetEvaluation {
  dataset: string;
  images: number;
  queries: number;
  ks: number[];
  seed: number;
  /** Per model: images embedded and stored per second. */
  indexing: Array<{ model: string; imagesPerSecond: number; skipped: Array<{ image: string; reason: string }> }>;
  runs: EvalRun[];
  /** Dataset row → point id (the scratch index's ids), per model; ids do not depend on the model. */
  imageIds: string[];
  /** Dataset rows (image path and captions). */
  rows: CaptionedImage[];
  /** Where the scratch index was kept, if it was. */
  keptIndex?: string;
  /** Said when feedback could not be graded. */
  notes: string[];
}

export async function runEvalDataset(config: Config, options: EvalDatasetOptions, terminal: Terminal, logger: Logger): Promise<DatasetEvaluation> {
  const datasetDir = resolve(options.dataset);
  const rows = await readDataset(datasetDir);
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const models = (options.models ?? [config.model]).map((id) => findModelSpec(id, config.dataDir));
  const templateSets = options.templates ?? defaultTemplateSets(config.promptTemplates);
  const scratch = options.keepIndex === undefined ? await mkdtemp(join(tmpdir(), 'findimage-eval-')) : await emptyFolder(resolve(options.keepIndex));
  // Only the scratch folder is written: the embedded store there, never Qdrant or FINDIMAGE_DATA.
  const scratchConfig: Config = { ...config, dataDir: scratch, qdrant: undefined, promptTemplates: [NO_TEMPLATE] };
  const evaluation: DatasetEvaluation = {
    dataset: datasetDir,
    images: rows.length,
    queries: 0,
    ks: options.ks,
    seed,
    indexing: [],
    runs: [],
    imageIds: [],
    rows,
    notes: [],
    ...(options.keepIndex === undefined ? {} : { keptIndex: scratch }),
  };
  try {
    for (const model of models) {
      const embedding = await openEmbedding({ config: scratchConfig, logger, model });
      const store = await openSqliteVectorStore({ path: embeddedStorePath(scratch, model.id), dimension: model.dimension, logger: logger.child({ component: 'store' }) });
      try {
        const indexer = new ImageIndexer({ embedder: embedding.embedder, store, prepare: embedding.prepareImage, logger: logger.child({ component: 'indexer' }) });
        const started = performance.now();
        const { ids, skipped } = await indexRows(indexer, datasetDir, rows, terminal, model.id);
        evaluation.indexing.push({ model: model.id, imagesPerSecond: rows.length / ((performance.now() - started) / 1000), skipped });
        evaluation.imageIds = ids.map((id) => id ?? '');
        const queries: GradedQuery[] = captionQueries(rows)
          .filter((q) => ids[q.image] !== undefined)
          .map((q) => ({ text: q.text, relevant: [...new Set(q.relevant.flatMap((i) => (ids[i] === undefined ? [] : [ids[i] as string])))] }));
        evaluation.queries = queries.length;
        const distinctIds = [...new Set(ids.filter((id): id is string => id !== undefined))];
        const images = new Map((await store.get(distinctIds, { tenant: LOCAL_TENANT, withVector: true })).map((p) => [p.id, p.vector as Float32Array]));
        for (const templates of templateSets) {
          const embedder = new PromptEnsembleEmbedder(embedding.embedder, templates, familyOf(model).normalizeQuery);
          const label = `${model.id}, ${describeTemplates(templates)}`;
          const queryStarted = performance.now();
          const queryVectors = await embedQueries(embedder, queries, terminal, `Querying ${label}`);
          const queriesPerSecond = queryVectors.size / ((performance.now() - queryStarted) / 1000);
          const grades = gradeDataset({ images, queries, queryVectors }, options.ks, seed);
          const run: EvalRun = { model: model.id, templates, grades, queriesPerSecond };
          if (options.split !== undefined) run.feedback = await gradeFeedback(embedder, store, queries, options, seed, images.size, terminal, logger, label, evaluation.notes);
          evaluation.runs.push(run);
        }
      } finally {
        await store.close();
        await embedding.embedder.close();
      }
    }
  } finally {
    if (options.keepIndex === undefined) await rm(scratch, { recursive: true, force: true });
  }
  if (options.report !== undefined) await writeEvalReport(evaluation, resolve(options.report));
  if (options.json) terminal.out(JSON.stringify(jsonView(evaluation)));
  else printSummary(evaluation, terminal, options.report);
  return evaluation;
}

/** The configured templates and, to compare, none. */
export function defaultTemplateSets(configured: readonly string[]): string[][] {
  const none = [NO_TEMPLATE];
  return configured.length === 1 && configured[0] === NO_TEMPLATE ? [none] : [[...configured], none];
}

export function describeTemplates(templates: readonly string[]): string {
  return templates.length === 1 && templates[0] === NO_TEMPLATE ? 'no template' : templates.map((t) => `"${t}"`).join(' | ');
}

/** A dataset folder's rows (captions.jsonl); a ConfigError when there is none. Also used by `findimage tune`. */
export async function readDataset(dir: string): Promise<CaptionedImage[]> {
  let text: string;
  try {
    text = await readFile(join(dir, CAPTIONS_FILE), 'utf8');
  } catch (error) {
    throw new ConfigError(`No ${CAPTIONS_FILE} in ${dir}. A dataset is a folder of images plus ${CAPTIONS_FILE} (see docs/evaluation.md).`, { cause: error });
  }
  return parseCaptionsJsonl(text);
}

async function emptyFolder(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new ConfigError(`--keep-index needs an empty folder, and ${dir} is not empty.`);
  return dir;
}

/** Indexes every row's image (skipping unreadable ones, listed with the reason); point ids by row. Also used by `findimage tune`. */
export async function indexRows(indexer: ImageIndexer, dir: string, rows: readonly CaptionedImage[], terminal: Terminal, modelId: string) {
  const ids: Array<string | undefined> = new Array(rows.length).fill(undefined);
  const skipped: Array<{ image: string; reason: string }> = [];
  const progress = terminal.progress(rows.length, `Indexing for ${modelId}`);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const index = next++;
      const row = rows[index] as CaptionedImage;
      const path = join(dir, row.image);
      try {
        const bytes = await readFile(path);
        const result = await indexer.index({ bytes, filename: row.image, path, tenant: LOCAL_TENANT, source: 'local' });
        ids[index] = result.id;
      } catch (thrown) {
        const error = asFindimageError(thrown);
        const code = (thrown as NodeJS.ErrnoException).code;
        if (error instanceof InvalidImageError || code === 'ENOENT' || code === 'EISDIR') skipped.push({ image: row.image, reason: code === 'ENOENT' ? 'not found' : error.message });
        else throw error;
      }
      progress.tick(row.image);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(FILES_IN_FLIGHT, rows.length) }, worker));
  } finally {
    progress.stop();
  }
  if (skipped.length === rows.length) throw new ConfigError(`None of the dataset's ${rows.length} images could be read (first: ${skipped[0]?.image}: ${skipped[0]?.reason}).`);
  return { ids, skipped };
}

/** Each distinct query text's vector, many at once. Also used by `findimage tune`. */
export async function embedQueries(embedder: PromptEnsembleEmbedder, queries: readonly GradedQuery[], terminal: Terminal, label: string): Promise<Map<string, Float32Array>> {
  const texts = [...new Set(queries.map((q) => q.text))];
  const vectors = new Map<string, Float32Array>();
  const progress = terminal.progress(texts.length, label);
  let next = 0;
  const worker = async () => {
    while (next < texts.length) {
      const text = texts[next++] as string;
      vectors.set(text, await embedder.embedQuery(text, { lane: 'bulk' }));
      progress.tick();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(QUERIES_IN_FLIGHT, texts.length) }, worker));
  } finally {
    progress.stop();
  }
  return vectors;
}

async function gradeFeedback(
  embedder: PromptEnsembleEmbedder,
  store: Awaited<ReturnType<typeof openSqliteVectorStore>>,
  queries: readonly GradedQuery[],
  options: EvalDatasetOptions,
  seed: number,
  images: number,
  terminal: Terminal,
  logger: Logger,
  label: string,
  notes: string[],
): Promise<FeedbackGrades> {
  const held = holdOut(queries.length, options.split as number, seed);
  const heldOut = queries.filter((_, i) => held.has(i));
  const feedback = new TrainingLabelFeedback(queries.filter((_, i) => !held.has(i)));
  const search = new SearchService({ embedder, store, minRelativeScore: 0, feedback, logger: logger.child({ component: 'search' }) });
  const progress = terminal.progress(heldOut.length * 2, `Held-out queries, ${label}`);
  try {
    const grades = await gradeHeldOut({ search, feedback, heldOut, tenant: LOCAL_TENANT, images, ks: options.ks, seed, onQuery: () => progress.tick() });
    if (grades.withFeedback === undefined) {
      const note =
        'Label feedback was not graded: no held-out caption is also a training caption, so Rocchio feedback has no labels to learn from on this dataset. The held-out queries are graded without it.';
      if (!notes.includes(note)) notes.push(note);
    }
    return grades;
  } finally {
    progress.stop();
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

export function runLabel(run: Pick<EvalRun, 'model' | 'templates'>): string {
  return `${run.model}, ${describeTemplates(run.templates)}`;
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

