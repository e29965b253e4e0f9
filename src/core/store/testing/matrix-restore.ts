// Restores one VectorMatrix into another from its snapshot's arrays, as a reopen from the saved
// index block does (search-index-file.ts reads the same arrays from the file): for tests that
// check what survives a reopen without writing a file.
import type { VectorMatrix } from '../vector-matrix.js';

/** Fills `into` (which may hold rows already: a restore replaces them) with `from`'s rows. */
export function restoreFromSnapshot(from: VectorMatrix, into: VectorMatrix, lists = 0): void {
  const { arrays, extras } = from.snapshot();
  const target = into.beginRestore(extras.rows, extras.slots, lists);
  for (const key of Object.keys(arrays) as (keyof typeof arrays)[]) {
    if (key === 'shares') {
      for (const column of Object.keys(arrays.shares) as (keyof typeof arrays.shares)[]) {
        target.shares[column].set(arrays.shares[column]);
      }
    } else target[key].set(arrays[key]);
  }
  into.finishRestore(target, extras);
}
