// The order rows sit in, in memory and in the saved index: grouped by tenant, then by the
// conversation of their first share, so that a query scoped to one conversation reads that
// conversation's codes in sequence. In arrival order a channel of 40 is one row in 40 spread
// over the whole code array, and the int8 kernel paid a cache and TLB miss on nearly every row
// (about 680 ns a row against 86 ns for a scan in sequence, docs/benchmarks.md). Answers never
// depend on row order, only the speed of a scoped scan does.
import type { RowSlots } from './share-arena.js';

/**
 * Rows out of place (runs of one group beyond one per group) are tolerated up to this share of
 * all rows: a stray row costs the kernel one cache miss, about 200 ns, so 1% of strays adds
 * about 2 ns a row to a scoped scan, while a regroup moves every row after the first stray.
 */
const MISPLACED_SHARE_TOLERATED = 0.01;

/** What a row is grouped by. */
export interface GroupColumns extends RowSlots {
  /** Tenant code of each row. */
  tenant: Uint32Array;
  /** Conversation code of each share slot. */
  conversation: Uint32Array;
}

/** Conversation code of row `row`'s first share, or 0 for a row with none (codes start at 1). */
function groupOf(columns: GroupColumns, row: number): number {
  return columns.shareCount[row] === 0
    ? 0
    : (columns.conversation[columns.shareStart[row] as number] as number);
}

/** Whether rows `a` and `b` are in the same group (tenant and first conversation). */
function sameGroup(columns: GroupColumns, a: number, b: number): boolean {
  return columns.tenant[a] === columns.tenant[b] && groupOf(columns, a) === groupOf(columns, b);
}

/**
 * The order that groups the first `size` rows (order[i]: the row to put at i), rows of a group
 * in their present order; or null when they are grouped already, but for at most
 * MISPLACED_SHARE_TOLERATED of them. `codes`: the largest string code in use.
 */
export function groupedOrder(columns: GroupColumns, size: number, codes: number): Int32Array | null {
  if (size < 2) return null;
  // Two stable counting sorts (least significant key first): by conversation, then by tenant.
  const byConversation = countingSort(size, codes, (row) => groupOf(columns, row), null);
  const order = countingSort(size, codes, (row) => columns.tenant[row] as number, byConversation);
  let runsNow = 1;
  let runsGrouped = 1;
  for (let i = 1; i < size; i++) {
    if (!sameGroup(columns, i - 1, i)) runsNow++;
    if (!sameGroup(columns, order[i - 1] as number, order[i] as number)) runsGrouped++;
  }
  return runsNow - runsGrouped <= size * MISPLACED_SHARE_TOLERATED ? null : order;
}

/**
 * The rows of `input` (or 0..size-1 when null) stably sorted by `key`, whose values run from 0
 * to `codes`.
 */
function countingSort(
  size: number,
  codes: number,
  key: (row: number) => number,
  input: Int32Array | null,
): Int32Array {
  const starts = new Uint32Array(codes + 2);
  for (let row = 0; row < size; row++) {
    const k = key(row) + 1;
    starts[k] = (starts[k] as number) + 1;
  }
  for (let k = 1; k < starts.length; k++) {
    starts[k] = (starts[k] as number) + (starts[k - 1] as number);
  }
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const row = input === null ? i : (input[i] as number);
    const k = key(row);
    out[starts[k] as number] = row;
    starts[k] = (starts[k] as number) + 1;
  }
  return out;
}

/** Puts value order[i] of `values` at i, for every i < order.length (a copy of those values). */
export function permuteValues<T extends Float32Array | Float64Array | Uint32Array>(
  values: T,
  order: Int32Array,
): void {
  const before = values.slice(0, order.length);
  for (let i = 0; i < order.length; i++) values[i] = before[order[i] as number] as number;
}
