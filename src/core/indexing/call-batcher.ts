// CallBatcher: many single-item calls made as few batched ones. Items collect into a batch that
// is sent when it is full, when its linger time is up, or when the owner says nothing more is
// coming; a few batches may be in flight at once. Each caller's promise settles only when its
// own batch has come back, with its own item's outcome. ImageIndexer batches its store lookups
// and its store writes with it, so N images cost about N / size requests of each.

/** One item's outcome in a batch: a value, or the error that item alone failed with. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface CallBatcherOptions<T, R> {
  /**
   * Runs one batch. Resolves to one outcome per item, in the items' order; a rejection fails
   * every item of the batch with that error.
   */
  run: (items: readonly T[]) => Promise<ReadonlyArray<ItemOutcome<R>>>;
  /** Most items per batch (a whole number >= 1). */
  maxSize: number;
  /** Most batches running at once (a whole number >= 1); later full batches wait their turn. */
  maxInFlight: number;
  /** How long the first item of a partial batch waits for company before it is sent, in ms. */
  lingerMs: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class CallBatcher<T, R> {
  readonly #run: CallBatcherOptions<T, R>['run'];
  readonly #maxSize: number;
  readonly #maxInFlight: number;
  readonly #lingerMs: number;
  /** The batch being filled. */
  #open: Array<Waiting<T, R>> = [];
  /** Closed batches waiting for a free slot, oldest first. */
  readonly #ready: Array<Array<Waiting<T, R>>> = [];
  #inFlight = 0;
  #linger: NodeJS.Timeout | undefined;
  #sent = 0;

  constructor(options: CallBatcherOptions<T, R>) {
    for (const key of ['maxSize', 'maxInFlight'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) {
        throw new RangeError(`CallBatcher ${key} must be a whole number of at least 1, not ${options[key]}`);
      }
    }
    this.#run = options.run;
    this.#maxSize = options.maxSize;
    this.#maxInFlight = options.maxInFlight;
    this.#lingerMs = Math.max(0, options.lingerMs);
  }

  /** Batches sent so far (for tests and benchmarks). */
  get batchesSent(): number {
    return this.#sent;
  }

  /** Items waiting in a batch that has not been sent yet. */
  get waiting(): number {
    return this.#open.length + this.#ready.reduce((sum, batch) => sum + batch.length, 0);
  }

  /**
   * Adds `item` to the open batch; settles with its outcome once that batch has run. `linger`
   * false: the item starts no linger timer, so its batch leaves only when full, on flush(), or
   * on the timer of another item in it (for a caller that knows more items are on their way).
   */
  submit(item: T, { linger = true }: { linger?: boolean } = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#open.push({ item, resolve, reject });
      if (this.#open.length >= this.#maxSize) {
        this.#close();
      } else if (linger && this.#linger === undefined) {
        this.#linger = setTimeout(() => this.#close(), this.#lingerMs);
      }
    });
  }

  /** Sends the open batch now (as soon as a slot is free): the owner knows no more items are coming soon. */
  flush(): void {
    if (this.#open.length > 0) this.#close();
  }

  #close(): void {
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#linger = undefined;
    if (this.#open.length === 0) return;
    this.#ready.push(this.#open);
    this.#open = [];
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight) {
      const batch = this.#ready.shift();
      if (batch === undefined) return;
      this.#inFlight++;
      this.#sent++;
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #send(batch: Array<Waiting<T, R>>): Promise<void> {
    let outcomes: ReadonlyArray<ItemOutcome<R>>;
    try {
      outcomes = await this.#run(batch.map((w) => w.item));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) waiting.reject(new Error(`CallBatcher: the batch runner gave no outcome for item ${i}`));
      else if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  }
}
