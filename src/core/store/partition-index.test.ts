// Placing a restored index's rows in bulk leaves the lists exactly as placing them one by one
// does, and the index takes later writes (place, detach, move) the same way afterwards.
import { describe, expect, it } from 'vitest';
import { PartitionIndex } from './partition-index.js';

const DIMENSION = 8;
const LISTS = 5;

/** Unit centroids along the first LISTS axes. */
function centroids(): Float32Array {
  const out = new Float32Array(LISTS * DIMENSION);
  for (let list = 0; list < LISTS; list++) out[list * DIMENSION + list] = 1;
  return out;
}

function membersOf(index: PartitionIndex): number[][] {
  return Array.from({ length: LISTS }, (_, list) => Array.from(index.members(list)));
}

describe('PartitionIndex.placeAll', () => {
  it('gives every list the members, in row order, that placing each row would', () => {
    // Unplaced rows (-1) among them, and one list far larger than the initial room.
    const listOf = Int32Array.from({ length: 1_000 }, (_, row) =>
      row % 7 === 0 ? -1 : row % 3 === 0 ? 4 : row % LISTS,
    );
    const one = new PartitionIndex(DIMENSION, centroids(), 10);
    listOf.forEach((list, row) => {
      if (list >= 0) one.place(row, list);
    });
    const bulk = new PartitionIndex(DIMENSION, centroids(), 10);
    bulk.placeAll(listOf, listOf.length);
    expect(membersOf(bulk)).toEqual(membersOf(one));
    expect(Array.from(bulk.listsOf(listOf.length))).toEqual(Array.from(listOf));

    for (const index of [one, bulk]) {
      // Rows from the middle of their lists, so that every slot read must be the right one.
      index.detach(10);
      index.move(600, 10);
      index.place(1_000, 2);
      index.place(14, 1);
    }
    expect(membersOf(bulk)).toEqual(membersOf(one));
    expect(Array.from(bulk.listsOf(1_001))).toEqual(Array.from(one.listsOf(1_001)));
  });
});
