// Precision@K, Recall@K and nDCG@K of one ranked list against relevance labels: how the
// thumbs-up and thumbs-down a team gave measure the search.

/** Labels of one query: image id to +1 (relevant) or -1 (not relevant). Unlabelled ids count as not relevant. */
export type RelevanceLabels = ReadonlyMap<string, number>;

export interface RankingMetrics {
  precisionAtK: number;
  recallAtK: number;
  ndcgAtK: number;
}

/** Share of the top K results that are labelled relevant (K counts even when fewer results came back). */
export function precisionAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  if (k <= 0) return 0;
  return ranked.slice(0, k).filter((id) => isRelevant(labels, id)).length / k;
}

/** Share of all relevant images that appear in the top K; 0 when no image is labelled relevant. */
export function recallAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  const relevant = [...labels.values()].filter((v) => v > 0).length;
  if (relevant === 0) return 0;
  return ranked.slice(0, k).filter((id) => isRelevant(labels, id)).length / relevant;
}

/**
 * Normalised discounted cumulative gain with binary gains (relevant 1, else 0) and the usual
 * log2(rank + 1) discount; the ideal ranking puts every relevant image first.
 */
export function ndcgAtK(ranked: readonly string[], labels: RelevanceLabels, k: number): number {
  const discount = (rank: number) => 1 / Math.log2(rank + 2);
  let dcg = 0;
  ranked.slice(0, k).forEach((id, rank) => {
    if (isRelevant(labels, id)) dcg += discount(rank);
  });
  const relevant = Math.min(k, [...labels.values()].filter((v) => v > 0).length);
  let ideal = 0;
  for (let rank = 0; rank < relevant; rank++) ideal += discount(rank);
  return ideal === 0 ? 0 : dcg / ideal;
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

function isRelevant(labels: RelevanceLabels, id: string): boolean {
  return (labels.get(id) ?? 0) > 0;
}
