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

/** Runs of one group among rows [from, to): 1 for rows all of one group, 0 for none. */
function runsIn(columns: GroupColumns, from: number, to: number): number {
  let runs = to > from ? 1 : 0;
  for (let row = from + 1; row < to; row++) if (!sameGroup(columns, row - 1, row)) runs++;
  return runs;
}

/**
 * The order that groups rows [from, size) and leaves the rows before `from` where they are
 * (order[i]: the row to put at i), rows of a group in their present order; or null when those
 * rows are grouped already, but for at most MISPLACED_SHARE_TOLERATED of all `size` rows.
 * `codes`: the largest string code in use.
 */
export function groupedOrder(
  columns: GroupColumns,
  size: number,
  codes: number,
  from = 0,
): Int32Array | null {
  if (size - from < 2) return null;
  // Two stable counting sorts (least significant key first): by conversation, then by tenant.
  const byConversation = countingSort(from, size, codes, (row) => groupOf(columns, row), null);
  const tenantOf = (row: number): number => columns.tenant[row] as number;
  const tail = countingSort(from, size, codes, tenantOf, byConversation);
  let runsGrouped = 1;
  for (let i = 1; i < tail.length; i++) {
    if (!sameGroup(columns, tail[i - 1] as number, tail[i] as number)) runsGrouped++;
  }
  if (runsIn(columns, from, size) - runsGrouped <= size * MISPLACED_SHARE_TOLERATED) return null;
  const order = new Int32Array(size);
  for (let row = 0; row < from; row++) order[row] = row;
  order.set(tail, from);
  return order;
}

/**
 * Which rows a regroup sorts. Moving every row at every save would cost a bulk load (a save every
 * 50k points) time quadratic in its size, about 6 minutes over a 5M load at 1.4 s a 1M regroup;
 * so a save sorts only the rows written since the last one, after the rows already sorted (a
 * conversation then has a run per such segment, each long enough to read in sequence), and sorts
 * everything again only once the rows have doubled since that was last done, or once removals and
 * moves have left more than MISPLACED_SHARE_TOLERATED of the rows out of their runs. A load thus
 * moves each row a few times in all.
 */
export class RowGrouping {
  /** Rows [0, sortedUpTo) were sorted, in segments, by the last regroups. */
  #sortedUpTo = 0;
  /** Rows when everything was last sorted (or found grouped). */
  #wholeAt = 0;
  /** Runs among rows [0, sortedUpTo) just after they were sorted. */
  #runsWhenSorted = 0;

  /** The first row the next regroup sorts: 0 to sort every row, else where the new rows start. */
  firstToSort(columns: GroupColumns, size: number): number {
    const sorted = Math.min(this.#sortedUpTo, size);
    if (sorted === 0 || size > 2 * this.#wholeAt) return 0;
    // Removals (the last row moved into the hole) and moves between conversations add runs.
    const strays = runsIn(columns, 0, sorted) - this.#runsWhenSorted;
    return strays > size * MISPLACED_SHARE_TOLERATED ? 0 : sorted;
  }

  /**
   * Records a regroup that sorted rows [from, size), or found them grouped enough (`moved`
   * false); rows left unsorted because they were too few stay counted as new.
   */
  settle(columns: GroupColumns, from: number, size: number, moved: boolean): void {
    if (!moved && from > 0) return;
    this.#sortedUpTo = size;
    if (from === 0) this.#wholeAt = size;
    this.#runsWhenSorted = runsIn(columns, 0, size);
  }

  /**
   * After a restore of `size` rows: counts them as sorted when every group's rows are contiguous
   * (a block saved after a whole sort), so the next save sorts only the rows written since, as
   * it would have in the process that saved it; otherwise (a block saved in segments, or by an
   * older version) the next save sorts every row. One pass, where the sort it saves is two.
   */
  restored(columns: GroupColumns, size: number): void {
    this.reset();
    const seen = new Set<string>();
    for (let row = 0; row < size; row++) {
      if (row > 0 && sameGroup(columns, row - 1, row)) continue;
      const group = `${columns.tenant[row] as number} ${groupOf(columns, row)}`;
      if (seen.has(group)) return;
      seen.add(group);
    }
    this.#sortedUpTo = size;
    this.#wholeAt = size;
    this.#runsWhenSorted = seen.size;
  }

  /** Forgets every sort (the rows were cleared or restored). */
  reset(): void {
    this.#sortedUpTo = 0;
    this.#wholeAt = 0;
    this.#runsWhenSorted = 0;
  }
}

/**
 * The rows of `input` (or from..size-1 when null) stably sorted by `key`, whose values run from 0
 * to `codes`.
 */
function countingSort(
  from: number,
  size: number,
  codes: number,
  key: (row: number) => number,
  input: Int32Array | null,
): Int32Array {
  const starts = new Uint32Array(codes + 2);
  for (let row = from; row < size; row++) {
    const k = key(row) + 1;
    starts[k] = (starts[k] as number) + 1;
  }
  for (let k = 1; k < starts.length; k++) {
    starts[k] = (starts[k] as number) + (starts[k - 1] as number);
  }
  const out = new Int32Array(size - from);
  for (let i = 0; i < out.length; i++) {
    const row = input === null ? from + i : (input[i] as number);
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
