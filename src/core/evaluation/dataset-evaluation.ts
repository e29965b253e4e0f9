// Grades one or more models, each with one or more sets of prompt templates, on a captioned
// dataset: the images are indexed into a scratch folder of their own (never the user's index),
// then every caption is asked as a query. `findimage eval --dataset` and the web app's "Evaluate
// models" view both run this; how a model is opened is theirs to say (openModel), since core
// knows no model runtime and no configuration.
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Embedder, PreparedImage } from '../embedding/embedder.js';
import { ConfigError, FindimageError, InvalidImageError, asFindimageError } from '../errors.js';
import { ImageIndexer } from '../indexing/image-indexer.js';
import { SearchService } from '../search/search-service.js';
import type { VectorStore } from '../store/vector-store.js';
import { DEFAULT_BOOTSTRAP_SEED } from './bootstrap.js';
import { CAPTIONS_FILE, captionQueries, parseCaptionsJsonl, type CaptionedImage } from './caption-dataset.js';
import { gradeDataset, type DatasetGrades, type GradedQuery } from './dataset-evaluator.js';
import { gradeHeldOut, holdOut, TrainingLabelFeedback, type FeedbackGrades } from './held-out-feedback.js';
import { PromptEnsembleEmbedder } from './prompt-ensemble-embedder.js';
import type { QueryNormalizer } from '../text/query-text.js';


/** Images read and embedded at once while indexing (as `findimage index` does). */
const FILES_IN_FLIGHT = 6;
/** Queries embedded at once: enough to fill the worker pool's batches. */
const QUERIES_IN_FLIGHT = 32;
/** The tenant of the scratch index: it holds the dataset's images only, for no one else. */
const SCRATCH_TENANT = 'local';
/** Shown for a template set that is only "{}": the caption as written. */
export const NO_TEMPLATE = '{}';

/** A model opened for an evaluation, on a scratch store of its own. */
export interface EvaluationModel {
  /** Embeds queries exactly as given (its own templates are just "{}"): the templates are applied here. */
  embedder: Embedder;
  /** Decodes and preprocesses image bytes for this model (throws InvalidImageError). */
  prepareImage(bytes: Uint8Array): Promise<PreparedImage>;
  /** The model family's query clean-up, run before the templates (ModelFamily.normalizeQuery). */
  normalizeQuery: QueryNormalizer;
  /** An empty store in the scratch folder. */
  store: VectorStore;
  /** Closes the store and stops the model's workers. */
  close(): Promise<void>;
}

/**
 * Opens the registered model `modelId` with an empty store in `scratchDir`, laid out as
 * FINDIMAGE_DATA would be so that a kept index can be searched (throws ModelError for an unknown id).
 */
export type OpenEvaluationModel = (modelId: string, scratchDir: string) => Promise<EvaluationModel>;

/** What to evaluate. */
export interface DatasetEvaluationRequest {
  /** The dataset folder (images plus captions.jsonl), already checked by the caller. */
  dataset: string;
  /** Registry ids of the models to grade. */
  models: readonly string[];
  /** Template sets to compare. */
  templates: ReadonlyArray<readonly string[]>;
  /** Cut-offs for Recall@K and Precision@K. */
  ks: readonly number[];
  /** Share of queries held out for grading label feedback (0 < split < 1). */
  split?: number;
  /** Seed of the bootstrap and the split. */
  seed?: number;
  /** Keep the scratch index in this folder (it must be empty or absent); else a temporary one, deleted at the end. */
  keepIndex?: string;
}

/** Where a run is: step `step` of `steps`, `done` of `total` items in it. */
export interface EvaluationProgress {
  /** What is being done, e.g. "Indexing for tiny-test". */
  label: string;
  /** 1-based number of the step. */
  step: number;
  /** Steps in the whole run. */
  steps: number;
  /** Items done in this step. */
  done: number;
  /** Items in this step. */
  total: number;
}

export interface DatasetEvaluationOptions {
  /** Opens each model with an empty store in the scratch folder. */
  openModel: OpenEvaluationModel;
  /** For the indexer and searches the run makes. */
  logger: Logger;
  /** Told as work is done (after each image and query, and at each new step). */
  onProgress?: (progress: EvaluationProgress) => void;
  /** Stops the run: it rejects with an 'aborted' FindimageError, and the scratch index is deleted. */
  signal?: AbortSignal;
}

/** One model with one template set, graded. */
export interface EvalRun {
  /** The model's registry id. */
  model: string;
  /** The prompt templates used for the captions. */
  templates: string[];
  /** Text-to-image and image-to-text grades, per query too. */
  grades: DatasetGrades;
  /** With a split: held-out queries without and with label feedback. */
  feedback?: FeedbackGrades;
  /** Captions embedded per second (after the templates) for this run. */
  queriesPerSecond: number;
}

export interface DatasetEvaluation {
  /** The dataset folder, absolute. */
  dataset: string;
  /** Rows of captions.jsonl. */
  images: number;
  /** Caption queries asked (those of images that could be read). */
  queries: number;
  /** The cut-offs. */
  ks: number[];
  /** Seed of the intervals and the split. */
  seed: number;
  /** Per model: images embedded and stored per second. */
  indexing: Array<{ model: string; imagesPerSecond: number; skipped: Array<{ image: string; reason: string }> }>;
  /** One per model and template set, in the order asked. */
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

/** The error a cancelled run rejects with. */
export class EvaluationCancelledError extends FindimageError {
  constructor() {
    super('aborted', 'The evaluation was cancelled.');
  }
}

/** Reads and parses a dataset's captions.jsonl, with a message that says what a dataset is when there is none. */
export async function readDataset(dir: string): Promise<CaptionedImage[]> {
  let text: string;
  try {
    text = await readFile(join(dir, CAPTIONS_FILE), 'utf8');
  } catch (error) {
    throw new ConfigError(`No ${CAPTIONS_FILE} in ${dir}. A dataset is a folder of images plus ${CAPTIONS_FILE} (see docs/evaluation.md).`, { cause: error });
  }
  return parseCaptionsJsonl(text);
}

/** The configured templates and, to compare, none. */
export function defaultTemplateSets(configured: readonly string[]): string[][] {
  const none = [NO_TEMPLATE];
  return configured.length === 1 && configured[0] === NO_TEMPLATE ? [none] : [[...configured], none];
}

export function describeTemplates(templates: readonly string[]): string {
  return templates.length === 1 && templates[0] === NO_TEMPLATE ? 'no template' : templates.map((t) => `"${t}"`).join(' | ');
}

export function runLabel(run: Pick<EvalRun, 'model' | 'templates'>): string {
  return `${run.model}, ${describeTemplates(run.templates)}`;
}

/** Steps of a run: per model, indexing, then per template set its queries and (with a split) its held-out queries. */
export function stepsOf(request: Pick<DatasetEvaluationRequest, 'models' | 'templates' | 'split'>): number {
  return request.models.length * (1 + request.templates.length * (request.split === undefined ? 1 : 2));
}

/** Runs the evaluation; see the file's comment. */
export async function evaluateDataset(request: DatasetEvaluationRequest, options: DatasetEvaluationOptions): Promise<DatasetEvaluation> {
  const datasetDir = resolve(request.dataset);
  const rows = await readDataset(datasetDir);
  const seed = request.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const tracker = new StepTracker(stepsOf(request), options.onProgress, options.signal);
  const scratch = request.keepIndex === undefined ? await mkdtemp(join(tmpdir(), 'findimage-eval-')) : await emptyFolder(resolve(request.keepIndex));
  const evaluation: DatasetEvaluation = {
    dataset: datasetDir,
    images: rows.length,
    queries: 0,
    ks: [...request.ks],
    seed,
    indexing: [],
    runs: [],
    imageIds: [],
    rows,
    notes: [],
    ...(request.keepIndex === undefined ? {} : { keptIndex: scratch }),
  };
  try {
    for (const requestedId of request.models) {
      tracker.check();
      // Each model has a store file of its own in the scratch folder, where FINDIMAGE_DATA=<scratch> finds it.
      const model = await options.openModel(requestedId, scratch);
      // The registry's own id ("tiny-test:q8" names the variant "tiny-test-q8").
      const modelId = model.embedder.modelId;
      try {
        const indexer = new ImageIndexer({ embedder: model.embedder, store: model.store, prepare: (bytes) => model.prepareImage(bytes), logger: options.logger.child({ component: 'indexer' }) });
        const started = performance.now();
        const { ids, skipped } = await indexDatasetImages(indexer, datasetDir, rows, tracker.start(`Indexing for ${modelId}`, rows.length), options.signal);
        evaluation.indexing.push({ model: modelId, imagesPerSecond: rows.length / ((performance.now() - started) / 1000), skipped });
        evaluation.imageIds = ids.map((id) => id ?? '');
        const queries: GradedQuery[] = captionQueries(rows)
          .filter((q) => ids[q.image] !== undefined)
          .map((q) => ({ text: q.text, relevant: [...new Set(q.relevant.flatMap((i) => (ids[i] === undefined ? [] : [ids[i] as string])))] }));
        evaluation.queries = queries.length;
        const distinctIds = [...new Set(ids.filter((id): id is string => id !== undefined))];
        const images = new Map((await model.store.get(distinctIds, { tenant: SCRATCH_TENANT, withVector: true })).map((p) => [p.id, p.vector as Float32Array]));
        for (const templates of request.templates) {
          const embedder = new PromptEnsembleEmbedder(model.embedder, templates, model.normalizeQuery);
          const label = runLabel({ model: modelId, templates: [...templates] });
          const queryStarted = performance.now();
          const texts = [...new Set(queries.map((q) => q.text))];
          const queryVectors = await embedCaptions(embedder, texts, tracker.start(`Querying ${label}`, texts.length), options.signal);
          const queriesPerSecond = queryVectors.size / ((performance.now() - queryStarted) / 1000);
          const grades = gradeDataset({ images, queries, queryVectors }, request.ks, seed);
          const run: EvalRun = { model: modelId, templates: [...templates], grades, queriesPerSecond };
          if (request.split !== undefined) {
            run.feedback = await gradeFeedback(embedder, model.store, queries, request.split, request.ks, seed, images.size, tracker, label, evaluation.notes, options.logger);
          }
          evaluation.runs.push(run);
        }
      } finally {
        await model.close();
      }
    }
  } finally {
    if (request.keepIndex === undefined) await rm(scratch, { recursive: true, force: true });
  }
  return evaluation;
}

/** Counts steps and items, tells the listener, and stops the run once the signal aborts. */
class StepTracker {
  #step = 0;
  readonly #steps: number;
  readonly #listener: ((progress: EvaluationProgress) => void) | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(steps: number, listener: ((progress: EvaluationProgress) => void) | undefined, signal: AbortSignal | undefined) {
    this.#steps = steps;
    this.#listener = listener;
    this.#signal = signal;
  }

  /** Throws EvaluationCancelledError once the run was cancelled. */
  check(): void {
    if (this.#signal?.aborted === true) throw new EvaluationCancelledError();
  }

  /** Starts the next step of `total` items; call tick() after each. */
  start(label: string, total: number): { tick(): void } {
    this.check();
    this.#step++;
    const progress: EvaluationProgress = { label, step: this.#step, steps: this.#steps, done: 0, total };
    this.#listener?.({ ...progress });
    return {
      tick: () => {
        progress.done++;
        this.#listener?.({ ...progress });
      },
    };
  }
}

async function emptyFolder(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new ConfigError(`The scratch index is kept only in an empty folder, and ${dir} is not empty.`);
  return dir;
}

/**
 * Indexes every row's image, a few at once, skipping unreadable ones (listed with the reason);
 * point ids by row. A ConfigError when none could be read. Also used by `findimage tune`.
 */
export async function indexDatasetImages(indexer: ImageIndexer, dir: string, rows: readonly CaptionedImage[], progress: { tick(): void }, signal?: AbortSignal) {
  const ids: Array<string | undefined> = new Array(rows.length).fill(undefined);
  const skipped: Array<{ image: string; reason: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      if (isAborted(signal)) throw new EvaluationCancelledError();
      const index = next++;
      const row = rows[index] as CaptionedImage;
      const path = join(dir, row.image);
      try {
        const bytes = await readFile(path);
        const result = await indexer.index({ bytes, filename: row.image, path, tenant: SCRATCH_TENANT, source: 'local' }, signal === undefined ? {} : { signal });
        ids[index] = result.id;
      } catch (thrown) {
        if (isAborted(signal)) throw new EvaluationCancelledError();
        const error = asFindimageError(thrown);
        const code = (thrown as NodeJS.ErrnoException).code;
        if (error instanceof InvalidImageError || code === 'ENOENT' || code === 'EISDIR') skipped.push({ image: row.image, reason: code === 'ENOENT' ? 'not found' : error.message });
        else throw error;
      }
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILES_IN_FLIGHT, rows.length) }, worker));
  if (skipped.length === rows.length) throw new ConfigError(`None of the dataset's ${rows.length} images could be read (first: ${skipped[0]?.image}: ${skipped[0]?.reason}).`);
  return { ids, skipped };
}

/** Each text's vector, many at once (on the bulk lane). Also used by `findimage tune`. */
export async function embedCaptions(embedder: Embedder, texts: readonly string[], progress: { tick(): void }, signal?: AbortSignal): Promise<Map<string, Float32Array>> {
  const vectors = new Map<string, Float32Array>();
  let next = 0;
  const worker = async () => {
    while (next < texts.length) {
      if (isAborted(signal)) throw new EvaluationCancelledError();
      const text = texts[next++] as string;
      try {
        vectors.set(text, await embedder.embedQuery(text, { lane: 'bulk', ...(signal === undefined ? {} : { signal }) }));
      } catch (error) {
        if (isAborted(signal)) throw new EvaluationCancelledError();
        throw error;
      }
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(QUERIES_IN_FLIGHT, texts.length) }, worker));
  return vectors;
}

async function gradeFeedback(
  embedder: PromptEnsembleEmbedder,
  store: VectorStore,
  queries: readonly GradedQuery[],
  split: number,
  ks: readonly number[],
  seed: number,
  images: number,
  tracker: StepTracker,
  label: string,
  notes: string[],
  logger: Logger,
): Promise<FeedbackGrades> {
  const held = holdOut(queries.length, split, seed);
  const heldOut = queries.filter((_, i) => held.has(i));
  const feedback = new TrainingLabelFeedback(queries.filter((_, i) => !held.has(i)));
  const search = new SearchService({ embedder, store, minRelativeScore: 0, feedback, logger: logger.child({ component: 'search' }) });
  const progress = tracker.start(`Held-out queries, ${label}`, heldOut.length * 2);
  const grades = await gradeHeldOut({
    search,
    feedback,
    heldOut,
    tenant: SCRATCH_TENANT,
    images,
    ks,
    seed,
    onQuery: () => {
      tracker.check();
      progress.tick();
    },
  });
  if (grades.withFeedback === undefined) {
    const note =
      'Label feedback was not graded: no held-out caption is also a training caption, so Rocchio feedback has no labels to learn from on this dataset. The held-out queries are graded without it.';
    if (!notes.includes(note)) notes.push(note);
  }
  return grades;
}

/** Whether the run was cancelled (a function, so that TypeScript does not narrow it away between awaits). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
