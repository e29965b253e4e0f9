// The queries on which evaluation runs disagree most: where one model or template set answers
// well and another badly. Both the CLI's HTML report and the web app's report list them.
import type { EvalRun } from './dataset-evaluation.js';

/** Queries listed where the runs disagree: enough to see a pattern, few enough to keep a report small. */
export const DISAGREEMENT_QUERIES = 12;

/**
 * Query indices ordered by how much the runs' reciprocal ranks differ (largest first), at most
 * `count`, leaving out queries every run ranked the same.
 */
export function mostDisagreed(runs: readonly Pick<EvalRun, 'grades'>[], count: number): number[] {
  if (runs.length < 2) return [];
  const n = Math.min(...runs.map((r) => r.grades.queries.length));
  const spread = Array.from({ length: n }, (_, i) => {
    const rr = runs.map((r) => 1 / (r.grades.queries[i]?.firstRank ?? Infinity));
    return { i, spread: Math.max(...rr) - Math.min(...rr) };
  });
  return spread
    .filter((s) => s.spread > 0)
    .sort((a, b) => b.spread - a.spread || a.i - b.i)
    .slice(0, count)
    .map((s) => s.i);
}
