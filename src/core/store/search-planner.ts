// Chooses how the embedded store answers a query, as Qdrant's planner does: an exact scan of the
// matching rows when the filter is selective (or the store small, or the caller asks), the
// partition index otherwise. The estimate of matching rows comes from per-tenant and
// per-conversation tallies kept on every write, so planning costs no scan.
import { defaultScanThreads } from './parallel-scan.js';
import type { ShareColumns } from './share-arena.js';
import { StringCodes, UNKNOWN_CODE } from './string-codes.js';
import type { PointFilter } from './vector-store.js';

/** The knobs of the embedded store's search; every field has a measured default. */
export interface SearchTuning {
  /**
   * Below this many rows the store has no index and every query is exact (an int8 scan of 20k
   * rows takes about a millisecond, so an index would save nothing).
   */
  indexMinRows: number;
  /** A filter estimated to match at most this many rows is answered by an exact scan. */
  exactBelowRows: number;
  /**
   * A filter naming conversations (scope or share) estimated to match at most this share of
   * all rows is answered by an exact scan too: the per-conversation row lists let that scan
   * test only those rows, so it costs less than probing lists for them and has recall 1.
   */
  listedExactShare: number;
  /** The index scans at least this share of the matching rows, nearest lists first. */
  probeFraction: number;
  /** ...and at least this many matching rows. */
  minProbeRows: number;
  /**
   * ...and every list whose centroid scores within this of the nearest one's (a query between
   * themes, where many centroids score alike, looks further).
   */
  probeMargin: number;
  /**
   * When the lists within the margin hold more than this share of all rows (a query with no
   * near theme, as on uniform random data), the exact scan is cheaper than probing: use it.
   */
  maxProbeShare: number;
  /** Most lists the index is trained with (sqrt(rows) below that). */
  maxLists: number;
  /**
   * Threads a long scan of the codes is split over, the caller's included (worker threads
   * sharing the codes' memory, parallel-scan.ts); 1 keeps every scan on the caller's thread.
   */
  scanThreads: number;
  /** Scans of fewer rows than this stay on one thread (waking the others costs more). */
  parallelScanMinRows: number;
  /**
   * A saved block whose codes take at least this many bytes has them read with the scan
   * threads' help when the store opens (below it, the read takes less than starting a worker).
   */
  parallelReadMinBytes: number;
  /** Stores of fewer rows save no index block (reading them from SQLite is quick). */
  saveMinRows: number;
  /** The index block is saved again after this many points were written or deleted. */
  saveAfterChanges: number;
}

/** Defaults, measured on 2 cores on clustered 512-d vectors (docs/benchmarks.md). */
export const DEFAULT_SEARCH_TUNING: SearchTuning = {
  indexMinRows: 20_000,
  exactBelowRows: 20_000,
  // One channel of 40 at 1M rows (25k rows, 2.5%): probing for it took about 21 ms p50.
  listedExactShare: 0.05,
  // Measured in one process on 200k points of bench/vector-fill.ts's clustered data (256 lists):
  // recall@10 0.947 with probeFraction 0.02 alone, 0.976 at 0.08; with the margin 0.06: 0.978,
  // 0.08: 0.990, 0.10: 0.994, 0.12: 0.997, all at about 2.5 ms p50 (docs/benchmarks.md).
  // One channel of 40 (5,000 rows) forced through the index, same data: minProbeRows 4,000
  // recall 0.999 at 7.2 ms p50; 2,000, 1,000 and 500 all 0.9945 (the margin decides) at 3.3,
  // 1.5 and 0.8 ms.
  // Issue 18, on the store bench's clustered data, 200 queries, one process: 0.01 gives the same
  // answers as 0.02 at 100k and at 1M (recall@10 1.0 both; the margin decides which lists), p50
  // 1.49 -> 1.13 ms at 100k and 12.6 -> 8.2 ms at 1M (load 4).
  probeFraction: 0.01,
  minProbeRows: 1_000,
  probeMargin: 0.12,
  // Probing visits rows list by list, about 4x the exact scan's cost per row at 1M (uniform
  // data, margin 0.05: 230 ms probing against 47 ms exact, both measured by the store bench).
  maxProbeShare: 0.2,
  maxLists: 256,
  scanThreads: defaultScanThreads(),
  // 1M clustered rows on 2 cores, one process, 200 queries interleaved (load 5 to 6): p50 24 ms
  // on one thread, 21 ms splitting from 50,000 rows, 15 to 17 ms from 16,000 (the probe of
  // ~24k rows then splits too); p99 (the exact fallback) 149 -> 140 -> 122 ms.
  parallelScanMinRows: 16_000,
  parallelReadMinBytes: 64 * 2 ** 20,
  saveMinRows: 20_000,
  saveAfterChanges: 50_000,
};

/** Fewest lists worth training. */
const MIN_LISTS = 8;

/** How many lists to train for `rows` rows. */
export function listsFor(rows: number, tuning: SearchTuning): number {
  return Math.max(MIN_LISTS, Math.min(tuning.maxLists, Math.round(Math.sqrt(rows))));
}

/** How a query will be answered. */
export type SearchPath = 'exact' | 'index';

/** Counts of rows per tenant and shares per conversation, kept in step with the matrix. */
export class FilterTallies {
  readonly #tenantRows = new Map<number, number>();
  readonly #conversationShares = new Map<number, number>();
  #publicShares = 0;

  /** Counts (sign 1) or uncounts (sign -1) a row of `tenant`. */
  tallyRow(tenant: number, sign: 1 | -1): void {
    this.#tenantRows.set(tenant, (this.#tenantRows.get(tenant) ?? 0) + sign);
  }

  /** Counts or uncounts the shares in slots [start, start + count). */
  tallyShares(shares: ShareColumns, start: number, count: number, sign: 1 | -1): void {
    for (let slot = start; slot < start + count; slot++) {
      const conversation = shares.conversation[slot] as number;
      this.#conversationShares.set(
        conversation,
        (this.#conversationShares.get(conversation) ?? 0) + sign,
      );
      if (shares.isPublic[slot] === 1) this.#publicShares += sign;
    }
  }

  /** Rows of the tenant with this code. */
  rowsOf(tenant: number): number {
    return this.#tenantRows.get(tenant) ?? 0;
  }

  /** Forgets every count. */
  clear(): void {
    this.#tenantRows.clear();
    this.#conversationShares.clear();
    this.#publicShares = 0;
  }

  /**
   * At least as many rows as the filter matches, usually close: tenant, scope and share
   * conversations are counted; dates, sources and uploaders are not.
   */
  estimate(filter: PointFilter, strings: StringCodes): number {
    const tenant = strings.lookup(filter.tenant);
    if (tenant === UNKNOWN_CODE) return 0;
    let estimate = this.#tenantRows.get(tenant) ?? 0;
    if (filter.scope !== undefined) {
      const inScope = this.#sharesIn(filter.scope.conversations, strings);
      estimate = Math.min(
        estimate,
        inScope + (filter.scope.includePublic ? this.#publicShares : 0),
      );
    }
    if (filter.share?.conversations !== undefined) {
      estimate = Math.min(estimate, this.#sharesIn(filter.share.conversations, strings));
    }
    return estimate;
  }

  #sharesIn(conversations: readonly string[], strings: StringCodes): number {
    let sum = 0;
    for (const conversation of new Set(conversations)) {
      sum += this.#conversationShares.get(strings.lookup(conversation)) ?? 0;
    }
    return sum;
  }
}

/**
 * The path for a query over `rows` rows whose filter matches about `estimate` of them; `listed`
 * when the filter names conversations (see listedExactShare).
 */
export function choosePath(
  rows: number,
  estimate: number,
  indexed: boolean,
  exact: boolean,
  tuning: SearchTuning,
  listed = false,
): SearchPath {
  if (exact || !indexed || rows < tuning.indexMinRows) return 'exact';
  if (estimate <= tuning.exactBelowRows) return 'exact';
  // `listed`: the filter names conversations, so the exact scan tests only their rows.
  return listed && estimate <= rows * tuning.listedExactShare ? 'exact' : 'index';
}

/** Matching rows the index should scan for a filter matching about `estimate` rows. */
export function probeTarget(estimate: number, tuning: SearchTuning): number {
  return Math.max(tuning.minProbeRows, Math.ceil(estimate * tuning.probeFraction));
}
