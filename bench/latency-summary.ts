// Percentiles of a set of timings, as the bench reports them (nearest-rank, in milliseconds).

/** What one latency series is reported as. */
export interface LatencySummary {
  /** Number of timed calls. */
  count: number;
  /** Median, ms. */
  p50: number;
  /** 99th percentile (nearest rank), ms. */
  p99: number;
  /** Arithmetic mean, ms. */
  mean: number;
  /** Slowest call, ms. */
  max: number;
}

/** Nearest-rank percentile: the smallest sample with at least `percent`% of samples at or below it. */
export function percentile(sorted: readonly number[], percent: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((percent / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    max: sorted.at(-1) ?? Number.NaN,
  };
}
