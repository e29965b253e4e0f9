// The best k hits of a scan, kept in a bounded min-heap so that a 100k-row scan never sorts:
// each row costs one comparison against the worst hit kept, and ties break by id ascending.

/** A row and its score, as the scan found them. */
export interface Hit {
  /** Row in the vector matrix. */
  row: number;
  /** Cosine similarity to the query. */
  score: number;
}

export class TopHits {
  readonly #capacity: number;
  readonly #ids: readonly string[];
  readonly #rows: Int32Array;
  readonly #scores: Float64Array;
  #size = 0;

  /** Keeps at most `capacity` hits; `ids[row]` breaks ties between equal scores. */
  constructor(capacity: number, ids: readonly string[]) {
    this.#capacity = capacity;
    this.#ids = ids;
    this.#rows = new Int32Array(capacity);
    this.#scores = new Float64Array(capacity);
  }

  /** The score a new row must reach to be considered, -Infinity until the heap is full. */
  get threshold(): number {
    return this.#size < this.#capacity ? -Infinity : (this.#scores[0] as number);
  }

  /** Offers a row; keeps it if it beats the worst kept hit. */
  offer(row: number, score: number): void {
    if (this.#size < this.#capacity) {
      this.#rows[this.#size] = row;
      this.#scores[this.#size] = score;
      this.#siftUp(this.#size++);
      return;
    }
    if (
      this.#capacity === 0 ||
      !this.#worse(this.#scores[0] as number, this.#rows[0] as number, score, row)
    ) {
      return;
    }
    this.#rows[0] = row;
    this.#scores[0] = score;
    this.#siftDown(0);
  }

  /** The kept hits, best first (highest score, then lowest id). */
  sorted(): Hit[] {
    const hits: Hit[] = [];
    for (let i = 0; i < this.#size; i++) {
      hits.push({ row: this.#rows[i] as number, score: this.#scores[i] as number });
    }
    return hits.sort((a, b) => (this.#worse(a.score, a.row, b.score, b.row) ? 1 : -1));
  }

  /** Whether hit (scoreA, rowA) ranks below hit (scoreB, rowB). */
  #worse(scoreA: number, rowA: number, scoreB: number, rowB: number): boolean {
    if (scoreA !== scoreB) return scoreA < scoreB;
    return (this.#ids[rowA] as string) > (this.#ids[rowB] as string);
  }

  #swap(i: number, j: number): void {
    const row = this.#rows[i] as number;
    const score = this.#scores[i] as number;
    this.#rows[i] = this.#rows[j] as number;
    this.#scores[i] = this.#scores[j] as number;
    this.#rows[j] = row;
    this.#scores[j] = score;
  }

  #less(i: number, j: number): boolean {
    return this.#worse(
      this.#scores[i] as number,
      this.#rows[i] as number,
      this.#scores[j] as number,
      this.#rows[j] as number,
    );
  }

  #siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < this.#size && this.#less(left, worst)) worst = left;
      if (right < this.#size && this.#less(right, worst)) worst = right;
      if (worst === i) return;
      this.#swap(i, worst);
      i = worst;
    }
  }
}
