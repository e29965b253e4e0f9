// rerankExactly on hand-made scores and bounds: what it returns must be the exact top k whatever
// the error bounds allow, including the rows its first cut (by the largest bound) keeps.
import { describe, expect, it } from 'vitest';
import { rerankExactly } from './exact-rerank.js';
import { errorBound, type CodedQuery } from './quantized-codes.js';

/** A query whose bound for a row is (1 + slack) x the row's residual (norm 0, exact codes). */
const QUERY: CodedQuery = { codes: new Int16Array(16), scale: 1, norm: 1, residual: 0 };

describe('rerankExactly', () => {
  it('keeps a row scoring far below the k-th approximate score when its bound lets it in', () => {
    // Rows 0-1 score 10 approximately and 10 - B exactly; row 2 scores 10 - 1.9 B approximately
    // but 10 - 0.9 B exactly, its error at the full bound: it is the best row of all.
    const B = errorBound(QUERY, 0, 1);
    const approx = [10, 10, 10 - 1.9 * B, 10 - 5 * B];
    const exact = [10 - B, 10 - B, 10 - 0.9 * B, 10 - 5 * B];
    const ids = ['a', 'b', 'c', 'd'];
    const hits = rerankExactly(
      { rows: Int32Array.from([0, 1, 2, 3]), scores: Float32Array.from(approx), count: 4 },
      QUERY,
      {
        norm: new Float32Array(4),
        residual: new Float32Array(4).fill(1),
        maxNorm: 0,
        maxResidual: 1,
      },
      2,
      ids,
      (rows) => Float64Array.from(rows, (row) => exact[row] as number),
    );
    expect(hits.map((hit) => ids[hit.row])).toEqual(['c', 'a']);
  });
});
