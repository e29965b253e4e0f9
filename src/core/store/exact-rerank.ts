// Turns approximate int8 scores into the exact top k: every candidate whose approximate score
// plus its error bound reaches the k-th exact score found so far is re-scored from its float32
// vector (read from SQLite), best upper bound first, until no remaining candidate can enter.
// Whatever rows were scanned, the answer over them is the one an exact float scan would give.
import { dot } from '../embedding/vector-math.js';
import { errorBound, type CodedQuery } from './quantized-codes.js';
import { TopHits, type Hit } from './top-hits.js';

/** Vectors are read from the file in batches of this many rows (one statement each). */
const READ_BATCH = 32;

/** What a scan left for the re-rank. */
export interface ScannedRows {
  /** Rows scanned, in the order their scores are listed. */
  rows: Int32Array;
  /** The kernel's output for each scanned row (times `query.scale` = approximate score). */
  scores: Float32Array;
  /** How many entries of rows/scores are used. */
  count: number;
}

/** Per-row terms of the bound, indexed by row. */
export interface RowBounds {
  /** ‖v‖ of each row. */
  norm: Float32Array;
  /** ‖v - scale·codes‖ of each row. */
  residual: Float32Array;
  /** At least the largest value in `norm`. */
  readonly maxNorm: number;
  /** At least the largest value in `residual`. */
  readonly maxResidual: number;
}

/**
 * Exact dot products of the query with the float32 vectors of `rows`; NaN for a row whose vector
 * cannot be read (it is then left out of the answer).
 */
export type ExactScorer = (rows: readonly number[]) => Float64Array;

/**
 * An ExactScorer over `read`: dot products of `query` with the vectors read for the rows' ids
 * and rowids.
 */
export function exactScorer(
  query: Float32Array,
  read: (refs: readonly { id: string; rowid: number }[]) => (Float32Array | undefined)[],
  ids: readonly string[],
  rowids: Float64Array,
): ExactScorer {
  return (batch) => {
    const refs = batch.map((row) => ({ id: ids[row] as string, rowid: rowids[row] as number }));
    const scores = new Float64Array(batch.length);
    read(refs).forEach((vector, j) => {
      scores[j] = vector === undefined ? Number.NaN : dot(vector, query);
    });
    return scores;
  };
}

/** Finds the k-th largest of the first `count` values; -Infinity if fewer than k. */
function kthLargest(lower: ArrayLike<number>, count: number, k: number): number {
  if (count < k) return -Infinity;
  // A min-heap of the k largest.
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < count; i++) {
    const x = lower[i] as number;
    if (size < k) {
      let j = size++;
      heap[j] = x;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if ((heap[parent] as number) <= (heap[j] as number)) break;
        [heap[parent], heap[j]] = [heap[j] as number, heap[parent] as number];
        j = parent;
      }
    } else if (x > (heap[0] as number)) {
      heap[0] = x;
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let m = j;
        if (l < k && (heap[l] as number) < (heap[m] as number)) m = l;
        if (r < k && (heap[r] as number) < (heap[m] as number)) m = r;
        if (m === j) break;
        [heap[m], heap[j]] = [heap[j] as number, heap[m] as number];
        j = m;
      }
    }
  }
  return heap[0] as number;
}

/**
 * Reused bound arrays (upper, lower), grown as needed: a fresh 8 MB array per query over 1M
 * rows cost about 25 ms of page faults each on the bench machine (exact p50 49 ms became 96 ms
 * when the allocator stopped reusing freed memory). rerankExactly is synchronous, so one pair
 * serves every call.
 */
const boundScratch: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** Reused rows that survive the first cut (see boundScratch for why reused). */
let keptScratch = new Int32Array(0);

/** Scratch row array with room for `count` rows. */
function scratchKept(count: number): Int32Array {
  if (keptScratch.length < count) {
    keptScratch = new Int32Array(Math.max(count, keptScratch.length * 2));
  }
  return keptScratch;
}

/** Scratch bound array `which` (0 upper, 1 lower) with room for `count` values. */
function scratchBounds(which: 0 | 1, count: number): Float64Array {
  let array = boundScratch[which] as Float64Array;
  if (array.length < count) {
    array = new Float64Array(Math.max(count, array.length * 2));
    boundScratch[which] = array;
  }
  return array.subarray(0, count);
}

/** The exact best `k` of the scanned rows, best first, ties by id ascending. */
export function rerankExactly(
  scanned: ScannedRows,
  query: CodedQuery,
  bounds: RowBounds,
  k: number,
  ids: readonly string[],
  exactScores: ExactScorer,
): Hit[] {
  const { rows, scores, count } = scanned;
  if (count === 0 || k === 0) return [];
  // A first cut with the largest bound of any row, from the scores alone: k rows score at least
  // kthApprox, so their lower bounds are at least kthApprox - maxBound, and a row whose upper
  // bound (at most approx + maxBound) is below that cannot be in the top k. Only the rows left
  // read their own norm and residual: scattered reads that cost more than the kernel per row.
  const maxBound = errorBound(query, bounds.maxNorm, bounds.maxResidual);
  const kthApprox = kthLargest(scores, count, k) * query.scale;
  const cut = kthApprox - maxBound;
  const upper = scratchBounds(0, count);
  const lower = scratchBounds(1, count);
  const kept = scratchKept(count);
  let left = 0;
  for (let i = 0; i < count; i++) {
    const approx = (scores[i] as number) * query.scale;
    if (approx + maxBound < cut) continue;
    const row = rows[i] as number;
    const bound = errorBound(query, bounds.norm[row] as number, bounds.residual[row] as number);
    upper[left] = approx + bound;
    lower[left] = approx - bound;
    kept[left++] = row;
  }
  // No row scoring below this can be in the top k: k rows are sure to score at least this.
  const floor = kthLargest(lower, left, k);
  const top = new TopHits(k, ids);
  const candidates: number[] = [];
  for (let i = 0; i < left; i++) {
    if ((upper[i] as number) < floor) continue;
    // A bound of zero (a zero query or row) means the approximate score is the exact one.
    if (upper[i] === lower[i]) top.offer(kept[i] as number, upper[i] as number);
    else candidates.push(i);
  }
  candidates.sort((a, b) => (upper[b] as number) - (upper[a] as number));
  for (let start = 0; start < candidates.length; start += READ_BATCH) {
    // Equal scores break ties by id, so a candidate that could only tie still has to be read.
    if ((upper[candidates[start] as number] as number) < top.threshold) break;
    const batch = candidates.slice(start, start + READ_BATCH).map((i) => kept[i] as number);
    const exact = exactScores(batch);
    batch.forEach((row, j) => {
      const score = exact[j] as number;
      if (!Number.isNaN(score)) top.offer(row, score);
    });
  }
  return top.sorted();
}
