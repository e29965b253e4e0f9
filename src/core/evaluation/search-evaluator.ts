// Measures the search with the team's own labels: every judged text query is run again and
// its ranking graded with Precision@K, Recall@K and nDCG@K, without and with label feedback.
import type { LabelStore } from '../labels/label-store.js';
import type { SearchService } from '../search/search-service.js';
import { labelledQueries } from './labelled-queries.js';
import { meanMetrics, rankingMetrics, type RankingMetrics } from './ranking-metrics.js';

export interface QueryEvaluation {
  queryId: string;
  text: string;
  /** Images with a net verdict (relevant or not). */
  judged: number;
  plain: RankingMetrics;
  /** With feedback from the other queries' labels (never the query's own). */
  withFeedback?: RankingMetrics;
}

export interface EvaluationReport {
  tenant: string;
  k: number;
  queries: QueryEvaluation[];
  mean: { plain: RankingMetrics; withFeedback?: RankingMetrics };
}

export interface EvaluateSearchOptions {
  search: SearchService;
  labels: LabelStore;
  tenant: string;
  k: number;
  /** Also grade each query with feedback from the labels of other queries of the same text. */
  compareFeedback: boolean;
}

export async function evaluateSearch(options: EvaluateSearchOptions): Promise<EvaluationReport> {
  const { search, labels, tenant, k, compareFeedback } = options;
  const queries: QueryEvaluation[] = [];
  for (const { query, labels: verdicts } of await labelledQueries(labels, tenant)) {
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
      const improved = await search.searchText({ ...base, useFeedback: true, feedbackExcludeQueryId: query.queryId });
      evaluation.withFeedback = rankingMetrics(improved.hits.map((h) => h.id), verdicts, k);
    }
    queries.push(evaluation);
  }
  const mean: EvaluationReport['mean'] = { plain: meanMetrics(queries.map((q) => q.plain)) };
  if (compareFeedback) mean.withFeedback = meanMetrics(queries.map((q) => q.withFeedback as RankingMetrics));
  return { tenant, k, queries, mean };
}
