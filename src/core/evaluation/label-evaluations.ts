// The labels graded at several cut-offs, as the web page plots them, kept until they could change:
// every labelled search is run again (twice, with and without feedback) at each cut-off, which
// costs a text embedding per query and K, so a page load must not redo it while nothing changed.
// The cache is keyed by a version of the tenant's labels (a digest of every vote, read from the
// label store itself, so a vote given through another replica or a chat bot counts too) and the
// number of images the tenant can search (an upload or deletion moves the rankings).
import { createHash } from 'node:crypto';
import type { Label, LabelStore } from '../labels/label-store.js';
import type { SearchService } from '../search/search-service.js';
import type { VectorStore } from '../store/vector-store.js';
import type { RankingMetrics } from './ranking-metrics.js';
import { evaluateSearch, type LabelSplit, type QueryEvaluation } from './search-evaluator.js';

/** Reports kept: one per split a visitor asked for recently; a few splits are compared at most. */
const MAX_CACHED_REPORTS = 8;

/** One point of the curves. */
export interface LabelCurvePoint {
  /** The cut-off. */
  k: number;
  /** Mean metrics of plain search. */
  plain: RankingMetrics;
  /** Mean metrics with feedback from other queries' labels. */
  withFeedback?: RankingMetrics;
}

/** The labels graded at every cut-off, and at one cut-off query by query. */
export interface LabelEvaluation {
  tenant: string;
  /** The cut-off of `queries`. */
  k: number;
  /** Mean metrics per cut-off. */
  curve: LabelCurvePoint[];
  /** The graded queries at `k`. */
  queries: QueryEvaluation[];
  /** With a split: what it held out of how many judged queries. */
  split?: LabelSplit & { heldOut: number; judged: number };
  /** The labels version graded (changes with every vote). */
  labelsVersion: string;
  /** When it was computed (ISO 8601): the same on every load until the labels change. */
  computedAt: string;
}

export interface LabelEvaluationsOptions {
  /** The search graded, with feedback from labels. */
  search: SearchService;
  /** The labels, and their version. */
  labels: LabelStore;
  /** Counted per tenant: new or deleted images change the rankings. */
  store: VectorStore;
  /** The cut-offs of the curves. */
  ks: readonly number[];
  /** The cut-off of the per-query table. */
  tableK: number;
}

/** Grades a tenant's labels, recomputing only when the labels or the tenant's images changed. */
export class LabelEvaluations {
  readonly #options: LabelEvaluationsOptions;
  /** Reports by key, least recently used first. */
  readonly #cache = new Map<string, Promise<LabelEvaluation>>();

  constructor(options: LabelEvaluationsOptions) {
    this.#options = options;
  }

  /** The report for `tenant` (with `split`, only its held-out queries), from the cache when nothing changed. */
  async evaluate(tenant: string, split?: LabelSplit): Promise<LabelEvaluation> {
    const labelsVersion = labelsVersionOf(await this.#options.labels.listLabels({ tenant }));
    const images = await this.#options.store.count({ tenant });
    const key = JSON.stringify([tenant, split?.share ?? null, split?.seed ?? null, labelsVersion, images]);
    let report = this.#cache.get(key);
    if (report === undefined) {
      report = this.#compute(tenant, split, labelsVersion);
      // A failed computation is not kept: the next load tries again.
      report.catch(() => this.#cache.delete(key));
    }
    this.#cache.delete(key);
    this.#cache.set(key, report);
    while (this.#cache.size > MAX_CACHED_REPORTS) this.#cache.delete(this.#cache.keys().next().value as string);
    return report;
  }

  async #compute(tenant: string, split: LabelSplit | undefined, labelsVersion: string): Promise<LabelEvaluation> {
    const { search, labels, ks, tableK } = this.#options;
    const grade = (k: number) => evaluateSearch({ search, labels, tenant, k, compareFeedback: true, ...(split === undefined ? {} : { split }) });
    const curve: LabelCurvePoint[] = [];
    for (const k of ks) {
      const report = await grade(k);
      curve.push({ k, plain: report.mean.plain, ...(report.mean.withFeedback === undefined ? {} : { withFeedback: report.mean.withFeedback }) });
    }
    const table = await grade(tableK);
    return {
      tenant,
      k: tableK,
      curve,
      queries: table.queries,
      ...(table.split === undefined ? {} : { split: table.split }),
      labelsVersion,
      computedAt: new Date().toISOString(),
    };
  }
}

/** A digest of every vote (who, on what, which way, when): any vote given or taken back changes it. */
function labelsVersionOf(labels: readonly Label[]): string {
  const lines = labels.map((l) => JSON.stringify([l.queryId, l.imageId, l.user, l.value, l.createdAt.toISOString()])).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}
