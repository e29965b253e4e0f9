// Dataset evaluations run in the background for the web app: one at a time (each loads its models
// beside the server's own and keeps the CPU busy), with its progress readable while it runs,
// cancellable, and every finished run kept as a JSON file in a folder of the data directory, to
// be listed, opened and deleted later. Only folders below one datasets folder may be evaluated,
// so a person with the page cannot make the server read anything else on its disk.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import { EvaluationError, ModelError, asFindimageError } from '../errors.js';
import { CAPTIONS_FILE } from './caption-dataset.js';
import {
  EvaluationCancelledError,
  evaluateDataset,
  runLabel,
  stepsOf,
  type DatasetEvaluation,
  type EvaluationProgress,
  type OpenEvaluationModel,
} from './dataset-evaluation.js';
import type { MetricEstimate, ScoreHistogram } from './dataset-evaluator.js';
import { DISAGREEMENT_QUERIES, mostDisagreed } from './disagreements.js';

/** Finished runs kept; the oldest beyond this are deleted when a new one starts (each file is a few KB). */
export const MAX_KEPT_RUNS = 50;
/** Datasets listed: a datasets folder is a handful of folders, never thousands. */
const MAX_DATASETS_LISTED = 200;
/** Queries listed in a run's "where the runs disagree" (as in the CLI's HTML report). */
/** How long a cancel request waits for the run to stop before answering (it stops later all the same). */
const CANCEL_WAIT_MS = 5_000;
/** A run id: what randomUUID makes, checked before it names a file. */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A model the page may offer. */
export interface ModelChoice {
  /** Registry id, as a request names it. */
  id: string;
  /** One line for people. */
  description: string;
  /** Whether its files are here: another one is downloaded when a run needs it. */
  onThisMachine: boolean;
  /** Whether it is the model the server searches with. */
  configured: boolean;
}

/** A dataset folder below the datasets folder. */
export interface DatasetEntry {
  /** Its path relative to the datasets folder, with "/" separators: what a request names. */
  name: string;
  /** Rows of its captions.jsonl (images). */
  images: number;
}

/** What a person asks to evaluate. */
export interface EvaluationRequest {
  /** A dataset's name, relative to the datasets folder. */
  dataset: string;
  /** Registry ids of the models to compare. */
  models: string[];
  /** Template sets to compare, each a list of templates with "{}" (["{}"]: the caption as written). */
  templates: string[][];
  /** Cut-offs for Recall@K and Precision@K. */
  ks: number[];
  /** Share of queries held out to grade label feedback. */
  split?: number;
  /** Seed of the bootstrap intervals and the split (default 12). */
  seed?: number;
}

/** One model with one template set, as kept. */
export interface RunSummary {
  /** The model's registry id. */
  model: string;
  /** The templates the captions were asked with. */
  templates: string[];
  /** "tiny-test, no template". */
  label: string;
  /** Captions embedded per second. */
  queriesPerSecond: number;
  /** R@K and P@K per K, nDCG@10, MRR and median rank, with intervals. */
  textToImage: MetricEstimate[];
  /** R@K per K from image to caption, with intervals. */
  imageToText: MetricEstimate[];
  /** Scores of relevant and irrelevant (caption, image) pairs. */
  scores: { relevant: ScoreHistogram; irrelevant: ScoreHistogram };
  /** With a split: held-out captions graded without and with label feedback (see FeedbackGrades). */
  feedback?: { heldOut: number; withLabels: number; window: number; plain: MetricEstimate[]; withFeedback?: MetricEstimate[] };
}

/** A query the runs ranked differently. */
export interface Disagreement {
  /** The caption. */
  query: string;
  /** The dataset image it should find. */
  wanted: string;
  /** Per run (in the runs' order): the rank of the first relevant image and the image ranked first. */
  runs: Array<{ rank: number; top: string }>;
}

/** A finished evaluation's report: everything the page shows, without the per-query details. */
export interface EvaluationReport {
  /** Images in the dataset. */
  images: number;
  /** Caption queries asked. */
  queries: number;
  /** The cut-offs, ascending. */
  ks: number[];
  /** Seed of the intervals and the split. */
  seed: number;
  /** Per model: images per second, and the images skipped with why. */
  indexing: DatasetEvaluation['indexing'];
  /** Said when something could not be graded. */
  notes: string[];
  /** One per model and template set, in the order asked. */
  runs: RunSummary[];
  /** The captions the runs ranked most differently, most first. */
  disagreements: Disagreement[];
}

/** running; done (with a report); failed (with why); cancelled; interrupted (the server stopped during it). */
export type RunState = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

/** One evaluation, running or over. */
export interface EvaluationRecord {
  /** A UUID; the record's file is <id>.json. */
  id: string;
  /** What was asked. */
  request: EvaluationRequest;
  /** Where it is. */
  state: RunState;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601, once over. */
  finishedAt?: string;
  /** While running: where it is. */
  progress?: EvaluationProgress;
  /** Failed: why, for the person who asked. */
  error?: { code: string; message: string };
  /** Done: the report. */
  report?: EvaluationReport;
}

export interface EvaluationRunsOptions {
  /** Where records are kept (created on the first run): a folder of the data directory. */
  dir: string;
  /** The only folder whose subfolders may be evaluated. */
  datasetsRoot: string;
  /** Opens a model with a scratch store (the composition root's). */
  openModel: OpenEvaluationModel;
  /** The models a person may pick. */
  models: () => Promise<ModelChoice[]>;
  /** The template sets offered first: the configured set and none, as `eval --dataset` compares by default. */
  defaultTemplates: string[][];
  /** Starts, ends and failures of runs. */
  logger: Logger;
}

/** Background dataset evaluations; see the file's comment. */
export class EvaluationRuns {
  readonly #options: EvaluationRunsOptions;
  #running: { record: EvaluationRecord; controller: AbortController; done: Promise<void> } | undefined;

  constructor(options: EvaluationRunsOptions) {
    this.#options = options;
  }

  /** The datasets folder. */
  get datasetsRoot(): string {
    return this.#options.datasetsRoot;
  }

  /** The models a person may pick. */
  models(): Promise<ModelChoice[]> {
    return this.#options.models();
  }

  /** The template sets offered first. */
  get defaultTemplates(): string[][] {
    return this.#options.defaultTemplates;
  }

  /** Records left "running" by a server that stopped are marked interrupted. Call once at start. */
  async recover(): Promise<void> {
    for (const record of await this.#readAll()) {
      if (record.state !== 'running' || record.id === this.#running?.record.id) continue;
      await this.#write({ ...record, state: 'interrupted', error: { code: 'interrupted', message: 'The server stopped while this evaluation ran.' } });
    }
  }

  /** Folders one or two levels below the datasets folder that hold a captions.jsonl, by name. */
  async datasets(): Promise<DatasetEntry[]> {
    const root = this.#options.datasetsRoot;
    const found: DatasetEntry[] = [];
    const visit = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (found.length >= MAX_DATASETS_LISTED) return;
        if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        const captions = await readFile(join(path, CAPTIONS_FILE), 'utf8').catch(() => undefined);
        if (captions !== undefined) found.push({ name: relative(root, path).split(sep).join('/'), images: captions.split('\n').filter((l) => l.trim() !== '').length });
        else if (depth < 2) await visit(path, depth + 1);
      }
    };
    await visit(root, 1);
    return found;
  }

  /**
   * Starts an evaluation and returns its record at once. Refuses with 'evaluation_busy' while
   * another runs, with 'dataset_refused' a name that leaves the datasets folder (by "..", an
   * absolute path or a link pointing out) or names no dataset, and with 'model_unknown' a model
   * that is not offered.
   */
  async start(request: EvaluationRequest): Promise<EvaluationRecord> {
    this.#refuseWhileRunning();
    const dir = await this.#datasetDir(request.dataset);
    const offered = new Set((await this.#options.models()).map((m) => m.id));
    const unknown = request.models.find((id) => !offered.has(id));
    if (unknown !== undefined) throw new ModelError('model_unknown', `There is no model ${JSON.stringify(unknown)}; pick one of ${[...offered].join(', ')}.`);
    this.#refuseWhileRunning();
    const record: EvaluationRecord = { id: randomUUID(), request, state: 'running', startedAt: new Date().toISOString() };
    const controller = new AbortController();
    const running = { record, controller, done: Promise.resolve() };
    // Claimed before the first await below, so a second request at the same moment is refused.
    this.#running = running;
    try {
      await this.#prune();
      await this.#write(record);
    } catch (error) {
      this.#running = undefined;
      throw error;
    }
    running.done = this.#run(record, dir, controller.signal);
    return { ...record };
  }

  #refuseWhileRunning(): void {
    const running = this.#running?.record;
    if (running === undefined) return;
    throw new EvaluationError('evaluation_busy', `An evaluation is already running (${running.request.dataset}, started ${running.startedAt}); wait for it to finish or cancel it.`);
  }

  /** The running evaluation with its progress, if any. */
  current(): EvaluationRecord | undefined {
    return this.#running === undefined ? undefined : { ...this.#running.record };
  }

  /** Every run kept, newest first, without reports (the running one with its progress). */
  async list(): Promise<Array<Omit<EvaluationRecord, 'report'>>> {
    return (await this.#readAll())
      .map((record) => (record.id === this.#running?.record.id ? { ...this.#running.record } : record))
      .map(({ report: _report, ...rest }) => rest)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** One run with its report; 'not_found' when there is no such run. */
  async get(id: string): Promise<EvaluationRecord> {
    if (id === this.#running?.record.id) return { ...this.#running.record };
    const record = await this.#read(id);
    if (record === undefined) throw new EvaluationError('not_found', 'There is no such evaluation; it may have been deleted.');
    return record;
  }

  /**
   * Cancels the running evaluation `id` and waits until it has stopped, or CANCEL_WAIT_MS at
   * most (a model being loaded or downloaded finishes that first; the run then stops, and its
   * progress says "Cancelling" meanwhile). False when it is not running.
   */
  async cancel(id: string): Promise<boolean> {
    const running = this.#running;
    if (running === undefined || running.record.id !== id) return false;
    running.controller.abort();
    if (running.record.progress !== undefined) running.record.progress = { ...running.record.progress, label: 'Cancelling' };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, CANCEL_WAIT_MS)))]);
    clearTimeout(timer);
    return true;
  }

  /** Deletes a kept run; refuses the running one ('evaluation_busy': cancel it first) and an unknown id. */
  async delete(id: string): Promise<void> {
    if (id === this.#running?.record.id) throw new EvaluationError('evaluation_busy', 'This evaluation is still running; cancel it before deleting it.');
    if ((await this.#read(id)) === undefined) throw new EvaluationError('not_found', 'There is no such evaluation; it may have been deleted already.');
    await rm(this.#path(id), { force: true });
  }

  /** Cancels any running evaluation and waits for it (the server is stopping). */
  async close(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    running.controller.abort();
    await running.done;
  }

  async #run(record: EvaluationRecord, dataset: string, signal: AbortSignal): Promise<void> {
    const { request } = record;
    const logger = this.#options.logger.child({ evaluation: record.id });
    record.progress = { label: 'Starting', step: 0, steps: stepsOf(request), done: 0, total: 0 };
    let finished: EvaluationRecord;
    try {
      const evaluation = await evaluateDataset(
        { dataset, models: request.models, templates: request.templates, ks: request.ks, ...(request.split === undefined ? {} : { split: request.split }), ...(request.seed === undefined ? {} : { seed: request.seed }) },
        { openModel: this.#options.openModel, logger, signal, onProgress: (progress) => (record.progress = signal.aborted ? { ...progress, label: 'Cancelling' } : progress) },
      );
      finished = { ...record, state: 'done', report: summarize(evaluation) };
      logger.info({ dataset: request.dataset, runs: evaluation.runs.length }, 'evaluation finished');
    } catch (thrown) {
      if (thrown instanceof EvaluationCancelledError || signal.aborted) {
        finished = { ...record, state: 'cancelled' };
        logger.info({ dataset: request.dataset }, 'evaluation cancelled');
      } else {
        const error = asFindimageError(thrown);
        finished = { ...record, state: 'failed', error: { code: error.code, message: error.message } };
        logger.warn({ err: error, code: error.code, dataset: request.dataset }, 'evaluation failed');
      }
    }
    const { progress: _progress, ...kept } = finished;
    try {
      await this.#write({ ...kept, finishedAt: new Date().toISOString() });
    } catch (error) {
      logger.error({ err: error }, 'could not keep the evaluation\'s result');
    } finally {
      this.#running = undefined;
    }
  }

  /** The dataset folder a request names, refused unless it lies inside the datasets folder and holds captions.jsonl. */
  async #datasetDir(name: string): Promise<string> {
    const root = this.#options.datasetsRoot;
    const refuse = (why: string, cause?: unknown) =>
      new EvaluationError('dataset_refused', `${JSON.stringify(name)} ${why}. Datasets are evaluated only from folders inside ${root}.`, cause === undefined ? {} : { cause });
    if (name.trim() === '' || isAbsolute(name) || name.split(/[\\/]/).includes('..')) throw refuse('is not a folder name inside the datasets folder');
    let realRoot: string;
    let realDir: string;
    try {
      realRoot = await realpath(root);
      realDir = await realpath(join(root, name));
    } catch (error) {
      throw refuse('does not exist', error);
    }
    // A link inside the datasets folder may point anywhere: where it really leads is what counts.
    if (!realDir.startsWith(realRoot + sep)) throw refuse('leads outside the datasets folder');
    const captions = await stat(join(realDir, CAPTIONS_FILE)).catch(() => undefined);
    if (captions?.isFile() !== true) throw refuse(`has no ${CAPTIONS_FILE}, so it is not a dataset`);
    return realDir;
  }

  #path(id: string): string {
    return join(this.#options.dir, `${id}.json`);
  }

  async #read(id: string): Promise<EvaluationRecord | undefined> {
    if (!RUN_ID.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(this.#path(id), 'utf8')) as EvaluationRecord;
    } catch {
      return undefined;
    }
  }

  async #readAll(): Promise<EvaluationRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.#options.dir);
    } catch {
      return [];
    }
    const records = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.#read(n.slice(0, -'.json'.length))));
    return records.filter((r): r is EvaluationRecord => r !== undefined);
  }

  /** Writes a record whole or not at all: a temporary file renamed over the old one. */
  async #write(record: EvaluationRecord): Promise<void> {
    await mkdir(this.#options.dir, { recursive: true });
    const temporary = `${this.#path(record.id)}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(record));
    await rename(temporary, this.#path(record.id));
  }

  /** Deletes the oldest finished runs so that, with the one starting, at most MAX_KEPT_RUNS are kept. */
  async #prune(): Promise<void> {
    const finished = (await this.#readAll()).filter((r) => r.state !== 'running').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    for (const record of finished.slice(0, Math.max(0, finished.length - (MAX_KEPT_RUNS - 1)))) await rm(this.#path(record.id), { force: true });
  }
}

/** The report kept for a finished evaluation. */
export function summarize(evaluation: DatasetEvaluation): EvaluationReport {
  const nameOf = (id: string | undefined) => (id === undefined ? '' : (evaluation.rows[evaluation.imageIds.indexOf(id)]?.image ?? id));
  const disagreements = mostDisagreed(evaluation.runs, DISAGREEMENT_QUERIES).map((i) => ({
    query: evaluation.runs[0]?.grades.queries[i]?.text ?? '',
    wanted: nameOf(evaluation.runs[0]?.grades.queries[i]?.relevant[0]),
    runs: evaluation.runs.map((run) => ({ rank: run.grades.queries[i]?.firstRank ?? 0, top: nameOf(run.grades.queries[i]?.top[0]) })),
  }));
  return {
    images: evaluation.images,
    queries: evaluation.queries,
    ks: evaluation.ks,
    seed: evaluation.seed,
    indexing: evaluation.indexing,
    notes: evaluation.notes,
    runs: evaluation.runs.map((run) => ({
      model: run.model,
      templates: run.templates,
      label: runLabel(run),
      queriesPerSecond: run.queriesPerSecond,
      textToImage: run.grades.textToImage,
      imageToText: run.grades.imageToText,
      scores: run.grades.scores,
      ...(run.feedback === undefined ? {} : { feedback: run.feedback }),
    })),
    disagreements,
  };
}
