// `findimage tune` without the command line: splits each source's questions into a training
// and a held-out part (seeded, by question), trains a QueryAdapter on the training part, then
// ranks the held-out questions without and with it and decides whether it helps. The rule: the
// 95% bootstrap interval of the held-out nDCG@10 change (adapted minus plain, paired by
// question, pooled over the sources) lies wholly above zero.
import { bootstrap, type Estimate } from '../evaluation/bootstrap.js';
import { NDCG_CUTOFF, type MetricEstimate } from '../evaluation/dataset-evaluator.js';
import { holdOut } from '../evaluation/held-out-feedback.js';
import { ndcgAtK, recallAtK, reciprocalRank, type RelevanceLabels } from '../evaluation/ranking-metrics.js';
import { ConfigError } from '../errors.js';
import { trainAdapter, type EpochProgress, type TrainingQuery, type TrainingResult } from './adapter-trainer.js';
import type { QueryAdapter } from './query-adapter.js';

/** Results ranked per held-out question: the search's page limit, as `eval --split` grades feedback. */
export const HELD_OUT_WINDOW = 100;

/** A question to learn from or to grade with: a caption, or a query a team judged. */
export interface TuningQuestion {
  /** Questions of one group are held out together: one image's captions, one question asked twice. */
  group: string;
  /** The text as asked (for reports). */
  text: string;
  /** Its unit vector as the model embeds it, without any adapter. */
  vector: Float32Array;
  /** Image id to +1 (relevant) or -1 (judged not relevant). */
  labels: RelevanceLabels;
}

/** Where questions and images come from: a captioned dataset, or a tenant's labels and index. */
export interface TuningSource {
  /** Shown in reports ("dataset ./flickr", "tenant T123"). */
  name: string;
  questions: readonly TuningQuestion[];
  /** Unit vectors of every image a question names, and of other images to contrast them with. */
  images: ReadonlyMap<string, Float32Array>;
  /** Ids of the images best matching `vector`, best first, at most `limit`: what a search would rank. */
  rank(vector: Float32Array, limit: number): Promise<string[]>;
}

export interface TuningOptions {
  modelId: string;
  dimension: number;
  /** Share of each source's question groups held out (0 < holdout < 1). */
  holdout: number;
  /** Seed of the split, the training and the bootstrap. */
  seed: number;
  /** Cut-offs for R@K. */
  ks: readonly number[];
  /** Most epochs (default: the trainer's). */
  epochs?: number;
  onEpoch?: (progress: EpochProgress) => void;
  /** Told after each held-out question is ranked both ways. */
  onHeldOut?: () => void;
}

/** One source's held-out questions, graded both ways. */
export interface SourceGrades {
  name: string;
  /** Questions trained on (validation slice included). */
  trainingQuestions: number;
  /** Held-out questions with at least one relevant image: those graded. */
  heldOutQuestions: number;
  /** Their texts, in source order. */
  heldOutTexts: string[];
  plain: MetricEstimate[];
  adapted: MetricEstimate[];
}

export interface TuningReport {
  adapter: QueryAdapter;
  training: Omit<TrainingResult, 'adapter'>;
  sources: SourceGrades[];
  /** Held-out nDCG@10 with the adapter minus without, per question, pooled over sources: mean and 95% interval. */
  ndcgChange: Estimate;
  /** Whether the adapter helps by the rule above. */
  helps: boolean;
}

/** The rule a saved adapter must pass: held-out nDCG@10 up, the whole 95% interval of the change above zero. */
export function adapterHelps(ndcgChange: Estimate): boolean {
  return ndcgChange.low > 0;
}

export async function tuneAdapter(sources: readonly TuningSource[], options: TuningOptions): Promise<TuningReport> {
  const images: Float32Array[] = [];
  const queries: TrainingQuery[] = [];
  const heldOutBySource: TuningQuestion[][] = [];
  const trainingCounts: number[] = [];
  sources.forEach((source, s) => {
    // Image ids are the pool's per source: the same id in two sources may be two different stores' points.
    const index = new Map<string, number>();
    for (const [id, vector] of source.images) {
      index.set(id, images.length);
      images.push(vector);
    }
    const groups = [...new Set(source.questions.map((q) => q.group))];
    const held = holdOut(groups.length, options.holdout, options.seed + s);
    const heldGroups = new Set(groups.filter((_, i) => held.has(i)));
    const training = source.questions.filter((q) => !heldGroups.has(q.group));
    const heldOut = source.questions.filter((q) => heldGroups.has(q.group) && [...q.labels.values()].some((v) => v > 0));
    if (training.length === 0 || heldOut.length === 0) {
      throw new ConfigError(
        `${source.name} has too few questions to tune and grade (${groups.length} groups of questions with relevant images; ${training.length} for training, ${heldOut.length} held out). ` +
          'Gather more labels or captions, or change --holdout.',
      );
    }
    for (const question of training) {
      const pick = (wanted: (v: number) => boolean) =>
        [...question.labels].filter(([id, v]) => wanted(v) && index.has(id)).map(([id]) => index.get(id) as number);
      queries.push({ vector: question.vector, positives: pick((v) => v > 0), negatives: pick((v) => v < 0) });
    }
    heldOutBySource.push(heldOut);
    trainingCounts.push(training.length);
  });
  const { adapter, ...training } = trainAdapter(
    { modelId: options.modelId, dimension: options.dimension, images, queries },
    { seed: options.seed, ...(options.epochs === undefined ? {} : { epochs: options.epochs }), ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }) },
  );
  const changes: number[] = [];
  const grades: SourceGrades[] = [];
  for (const [s, source] of sources.entries()) {
    const plain = new Map<string, number[]>();
    const adapted = new Map<string, number[]>();
    for (const question of heldOutBySource[s] as TuningQuestion[]) {
      const before = metricsOf(await source.rank(question.vector, HELD_OUT_WINDOW), question.labels, options.ks);
      const after = metricsOf(await source.rank(adapter.apply(question.vector), HELD_OUT_WINDOW), question.labels, options.ks);
      for (const [name, value] of before) plain.set(name, [...(plain.get(name) ?? []), value]);
      for (const [name, value] of after) adapted.set(name, [...(adapted.get(name) ?? []), value]);
      changes.push((after.get(`nDCG@${NDCG_CUTOFF}`) as number) - (before.get(`nDCG@${NDCG_CUTOFF}`) as number));
      options.onHeldOut?.();
    }
    const estimates = (values: Map<string, number[]>) => [...values].map(([name, list]) => ({ name, estimate: bootstrap(list, undefined, { seed: options.seed }) }));
    grades.push({
      name: source.name,
      trainingQuestions: trainingCounts[s] as number,
      heldOutQuestions: (heldOutBySource[s] as TuningQuestion[]).length,
      heldOutTexts: (heldOutBySource[s] as TuningQuestion[]).map((q) => q.text),
      plain: estimates(plain),
      adapted: estimates(adapted),
    });
  }
  const ndcgChange = bootstrap(changes, undefined, { seed: options.seed });
  return { adapter, training, sources: grades, ndcgChange, helps: adapterHelps(ndcgChange) };
}

/** R@K per K, nDCG@10 and reciprocal rank of one ranking, by the names `eval` prints. */
function metricsOf(ranked: readonly string[], labels: RelevanceLabels, ks: readonly number[]): Map<string, number> {
  const metrics = new Map<string, number>();
  for (const k of ks) metrics.set(`R@${k}`, recallAtK(ranked, labels, k));
  metrics.set(`nDCG@${NDCG_CUTOFF}`, ndcgAtK(ranked, labels, NDCG_CUTOFF));
  metrics.set('MRR', reciprocalRank(ranked, labels));
  return metrics;
}

/** A rank() over vectors in memory: exact cosine, best first, ties by id order as given. */
export function rankAmong(images: ReadonlyMap<string, Float32Array>): TuningSource['rank'] {
  const ids = [...images.keys()];
  const vectors = ids.map((id) => images.get(id) as Float32Array);
  return async (vector, limit) => {
    const scores = vectors.map((v) => {
      let s = 0;
      for (let k = 0; k < v.length; k++) s += (v[k] as number) * (vector[k] as number);
      return s;
    });
    return ids
      .map((_, i) => i)
      .sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b)
      .slice(0, limit)
      .map((i) => ids[i] as string);
  };
}
