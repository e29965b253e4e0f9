// HeldImages: how many image files `findimage index` has read and not yet seen through the
// indexer, and their bytes. The command reads ahead so that the indexer's batches fill; this is
// what bounds the reading ahead, by count and by bytes held.

export class HeldImages {
  readonly #maxImages: number;
  readonly #maxBytes: number;
  #images = 0;
  #bytes = 0;
  readonly #waiters: Array<() => void> = [];

  /**
   * `maxImages`: files held at once (a whole number >= 1). `maxBytes`: bytes held at once, at most;
   * one more file is always let in while under it, so the bound is exceeded by one file at most.
   */
  constructor(maxImages: number, maxBytes: number) {
    if (!Number.isInteger(maxImages) || maxImages < 1) throw new RangeError(`HeldImages maxImages must be a whole number of at least 1, not ${maxImages}`);
    if (!(maxBytes > 0)) throw new RangeError(`HeldImages maxBytes must be more than 0, not ${maxBytes}`);
    this.#maxImages = maxImages;
    this.#maxBytes = maxBytes;
  }

  /** Files held now. */
  get images(): number {
    return this.#images;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether another file may be read now. */
  get hasRoom(): boolean {
    return this.#images < this.#maxImages && this.#bytes < this.#maxBytes;
  }

  /** Resolves once another file may be read (at once if one may now). */
  async room(): Promise<void> {
    while (!this.hasRoom) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Counts a file of `bytes` as held. */
  add(bytes: number): void {
    this.#images++;
    this.#bytes += bytes;
  }

  /** Counts a file of `bytes` as no longer held, and wakes whoever waits for room. */
  release(bytes: number): void {
    this.#images--;
    this.#bytes -= bytes;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
