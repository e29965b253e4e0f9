// Bootstrap confidence intervals: how far a mean over a few hundred queries could move with
// another sample of queries. Seeded, so the same dataset gives the same interval every run.
import { seededRandom } from '../seeded-random.js';

/** Resamples drawn: 1,000 is the usual minimum for a 95% percentile interval (Efron & Tibshirani, ch. 13). */
export const BOOTSTRAP_RESAMPLES = 1000;
/** The seed used when none is given, so reports are reproducible by default. */
export const DEFAULT_BOOTSTRAP_SEED = 12;

/** A statistic and its 95% bootstrap interval. */
export interface Estimate {
  /** The statistic on the whole sample. */
  value: number;
  /** 2.5th percentile of the resampled statistic. */
  low: number;
  /** 97.5th percentile of the resampled statistic. */
  high: number;
}

export { seededRandom };

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum / values.length;
}

export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The statistic of `values` with its 95% percentile-bootstrap interval. Every call with the same
 * seed draws the same resamples, so intervals of different metrics over the same queries are paired.
 */
export function bootstrap(
  values: ArrayLike<number>,
  statistic: (sample: Float64Array) => number = mean,
  options: { seed?: number; resamples?: number } = {},
): Estimate {
  const n = values.length;
  const whole = statistic(Float64Array.from(values));
  if (n === 0) return { value: whole, low: whole, high: whole };
  const random = seededRandom(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const stats = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(random() * n)] as number;
    stats[b] = statistic(sample);
  }
  stats.sort();
  return { value: whole, low: percentile(stats, 0.025), high: percentile(stats, 0.975) };
}

/** Linear-interpolated percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  const position = p * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const weight = position - below;
  return (sorted[below] as number) * (1 - weight) + (sorted[above] as number) * weight;
}
