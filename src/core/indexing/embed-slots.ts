// EmbedSlots: how many images one caller of ImageIndexer has decoded and embedded at once. The
// upload queue hands the indexer many uploads together, so their lookups and writes share
// batches, but decodes a few at a time: decoding is where an image's memory goes.

export class EmbedSlots {
  readonly #size: number;
  #taken = 0;
  readonly #waiters: Array<() => void> = [];
  #closedWith: Error | undefined;

  /** `size`: images decoded and embedded at once (a whole number >= 1). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`EmbedSlots size must be a whole number of at least 1, not ${size}`);
    this.#size = size;
  }

  /**
   * Waits for a free slot and takes it; give it back with release(). Rejects with the close()
   * error once closed: an image not yet decoded when its caller stops is left for later.
   */
  async acquire(): Promise<void> {
    for (;;) {
      if (this.#closedWith !== undefined) throw this.#closedWith;
      if (this.#taken < this.#size) break;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#taken++;
  }

  /** Refuses every waiting and later acquire() with `error`; slots taken are still released. */
  close(error: Error): void {
    this.#closedWith = error;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Gives a slot back, letting the longest waiter take it. */
  release(): void {
    this.#taken--;
    this.#waiters.shift()?.();
  }
}
