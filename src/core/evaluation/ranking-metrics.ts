// Precision@K, Recall@K, nDCG@K, reciprocal rank and the rank of the first relevant result of one
// ranked list against relevance labels: how the thumbs-up and thumbs-down a team gave, or a
// dataset's captions, measure the search. An id repeated in a ranking counts once, at its first
// place: a relevant image shown twice was still found once, so recall never exceeds 1.

/** Labels of one query: image id to +1 (relevant) or -1 (not relevant). Unlabelled ids count as not relevant. */
export type RelevanceLabels = ReadonlyMap<string, number>;

/** The metrics of one ranking at one cut-off K. */
export interface RankingMetrics {
  /** Share of the top K places holding a relevant image. */
  precisionAtK: number;
  /** Share of the relevant images found in the top K. */
  recallAtK: number;
  /** Normalised discounted cumulative gain of the top K. */
  ndcgAtK: number;
}

/** The ranking with every id after its first occurrence dropped (order kept). */
export function distinctRanking(ranked: readonly string[]): string[] {
  return [...new Set(ranked)];
}

/** Share of the top K results that are labelled relevant (K counts even when fewer results came back). */
export function precisionAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  if (k <= 0) return 0;
  return relevantInTop(ranked, labels, k) / k;
}

/** Share of all relevant images that appear in the top K; 0 when no image is labelled relevant. */
export function recallAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  const relevant = relevantCount(labels);
  if (relevant === 0) return 0;
  return relevantInTop(ranked, labels, k) / relevant;
}

/** 1 when at least one relevant image is in the top K, else 0 (the "R@K" of caption retrieval papers). */
export function hitAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  return relevantInTop(ranked, labels, k) > 0 ? 1 : 0;
}

/**
 * Normalised discounted cumulative gain with binary gains (relevant 1, else 0) and the usual
 * log2(rank + 1) discount; the ideal ranking puts every relevant image first.
 */
export function ndcgAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  const discount = (rank: number) => 1 / Math.log2(rank + 2);
  let dcg = 0;
  distinctRanking(ranked)
    .slice(0, Math.max(0, k))
    .forEach((id, rank) => {
      if (isRelevant(labels, id)) dcg += discount(rank);
    });
  const relevant = Math.min(k, relevantCount(labels));
  let ideal = 0;
  for (let rank = 0; rank < relevant; rank++) ideal += discount(rank);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** 1-based rank of the first relevant image among distinct ids; undefined when none is ranked. */
export function firstRelevantRank(ranked: readonly string[], labels: RelevanceLabels): number | undefined {
  const index = distinctRanking(ranked).findIndex((id) => isRelevant(labels, id));
  return index === -1 ? undefined : index + 1;
}

/** 1 / rank of the first relevant image; 0 when none is ranked (its mean over queries is MRR). */
export function reciprocalRank(ranked: readonly string[], labels: RelevanceLabels): number {
  const rank = firstRelevantRank(ranked, labels);
  return rank === undefined ? 0 : 1 / rank;
}

export function rankingMetrics(ranked: readonly string[], labels: RelevanceLabels, k: number): RankingMetrics {
  return {
    precisionAtK: precisionAtK(ranked, labels, k),
    recallAtK: recallAtK(ranked, labels, k),
    ndcgAtK: ndcgAtK(ranked, labels, k),
  };
}

/** The mean of each metric over queries (0 for none). */
export function meanMetrics(all: readonly RankingMetrics[]): RankingMetrics {
  const n = all.length;
  const sum = (pick: (m: RankingMetrics) => number) => (n === 0 ? 0 : all.reduce((s, m) => s + pick(m), 0) / n);
  return {
    precisionAtK: sum((m) => m.precisionAtK),
    recallAtK: sum((m) => m.recallAtK),
    ndcgAtK: sum((m) => m.ndcgAtK),
  };
}

function relevantInTop(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  return distinctRanking(ranked)
    .slice(0, Math.max(0, k))
    .filter((id) => isRelevant(labels, id)).length;
}

function relevantCount(labels: RelevanceLabels): number {
  return [...labels.values()].filter((v) => v > 0).length;
}

function isRelevant(labels: RelevanceLabels, id: string): boolean {
  return (labels.get(id) ?? 0) > 0;
}
