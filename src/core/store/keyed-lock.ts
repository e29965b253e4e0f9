// A lock per key (a point id) inside one process: work on one key runs one at a time, in the
// order it asked, and work on other keys is not held up. Stores whose server cannot change part
// of a record (Qdrant's `shares` array) use it around each read-modify-write of one record, so
// that two writers in this process cannot each read before the other writes and lose an update.

/** Gives the key back; call it exactly once, when the read-modify-write is over. */
export type Release = () => void;

export class KeyedLock {
  /** Per key, the promise that settles when the last holder or waiter so far releases. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits for the key, then holds it until the returned Release is called. */
  async acquire(key: string): Promise<Release> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      // Nobody queued behind: forget the key, so that the map holds only keys in use.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /**
   * Runs `work` while holding every key. Keys are taken one at a time in sorted order, so two
   * callers with overlapping keys cannot each hold one the other waits for.
   */
  async withKeys<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const releases: Release[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Keys held or waited for right now (for logs and tests). */
  get size(): number {
    return this.#tails.size;
  }
}
