// Relevance feedback from labels: when a question was asked and judged before, the images
// people thumbed up pull the query towards them and those thumbed down push it away
// (Rocchio's method), so the search improves as the team reacts.
import type { LabelStore } from '../labels/label-store.js';
import type { FeedbackExamples, RelevanceFeedback } from '../search/search-service.js';
import { labelledQueries, sameQuestionKey } from './labelled-queries.js';

export class LabelFeedback implements RelevanceFeedback {
  readonly #labels: LabelStore;

  constructor(labels: LabelStore) {
    this.#labels = labels;
  }

  /**
   * Images judged on earlier queries with the same text in this tenant, from any conversation.
   * `excludeQueryIds` leaves those queries' own labels out, so an evaluation never grades a
   * query with itself (nor, with a split, with any held-out query). Which of them may steer a search is the searcher's scope's decision:
   * SearchService reads their vectors through that scope, so an image the searcher cannot see
   * counts for nothing.
   */
  async examplesFor(tenant: string, text: string, excludeQueryIds: readonly string[] = []): Promise<FeedbackExamples> {
    const key = sameQuestionKey(text);
    const excluded = new Set(excludeQueryIds);
    const net = new Map<string, number>();
    for (const { query, labels } of await labelledQueries(this.#labels, tenant)) {
      if (excluded.has(query.queryId) || sameQuestionKey(query.searchText) !== key) continue;
      for (const [imageId, value] of labels) net.set(imageId, (net.get(imageId) ?? 0) + value);
    }
    const positive = [...net].filter(([, v]) => v > 0).map(([id]) => id);
    const negative = [...net].filter(([, v]) => v < 0).map(([id]) => id);
    return { positive, negative };
  }
}
