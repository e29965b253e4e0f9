// EmbedSlots: how many images one caller of ImageIndexer has decoded and embedded at once. The
// upload queue hands the indexer many uploads together, so their lookups and writes share
// batches, but decodes a few at a time: decoding is where an image's memory goes.

export class EmbedSlots {
  readonly #size: number;
  #taken = 0;
  readonly #waiters: Array<() => void> = [];

  /** `size`: images decoded and embedded at once (a whole number >= 1). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`EmbedSlots size must be a whole number of at least 1, not ${size}`);
    this.#size = size;
  }

  /** Waits for a free slot and takes it; give it back with release(). */
  async acquire(): Promise<void> {
    while (this.#taken >= this.#size) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#taken++;
  }

  /** Gives a slot back, letting the longest waiter take it. */
  release(): void {
    this.#taken--;
    this.#waiters.shift()?.();
  }
}
