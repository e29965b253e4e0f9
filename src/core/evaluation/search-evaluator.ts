// Measures the search with the team's own labels: every judged text query is run again and
// its ranking graded with Precision@K, Recall@K and nDCG@K, without and with label feedback.
// With a split, a seeded share of the judged queries is held out: only those are graded, and
// feedback learns from the other queries' labels alone, as it would for questions never judged.
// Each query's side is drawn from its own id, not from its place in the list: as people vote on
// more searches, a query never changes side, so a report's held-out queries stay comparable.
import type { LabelStore } from '../labels/label-store.js';
import type { SearchService } from '../search/search-service.js';
import { createHash } from 'node:crypto';
import { labelledQueries } from './labelled-queries.js';
import { meanMetrics, rankingMetrics, type RankingMetrics } from './ranking-metrics.js';

export interface QueryEvaluation {
  queryId: string;
  text: string;
  /** Images with a net verdict (relevant or not). */
  judged: number;
  plain: RankingMetrics;
  /** With feedback from the other queries' labels (never the query's own, nor a held-out query's). */
  withFeedback?: RankingMetrics;
}

/** Which judged queries are held out from feedback and graded. */
export interface LabelSplit {
  /** Chance of each judged query to be held out (0 < share < 1): about this share of them is. */
  share: number;
  /** Seed of the shuffle that picks them: the same labels and seed hold out the same queries. */
  seed: number;
}

export interface EvaluationReport {
  tenant: string;
  k: number;
  /** The graded queries: every judged one, or with a split only the held-out ones. */
  queries: QueryEvaluation[];
  mean: { plain: RankingMetrics; withFeedback?: RankingMetrics };
  /** With a split: what it held out, of how many judged queries. */
  split?: LabelSplit & { heldOut: number; judged: number };
}

export interface EvaluateSearchOptions {
  search: SearchService;
  labels: LabelStore;
  tenant: string;
  k: number;
  /** Also grade each query with feedback from the labels of other queries of the same text. */
  compareFeedback: boolean;
  /**
   * Hold out a share of the judged queries: only they are graded, and feedback never reads
   * their labels. Absent: every judged query is graded, with feedback from all the others.
   */
  split?: LabelSplit;
}

export async function evaluateSearch(options: EvaluateSearchOptions): Promise<EvaluationReport> {
  const { search, labels, tenant, k, compareFeedback, split } = options;
  const judged = await labelledQueries(labels, tenant);
  const graded = split === undefined ? judged : judged.filter(({ query }) => isHeldOut(query.queryId, split));
  const heldOutIds = split === undefined ? undefined : graded.map(({ query }) => query.queryId);
  const queries: QueryEvaluation[] = [];
  for (const { query, labels: verdicts } of graded) {
    const base = {
      text: query.searchText,
      negativeTerms: query.negativeTerms,
      scope: query.scope,
      filters: query.filters,
      limit: k,
      // Graded as it was run: a search with its own cut-off or prompt template keeps them.
      ...(query.tuning === undefined ? {} : { tuning: query.tuning }),
    };
    const plain = await search.searchText({ ...base, useFeedback: false });
    const evaluation: QueryEvaluation = {
      queryId: query.queryId,
      text: query.text,
      judged: verdicts.size,
      plain: rankingMetrics(plain.hits.map((h) => h.id), verdicts, k),
    };
    if (compareFeedback) {
      // Never the query's own labels; with a split, no held-out query's either.
      const improved = await search.searchText({ ...base, useFeedback: true, feedbackExcludeQueryIds: heldOutIds ?? [query.queryId] });
      evaluation.withFeedback = rankingMetrics(improved.hits.map((h) => h.id), verdicts, k);
    }
    queries.push(evaluation);
  }
  const mean: EvaluationReport['mean'] = { plain: meanMetrics(queries.map((q) => q.plain)) };
  if (compareFeedback) mean.withFeedback = meanMetrics(queries.map((q) => q.withFeedback as RankingMetrics));
  return { tenant, k, queries, mean, ...(split === undefined ? {} : { split: { ...split, heldOut: graded.length, judged: judged.length } }) };
}

/** Whether `split` holds out the query `queryId`: a uniform draw from a hash of the seed and the id. */
export function isHeldOut(queryId: string, split: LabelSplit): boolean {
  const draw = createHash('sha256').update(`${split.seed}:${queryId}`).digest().readUInt32BE(0) / 2 ** 32;
  return draw < split.share;
}
