// Grades one model (with one set of prompt templates) on a captioned dataset from its vectors:
// text-to-image (each caption ranks every image) and image-to-text (each image ranks every
// caption), with bootstrap intervals. Pure arithmetic on unit vectors, so it is exact and fast;
// the vectors come from the same store `findimage search` reads, which ranks by the same cosine.
import { bootstrap, median, type Estimate } from './bootstrap.js';
import { hitAtK, ndcgAtK, precisionAtK, recallAtK, reciprocalRank, firstRelevantRank } from './ranking-metrics.js';

/** nDCG is reported at this cut-off, as in most retrieval papers. */
export const NDCG_CUTOFF = 10;
/** Bins of each score histogram in the report. */
export const SCORE_BINS = 40;
/** Ids of the best results kept per query, for the report's pictures. */
const TOP_KEPT = 3;

/** A caption query with the point ids it should find. */
export interface GradedQuery {
  text: string;
  /** Point ids of the relevant images. */
  relevant: readonly string[];
}

export interface DatasetVectors {
  /** Every distinct image's point id and unit vector. */
  images: ReadonlyMap<string, Float32Array>;
  /** The queries, in dataset order. */
  queries: readonly GradedQuery[];
  /** Unit vector of each distinct query text (after the prompt templates). */
  queryVectors: ReadonlyMap<string, Float32Array>;
}

/** How one query fared. */
export interface QueryOutcome {
  text: string;
  /** 1-based rank of the first relevant image. */
  firstRank: number;
  /** The best few image ids, best first. */
  top: string[];
  /** Point ids of the relevant images. */
  relevant: string[];
  /** Score of each relevant image. */
  relevantScores: number[];
}

/** Counts of scores in equal-width bins from `min` to `max`. */
export interface ScoreHistogram {
  min: number;
  max: number;
  counts: number[];
}

/** A named metric with its interval. */
export interface MetricEstimate {
  /** "R@1", "P@5", "nDCG@10", "MRR", "median rank". */
  name: string;
  estimate: Estimate;
}

export interface DatasetGrades {
  /** Text to image: Recall@K and Precision@K per K, nDCG@10, MRR, median rank. */
  textToImage: MetricEstimate[];
  /** Image to text: Recall@K per K (an image counts as found when any of its captions is in the top K). */
  imageToText: MetricEstimate[];
  queries: QueryOutcome[];
  /** Cosine scores of relevant (query, image) pairs and of all other pairs, on one scale. */
  scores: { relevant: ScoreHistogram; irrelevant: ScoreHistogram };
}

/** Text-to-image and image-to-text grades of one set of vectors. */
export function gradeDataset(vectors: DatasetVectors, ks: readonly number[], seed?: number): DatasetGrades {
  const imageIds = [...vectors.images.keys()];
  const imageVectors = imageIds.map((id) => vectors.images.get(id) as Float32Array);
  const relevantScores: number[] = [];
  const irrelevantScores: number[] = [];
  const perMetric = new Map<string, number[]>();
  const push = (name: string, value: number) => {
    const list = perMetric.get(name) ?? [];
    list.push(value);
    perMetric.set(name, list);
  };
  const queries: QueryOutcome[] = [];
  // Scores of each distinct text against each image, reused by image-to-text.
  const textScores = new Map<string, Float64Array>();
  for (const query of vectors.queries) {
    let scores = textScores.get(query.text);
    if (scores === undefined) {
      const vector = vectors.queryVectors.get(query.text);
      if (vector === undefined) throw new Error(`no vector for query "${query.text}"`);
      scores = Float64Array.from(imageVectors, (image) => dot(vector, image));
      textScores.set(query.text, scores);
    }
    const ranked = rankIds(imageIds, scores);
    const labels = new Map(query.relevant.map((id) => [id, 1]));
    for (const k of ks) push(`R@${k}`, recallAtK(ranked, labels, k));
    for (const k of ks) push(`P@${k}`, precisionAtK(ranked, labels, k));
    push(`nDCG@${NDCG_CUTOFF}`, ndcgAtK(ranked, labels, NDCG_CUTOFF));
    push('MRR', reciprocalRank(ranked, labels));
    const firstRank = firstRelevantRank(ranked, labels) ?? imageIds.length + 1;
    push('median rank', firstRank);
    const relevant = new Set(query.relevant);
    const own: number[] = [];
    imageIds.forEach((id, i) => {
      const score = (scores as Float64Array)[i] as number;
      if (relevant.has(id)) {
        relevantScores.push(score);
        own.push(score);
      } else irrelevantScores.push(score);
    });
    queries.push({ text: query.text, firstRank, top: ranked.slice(0, TOP_KEPT), relevant: [...query.relevant], relevantScores: own });
  }
  const textToImage = [...perMetric].map(([name, values]) => ({
    name,
    estimate: bootstrap(values, name === 'median rank' ? median : undefined, seed === undefined ? {} : { seed }),
  }));
  return {
    textToImage,
    imageToText: gradeImageToText(imageIds, vectors.queries, textScores, ks, seed),
    queries,
    scores: histograms(relevantScores, irrelevantScores),
  };
}

/** Each image ranks every distinct caption text; found at K when one of its own captions is in the top K. */
function gradeImageToText(
  imageIds: readonly string[],
  queries: readonly GradedQuery[],
  textScores: ReadonlyMap<string, Float64Array>,
  ks: readonly number[],
  seed: number | undefined,
): MetricEstimate[] {
  const texts = [...textScores.keys()];
  const captionsOf = new Map<string, Map<string, number>>();
  for (const query of queries) {
    for (const id of query.relevant) {
      const labels = captionsOf.get(id) ?? new Map<string, number>();
      labels.set(query.text, 1);
      captionsOf.set(id, labels);
    }
  }
  const hits = new Map(ks.map((k) => [k, [] as number[]]));
  imageIds.forEach((id, i) => {
    const labels = captionsOf.get(id);
    if (labels === undefined) return;
    const scores = Float64Array.from(texts, (text) => (textScores.get(text) as Float64Array)[i] as number);
    const ranked = rankIds(texts, scores);
    for (const k of ks) hits.get(k)?.push(hitAtK(ranked, labels, k));
  });
  return ks.map((k) => ({ name: `R@${k}`, estimate: bootstrap(hits.get(k) ?? [], undefined, seed === undefined ? {} : { seed }) }));
}

/** Ids by score, best first; equal scores keep the given order. */
function rankIds(ids: readonly string[], scores: Float64Array): string[] {
  const order = Array.from(ids.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return order.map((i) => ids[i] as string);
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function histograms(relevant: readonly number[], irrelevant: readonly number[]): DatasetGrades['scores'] {
  let min = Infinity;
  let max = -Infinity;
  for (const list of [relevant, irrelevant]) {
    for (const v of list) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!Number.isFinite(min)) [min, max] = [0, 0];
  const count = (list: readonly number[]) => {
    const counts = new Array<number>(SCORE_BINS).fill(0);
    const width = (max - min) / SCORE_BINS;
    for (const v of list) {
      const bin = width === 0 ? 0 : Math.min(SCORE_BINS - 1, Math.floor((v - min) / width));
      counts[bin] = (counts[bin] as number) + 1;
    }
    return counts;
  };
  return { relevant: { min, max, counts: count(relevant) }, irrelevant: { min, max, counts: count(irrelevant) } };
}
