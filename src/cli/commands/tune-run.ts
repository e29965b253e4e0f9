// What `findimage tune` does once its options are parsed: gathers the questions of each source
// (a dataset indexed into a scratch folder, or a tenant's labels and index), tunes and grades the
// adapter in core, saves it when it helps, and prints the result. Loaded only when tune runs: it
// brings the image indexer and sharp, which other one-shot commands must not pay for (issue 11).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { DEFAULT_BOOTSTRAP_SEED } from '../../core/evaluation/bootstrap.js';
import { captionQueries } from '../../core/evaluation/caption-dataset.js';
import { readDataset } from '../../core/evaluation/dataset-evaluation.js';
import { DEFAULT_EVAL_KS } from '../../core/evaluation/evaluation-defaults.js';
import type { MetricEstimate } from '../../core/evaluation/dataset-evaluator.js';
import { labelledQueries, sameQuestionKey } from '../../core/evaluation/labelled-queries.js';
import { PromptEnsembleEmbedder } from '../../core/evaluation/prompt-ensemble-embedder.js';
import { ConfigError, FindimageError } from '../../core/errors.js';
import { ImageIndexer } from '../../core/indexing/image-indexer.js';
import { findModelSpec } from '../../core/models/registered-models.js';
import { encodeAdapterFile, weightsSha256 } from '../../core/tuning/adapter-file.js';
import { MAX_EPOCHS } from '../../core/tuning/adapter-trainer.js';
import { rankAmong, tuneAdapter, type TuningQuestion, type TuningReport, type TuningSource } from '../../core/tuning/adapter-tuning.js';
import { evaluationModelOpener } from '../../evaluation-models.js';
import type { Findimage } from '../../findimage.js';
import { MANY_QUERIES, type CommandContext } from '../command-context.js';
import { LOCAL_TENANT } from '../local-scope.js';
import type { Terminal } from '../terminal.js';
import { embedQueries, indexRows } from './eval-dataset-command.js';

/**
 * Top hits of each labelled question's plain search added as images to contrast with: what the
 * search showed beside the ones judged. People judge a few results; the rest of the index is
 * what a better query should still rank below the thumbs-up.
 */
const CONTEXT_HITS = 20;

/** What `findimage tune` accepts. */
export interface TuneOptions {
  /** Learn from this tenant's labels. */
  tenant?: string;
  /** Learn from this captioned dataset folder. */
  dataset?: string;
  /** Share of each source's questions held out for grading. */
  holdout: number;
  /** Seed of the split, the training and the bootstrap (default DEFAULT_BOOTSTRAP_SEED). */
  seed?: number;
  /** Cut-offs for R@K (default 1, 5, 10). */
  k?: number[];
  /** Most epochs (default MAX_EPOCHS). */
  epochs?: number;
  /** Save even when the adapter does not help. */
  force: boolean;
  /** Where to save it (default under FINDIMAGE_DATA/adapters). */
  out?: string;
  /** Print JSON instead of the table. */
  json: boolean;
}

/** Runs `findimage tune` with parsed options. */
export async function runTune(options: TuneOptions, { terminal, settings, withCore }: CommandContext): Promise<void> {
  if (options.tenant === undefined && options.dataset === undefined) {
    throw new ConfigError('Give --tenant <id> to learn from the labels a team gave, --dataset <dir> to learn from a captioned dataset, or both.');
  }
  if (options.epochs === 0) throw new ConfigError('--epochs must be 1 or more.');
  const { config, logger } = settings();
  if (config.adapter !== undefined) {
    terminal.err(`FINDIMAGE_ADAPTER is set (${config.adapter.path}): tune learns from the model's own query vectors and compares with plain search, without that adapter.`);
  }
  const started = performance.now();
  const sources: TuningSource[] = [];
  if (options.dataset !== undefined) sources.push(await datasetSource(config, logger, resolve(options.dataset), terminal));
  const tenant = options.tenant;
  if (tenant === undefined) {
    const model = findModelSpec(config.model, config.dataDir);
    await finish(config, model, sources, options, terminal, started);
    return;
  }
  await withCore(MANY_QUERIES, async (findimage) => {
    sources.push(await tenantSource(findimage, tenant, terminal));
    await finish(config, findimage.model, sources, options, terminal, started);
  });
}

/** The dataset's images indexed in a scratch folder (never the user's index), its captions embedded as searches embed queries. */
async function datasetSource(config: Config, logger: Logger, dir: string, terminal: Terminal): Promise<TuningSource> {
  const rows = await readDataset(dir);
  const model = findModelSpec(config.model, config.dataDir);
  const scratch = await mkdtemp(join(tmpdir(), 'findimage-tune-'));
  try {
    // The model as `eval --dataset` opens it: an empty embedded store in the scratch folder.
    const opened = await evaluationModelOpener(config, logger)(model.id, scratch);
    try {
      const indexer = new ImageIndexer({ embedder: opened.embedder, store: opened.store, prepare: (bytes) => opened.prepareImage(bytes), logger: logger.child({ component: 'indexer' }) });
      const { ids, skipped } = await indexRows(indexer, dir, rows, terminal, model.id);
      for (const s of skipped) terminal.err(`Skipped ${s.image}: ${s.reason}`);
      const queries = captionQueries(rows).filter((q) => ids[q.image] !== undefined);
      const distinct = [...new Set(ids.filter((id): id is string => id !== undefined))];
      const images = new Map((await opened.store.get(distinct, { tenant: LOCAL_TENANT, withVector: true })).map((p) => [p.id, p.vector as Float32Array]));
      // The templates searches use (FINDIMAGE_PROMPT_TEMPLATES): the adapter learns on the vectors it will be given.
      const embedder = new PromptEnsembleEmbedder(opened.embedder, config.promptTemplates, opened.normalizeQuery);
      const vectors = await embedQueries(embedder, queries.map((q) => ({ text: q.text, relevant: [] })), terminal, `Embedding captions for ${model.id}`);
      const questions: TuningQuestion[] = queries.map((q) => ({
        // One image's captions are held out together: its paraphrases never straddle the split.
        group: `image ${q.image}`,
        text: q.text,
        vector: vectors.get(q.text) as Float32Array,
        labels: new Map(q.relevant.flatMap((row) => (ids[row] === undefined ? [] : [[ids[row] as string, 1] as const]))),
      }));
      return { name: `dataset ${dir}`, questions, images, rank: rankAmong(images) };
    } finally {
      await opened.close();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A tenant's judged text queries, with the vectors of the images judged and of what the search showed beside them. */
async function tenantSource(findimage: Findimage, tenant: string, terminal: Terminal): Promise<TuningSource> {
  const judged = await labelledQueries(findimage.labels, tenant);
  const scope = { tenant };
  const questions: TuningQuestion[] = [];
  const wanted = new Set<string>();
  const progress = terminal.progress(judged.length, `Embedding the labelled queries of ${tenant}`);
  try {
    for (const { query, labels } of judged) {
      // The model's own embedder: tune learns from vectors without any adapter.
      const vector = await findimage.embedder.embedQuery(query.searchText, { lane: 'bulk' });
      questions.push({ group: sameQuestionKey(query.searchText), text: query.searchText, vector, labels });
      for (const id of labels.keys()) wanted.add(id);
      for (const hit of await findimage.store.query(vector, { filter: scope, limit: CONTEXT_HITS })) wanted.add(hit.id);
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  const points = await findimage.store.get([...wanted], { ...scope, withVector: true });
  const images = new Map(points.flatMap((p) => (p.vector === undefined ? [] : [[p.id, p.vector] as const])));
  return {
    name: `tenant ${tenant}`,
    questions,
    images,
    // Held-out questions are ranked over the tenant's whole index, as its searches are.
    rank: async (vector, limit) => (await findimage.store.query(vector, { filter: scope, limit })).map((hit) => hit.id),
  };
}

/** What `--json` prints. */
interface TuneResult {
  model: string;
  seed: number;
  holdout: number;
  sources: Array<{ name: string; trainingQuestions: number; heldOutQuestions: number; plain: Record<string, Estimate>; adapted: Record<string, Estimate> }>;
  training: { epochs: number; bestEpoch: number; stoppedEarly: boolean; trainingQueries: number; validationQueries: number; distanceFromIdentity: number };
  ndcgChange: Estimate;
  helps: boolean;
  /** Where the adapter was saved; null when it was not. */
  saved: string | null;
  /** Wall time of the whole command, and of training and grading alone (after indexing and embedding). */
  seconds: { total: number; training: number };
}
type Estimate = MetricEstimate['estimate'];

async function finish(config: Config, model: { id: string; dimension: number }, sources: TuningSource[], options: TuneOptions, terminal: Terminal, started: number): Promise<void> {
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const ks = options.k ?? [...DEFAULT_EVAL_KS];
  const progress = terminal.progress(options.epochs ?? MAX_EPOCHS, 'Training the adapter');
  const trainingStarted = performance.now();
  const report = await tuneAdapter(sources, {
    modelId: model.id,
    dimension: model.dimension,
    holdout: options.holdout,
    seed,
    ks,
    ...(options.epochs === undefined ? {} : { epochs: options.epochs }),
    onEpoch: (e) => progress.tick(`epoch ${e.epoch}`),
  }).finally(() => progress.stop());
  let saved: string | null = null;
  if (report.helps || options.force) saved = await save(config, model.id, report, options, seed, sources);
  const trainingSeconds = (performance.now() - trainingStarted) / 1000;
  const result = resultOf(model.id, seed, options.holdout, report, saved, { total: (performance.now() - started) / 1000, training: trainingSeconds });
  if (options.json) terminal.out(JSON.stringify(result));
  else printResult(result, options.force, terminal);
}

async function save(config: Config, modelId: string, report: TuningReport, options: TuneOptions, seed: number, sources: readonly TuningSource[]): Promise<string> {
  const path = resolve(options.out ?? join(config.dataDir, 'adapters', `${modelId}-${weightsSha256(report.adapter.weights).slice(0, 12)}.json`));
  const training = {
    createdAt: new Date().toISOString(),
    sources: sources.map((s) => s.name),
    seed,
    holdout: options.holdout,
    forced: !report.helps,
    bestEpoch: report.training.bestEpoch,
    heldOut: Object.fromEntries(
      report.sources.map((s) => [s.name, { questions: s.heldOutQuestions, plain: asRecord(s.plain), adapted: asRecord(s.adapted) }]),
    ),
    ndcgChange: report.ndcgChange,
  };
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, encodeAdapterFile(report.adapter, training));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FindimageError('config_invalid', `Cannot write the adapter to ${path} (${reason}). Give --out a file in a folder that can be written.`, { cause: error, details: { path } });
  }
  return path;
}

function resultOf(modelId: string, seed: number, holdout: number, report: TuningReport, saved: string | null, seconds: TuneResult['seconds']): TuneResult {
  return {
    model: modelId,
    seed,
    holdout,
    sources: report.sources.map((s) => ({ name: s.name, trainingQuestions: s.trainingQuestions, heldOutQuestions: s.heldOutQuestions, plain: asRecord(s.plain), adapted: asRecord(s.adapted) })),
    training: {
      epochs: report.training.epochs.length,
      bestEpoch: report.training.bestEpoch,
      stoppedEarly: report.training.stoppedEarly,
      trainingQueries: report.training.trainingQueries,
      validationQueries: report.training.validationQueries,
      distanceFromIdentity: report.adapter.distanceFromIdentity(),
    },
    ndcgChange: report.ndcgChange,
    helps: report.helps,
    saved,
    seconds,
  };
}

function printResult(result: TuneResult, forced: boolean, terminal: Terminal): void {
  const t = result.training;
  terminal.out(
    `Model ${result.model}: trained on ${t.trainingQueries} questions (${t.validationQueries} more to stop early), ${t.epochs} epochs, kept epoch ${t.bestEpoch}` +
      ` (||W - I|| = ${t.distanceFromIdentity.toFixed(3)}); ${result.seconds.training.toFixed(1)} s training and grading, ${result.seconds.total.toFixed(1)} s in all. 95% bootstrap intervals, seed ${result.seed}.`,
  );
  for (const source of result.sources) {
    terminal.out(`Held-out questions of ${source.name}: ${source.heldOutQuestions} (trained on ${source.trainingQuestions}):`);
    const names = Object.keys(source.plain);
    const rows = names.map((name) => [name, format(source.plain[name] as Estimate), format(source.adapted[name] as Estimate)]);
    printTable(terminal, ['metric', 'plain search', 'with the adapter'], rows);
  }
  const change = result.ndcgChange;
  terminal.out(`nDCG@10 change on held-out questions: ${signed(change.value)} [${signed(change.low)}, ${signed(change.high)}]`);
  if (result.helps) terminal.out('The adapter helps: the whole interval of the change is above zero.');
  else if (change.high < 0) terminal.out('The adapter makes search worse on held-out questions: the whole interval of the change is below zero.');
  else terminal.out('The adapter does not clearly help: the interval of the change reaches zero.');
  if (result.saved !== null) {
    terminal.out(`${forced && !result.helps ? 'Saved anyway (--force)' : 'Saved'} to ${result.saved}. Adopt it with FINDIMAGE_ADAPTER=${result.saved}`);
  } else terminal.out('Not saved (--force saves it anyway).');
}

function asRecord(metrics: readonly MetricEstimate[]): Record<string, Estimate> {
  return Object.fromEntries(metrics.map((m) => [m.name, m.estimate]));
}

function format(e: Estimate): string {
  return `${e.value.toFixed(3)} [${e.low.toFixed(3)}, ${e.high.toFixed(3)}]`;
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;
}

function printTable(terminal: Terminal, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  terminal.out(line(header));
  for (const row of rows) terminal.out(line(row));
}
