// Grading a method fitted on labels (Rocchio relevance feedback) fairly on a dataset: the
// queries are split, the training part's captions become the labels, and only the held-out
// part is graded, with and without feedback, through the real SearchService.
import { MAX_PAGE_SIZE, type FeedbackExamples, type RelevanceFeedback, type SearchService } from '../search/search-service.js';
import { bootstrap, seededRandom } from './bootstrap.js';
import type { GradedQuery, MetricEstimate } from './dataset-evaluator.js';
import { NDCG_CUTOFF } from './dataset-evaluator.js';
import { sameQuestionKey } from './labelled-queries.js';
import { ndcgAtK, recallAtK, reciprocalRank } from './ranking-metrics.js';

/** Which queries are held out: a seeded shuffle, so a split is the same on every run. */
export function holdOut(count: number, fraction: number, seed: number): Set<number> {
  const order = Array.from({ length: count }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return new Set(order.slice(0, Math.round(count * fraction)));
}

/** Feedback whose labels are the training queries' relevant images: what a team's thumbs-up would be. */
export class TrainingLabelFeedback implements RelevanceFeedback {
  readonly #positive = new Map<string, Set<string>>();

  constructor(training: readonly GradedQuery[]) {
    for (const query of training) {
      const key = sameQuestionKey(query.text);
      const set = this.#positive.get(key) ?? new Set<string>();
      for (const id of query.relevant) set.add(id);
      this.#positive.set(key, set);
    }
  }

  /** Whether any training query asked this question (else feedback has nothing to learn from). */
  knows(text: string): boolean {
    return this.#positive.has(sameQuestionKey(text));
  }

  async examplesFor(_tenant: string, text: string): Promise<FeedbackExamples> {
    return { positive: [...(this.#positive.get(sameQuestionKey(text)) ?? [])], negative: [] };
  }
}

export interface FeedbackGrades {
  /** Held-out queries graded. */
  heldOut: number;
  /** Held-out queries whose question also appears in the training part (feedback can only move these). */
  withLabels: number;
  /** Results ranked per query: the search's page limit, so ranks beyond it count as not found. */
  window: number;
  plain: MetricEstimate[];
  /** Absent when no held-out query has training labels: nothing would be fitted. */
  withFeedback?: MetricEstimate[];
}

/**
 * Grades the held-out queries through `search` (whose feedback must be a TrainingLabelFeedback
 * built from the other queries), without and with feedback, by Recall@K, nDCG@10 and MRR.
 */
export async function gradeHeldOut(options: {
  search: SearchService;
  feedback: TrainingLabelFeedback;
  heldOut: readonly GradedQuery[];
  tenant: string;
  images: number;
  ks: readonly number[];
  seed?: number;
  onQuery?: () => void;
}): Promise<FeedbackGrades> {
  const { search, feedback, heldOut, tenant, ks } = options;
  const window = Math.min(options.images, MAX_PAGE_SIZE);
  const withLabels = heldOut.filter((q) => feedback.knows(q.text)).length;
  const grade = async (useFeedback: boolean): Promise<MetricEstimate[]> => {
    const perMetric = new Map<string, number[]>();
    const push = (name: string, value: number) => perMetric.set(name, [...(perMetric.get(name) ?? []), value]);
    for (const query of heldOut) {
      const { hits } = await search.searchText({ text: query.text, scope: { tenant }, limit: window, useFeedback });
      const ranked = hits.map((h) => h.id);
      const labels = new Map(query.relevant.map((id) => [id, 1]));
      for (const k of ks) push(`R@${k}`, recallAtK(ranked, labels, k));
      push(`nDCG@${NDCG_CUTOFF}`, ndcgAtK(ranked, labels, NDCG_CUTOFF));
      push('MRR', reciprocalRank(ranked, labels));
      options.onQuery?.();
    }
    return [...perMetric].map(([name, values]) => ({ name, estimate: bootstrap(values, undefined, options.seed === undefined ? {} : { seed: options.seed }) }));
  };
  const plain = await grade(false);
  if (withLabels === 0) return { heldOut: heldOut.length, withLabels, window, plain };
  return { heldOut: heldOut.length, withLabels, window, plain, withFeedback: await grade(true) };
}
