// The approximate index of the embedded store: an inverted file (IVF). k-means centroids split
// the rows into lists; a new row joins the list of its nearest centroid, and a query scans the
// lists nearest to it first. Centroids are kept as int8 codes and scored by the same SIMD kernel
// as the rows, so assigning a row costs one short scan.
import { normalize } from '../embedding/vector-math.js';
import { seededRandom } from '../seeded-random.js';
import { CodeRows } from './code-rows.js';
import type { RowFilter } from './point-filter.js';
import { encodeQuery, type CodedQuery } from './quantized-codes.js';

/** k-means rounds when training: assignments barely move after this many on image embeddings. */
const TRAINING_ROUNDS = 8;

/** Sample rows per list used to train (more adds training time, not recall). */
const SAMPLE_PER_LIST = 40;

export class PartitionIndex {
  /** Number of lists (centroids). */
  readonly lists: number;
  /** Length of the vectors. */
  readonly dimension: number;
  /** The centroids, list after list, unit length. */
  readonly centroids: Float32Array;
  readonly #coded: CodeRows;
  /** List of each row, and its place in that list. */
  #listOf: Int32Array;
  #slotOf: Int32Array;
  readonly #members: Int32Array[];
  readonly #sizes: Int32Array;

  /** An index with these centroids and no rows yet; room for `capacity` rows. */
  constructor(dimension: number, centroids: Float32Array, capacity: number) {
    this.dimension = dimension;
    this.lists = centroids.length / dimension;
    this.centroids = centroids;
    this.#coded = new CodeRows(dimension, this.lists);
    for (let list = 0; list < this.lists; list++) {
      this.#coded.write(list, centroids.subarray(list * dimension, (list + 1) * dimension));
      this.#coded.rows[list] = list;
    }
    this.#listOf = new Int32Array(capacity).fill(-1);
    this.#slotOf = new Int32Array(capacity);
    this.#members = Array.from({ length: this.lists }, () => new Int32Array(16));
    this.#sizes = new Int32Array(this.lists);
  }

  /**
   * Spherical k-means over `sample` (unit vectors, `dimension` each, one after another):
   * `lists` centroids, seeded from distinct sample vectors.
   */
  static train(dimension: number, sample: Float32Array, lists: number): Float32Array {
    const count = sample.length / dimension;
    const random = seededRandom(count * 31 + lists);
    const centroids = new Float32Array(lists * dimension);
    const seeds = new Set<number>();
    while (seeds.size < Math.min(lists, count)) seeds.add(Math.floor(random() * count));
    [...seeds].forEach((s, list) => {
      centroids.set(sample.subarray(s * dimension, (s + 1) * dimension), list * dimension);
    });
    const assigned = new Int32Array(count);
    for (let round = 0; round < TRAINING_ROUNDS; round++) {
      const index = new PartitionIndex(dimension, centroids, 0);
      for (let i = 0; i < count; i++) {
        assigned[i] = index.nearestList(sample.subarray(i * dimension, (i + 1) * dimension));
      }
      centroids.fill(0);
      const sizes = new Int32Array(lists);
      for (let i = 0; i < count; i++) {
        const list = assigned[i] as number;
        sizes[list] = (sizes[list] as number) + 1;
        const at = list * dimension;
        for (let j = 0; j < dimension; j++) {
          centroids[at + j] = (centroids[at + j] as number) + (sample[i * dimension + j] as number);
        }
      }
      for (let list = 0; list < lists; list++) {
        const centroid = centroids.subarray(list * dimension, (list + 1) * dimension);
        // An empty list restarts from a random sample vector rather than staying dead.
        if (sizes[list] === 0) {
          const s = Math.floor(random() * count);
          centroid.set(sample.subarray(s * dimension, (s + 1) * dimension));
        }
        normalize(centroid);
      }
    }
    return centroids;
  }

  /**
   * Trains `lists` lists on an even sample of the first `size` rows of `rows` (their decoded
   * codes), then places every row.
   */
  static build(rows: CodeRows, size: number, lists: number): PartitionIndex {
    const d = rows.dimension;
    const sampleRows = Math.min(size, lists * SAMPLE_PER_LIST);
    const sample = new Float32Array(sampleRows * d);
    const step = size / sampleRows;
    for (let i = 0; i < sampleRows; i++) {
      rows.decode(Math.floor(i * step), sample.subarray(i * d, (i + 1) * d));
    }
    const index = new PartitionIndex(d, PartitionIndex.train(d, sample, lists), size);
    const vector = new Float32Array(d);
    for (let row = 0; row < size; row++) {
      rows.decode(row, vector);
      index.place(row, index.nearestList(vector));
    }
    return index;
  }

  /** The list whose centroid is nearest to `vector`. */
  nearestList(vector: Float32Array): number {
    const scores = this.#scoreLists(encodeQuery(vector, this.#coded.stride));
    let best = 0;
    for (let list = 1; list < this.lists; list++) {
      if ((scores[list] as number) > (scores[best] as number)) best = list;
    }
    return best;
  }

  /**
   * Writes to `out` the rows that `filter` matches in the lists nearest `query`, list by list,
   * until at least `target` are found and the next list's centroid scores more than `margin`
   * below the nearest one's (or every list is done); returns how many. The margin makes a query
   * that sits between themes, where many centroids score alike, look further. Returns -1 without
   * probing when the lists within the margin hold more than `maxRows` rows: visiting rows list by
   * list costs more per row than the exact scan's walk in row order, so the caller scans exactly.
   */
  collect(
    query: CodedQuery,
    filter: RowFilter,
    target: number,
    margin: number,
    maxRows: number,
    out: Int32Array,
  ): number {
    const scores = Float32Array.from(this.#scoreLists(query));
    const order = Int32Array.from({ length: this.lists }, (_, i) => i);
    order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
    // The kernel's scores are dot products divided by the query's scale.
    const floor = (scores[order[0] as number] as number) - margin / query.scale;
    let withinMargin = 0;
    for (const list of order) {
      if ((scores[list] as number) < floor) break;
      withinMargin += this.#sizes[list] as number;
    }
    if (withinMargin > maxRows) return -1;
    let found = 0;
    for (const list of order) {
      if (found >= target && (scores[list] as number) < floor) break;
      const members = this.members(list);
      for (let i = 0; i < members.length; i++) {
        const row = members[i] as number;
        if (filter.matches(row)) out[found++] = row;
      }
    }
    return found;
  }

  /**
   * Puts each of the first `rows` rows in the list `listOf` gives (-1: none), in row order, into
   * an index that holds no rows yet: what `place` for every row would do, with each list's
   * members sized once instead of grown (a restore of 1M rows: about 200 ms of `place` calls).
   */
  placeAll(listOf: Int32Array, rows: number): void {
    if (rows > this.#listOf.length) this.#growRows(rows);
    const sizes = this.#sizes;
    for (let row = 0; row < rows; row++) {
      const list = listOf[row] as number;
      if (list >= 0) sizes[list] = (sizes[list] as number) + 1;
    }
    for (let list = 0; list < this.lists; list++) {
      const size = sizes[list] as number;
      // Room for later writes as place() would have left it: the next power of two, at least 16.
      if (size > (this.#members[list] as Int32Array).length) {
        this.#members[list] = new Int32Array(2 ** Math.ceil(Math.log2(size)));
      }
      sizes[list] = 0;
    }
    for (let row = 0; row < rows; row++) {
      const list = listOf[row] as number;
      this.#listOf[row] = list;
      if (list < 0) continue;
      const slot = sizes[list] as number;
      (this.#members[list] as Int32Array)[slot] = row;
      sizes[list] = slot + 1;
      this.#slotOf[row] = slot;
    }
  }

  /** The rows in `list` (a view, valid until the next change). */
  members(list: number): Int32Array {
    return (this.#members[list] as Int32Array).subarray(0, this.#sizes[list]);
  }

  /** Puts `row` in `list`, taking it out of the list it was in. */
  place(row: number, list: number): void {
    if (row >= this.#listOf.length) this.#growRows(row + 1);
    this.detach(row);
    let members = this.#members[list] as Int32Array;
    const size = this.#sizes[list] as number;
    if (size === members.length) {
      const bigger = new Int32Array(size * 2);
      bigger.set(members);
      this.#members[list] = members = bigger;
    }
    members[size] = row;
    this.#sizes[list] = size + 1;
    this.#listOf[row] = list;
    this.#slotOf[row] = size;
  }

  /** Takes `row` out of its list, if it is in one. */
  detach(row: number): void {
    if (row >= this.#listOf.length) return;
    const list = this.#listOf[row] as number;
    if (list < 0) return;
    const members = this.#members[list] as Int32Array;
    const last = (this.#sizes[list] as number) - 1;
    const slot = this.#slotOf[row] as number;
    const moved = members[last] as number;
    members[slot] = moved;
    this.#slotOf[moved] = slot;
    this.#sizes[list] = last;
    this.#listOf[row] = -1;
  }

  /** Row `from` now lives at `to` (a swap-removal in the matrix); `to` must be detached. */
  move(from: number, to: number): void {
    const list = this.#listOf[from] as number;
    if (to >= this.#listOf.length) this.#growRows(to + 1);
    this.#listOf[to] = list;
    this.#listOf[from] = -1;
    if (list < 0) return;
    const slot = this.#slotOf[from] as number;
    this.#slotOf[to] = slot;
    (this.#members[list] as Int32Array)[slot] = to;
  }

  /** Row order[i] now lives at row i, for every i < order.length (the matrix was regrouped). */
  permute(order: Int32Array): void {
    const listOf = this.listsOf(order.length).slice();
    const slotOf = this.#slotOf.slice(0, order.length);
    for (let row = 0; row < order.length; row++) {
      const from = order[row] as number;
      const list = listOf[from] as number;
      this.#listOf[row] = list;
      if (list < 0) continue;
      const slot = slotOf[from] as number;
      this.#slotOf[row] = slot;
      (this.#members[list] as Int32Array)[slot] = row;
    }
  }

  /** The list of each of the first `size` rows (-1: none), for the saved index. */
  listsOf(size: number): Int32Array {
    if (size > this.#listOf.length) this.#growRows(size);
    return this.#listOf.subarray(0, size);
  }

  #scoreLists(query: CodedQuery): Float32Array {
    this.#coded.scan(query, this.lists);
    return this.#coded.out.subarray(0, this.lists);
  }

  #growRows(capacity: number): void {
    const size = Math.max(capacity, this.#listOf.length * 2, 1024);
    const listOf = new Int32Array(size).fill(-1);
    listOf.set(this.#listOf);
    const slotOf = new Int32Array(size);
    slotOf.set(this.#slotOf);
    this.#listOf = listOf;
    this.#slotOf = slotOf;
  }
}
