// A VectorStore that may not be reachable yet: `findimage serve` starts even while Qdrant is
// down, keeps connecting in the background, and answers "unavailable" (a transient error the
// upload queue retries) until it is connected. Nothing a user uploads meanwhile is lost.
import type { Logger } from 'pino';
import { FindimageError, StoreError, asFindimageError, isTransient } from '../errors.js';
import type { PointFilter, PointInput, QueryOptions, ScoredPoint, ScrollPage, StoreStats, StoredPoint, VectorStore } from './vector-store.js';

export interface ReconnectingStoreOptions {
  /** Opens the real store; called again after each transient failure. */
  open: () => Promise<VectorStore>;
  dimension: number;
  /** Named in messages ("Qdrant at http://qdrant:6333"). */
  description: string;
  logger: Logger;
  /** First delay between attempts; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

const DEFAULT_RETRY_DELAY_MS = 1_000;
/** A restarted server is picked up within a minute. */
const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

export class ReconnectingStore implements VectorStore {
  readonly dimension: number;
  readonly #options: ReconnectingStoreOptions;
  #store: VectorStore | undefined;
  /** Set when opening failed in a way retrying cannot fix (wrong key, wrong schema). */
  #fatal: FindimageError | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #connected: Promise<void>;
  #markConnected: () => void = () => {};

  constructor(options: ReconnectingStoreOptions) {
    this.dimension = options.dimension;
    this.#options = options;
    this.#connected = new Promise((resolve) => (this.#markConnected = resolve));
    void this.#attempt(0);
  }

  /** Resolves once connected (for tests and start-up logs); never rejects. */
  whenConnected(): Promise<void> {
    return this.#connected;
  }

  async #attempt(retry: number): Promise<void> {
    if (this.#closed) return;
    const { open, logger, description } = this.#options;
    try {
      const store = await open();
      if (this.#closed) {
        await store.close();
        return;
      }
      this.#store = store;
      logger.info({ store: description }, 'vector store connected');
      this.#markConnected();
    } catch (thrown) {
      const error = asFindimageError(thrown);
      if (!isTransient(error)) {
        this.#fatal = error;
        logger.error({ store: description, code: error.code, err: thrown }, 'vector store cannot be used; not retrying');
        return;
      }
      const base = this.#options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
      const delay = Math.min(base * 2 ** retry, this.#options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
      logger.warn({ store: description, code: error.code, retryInMs: delay }, 'vector store unreachable; retrying');
      this.#timer = setTimeout(() => void this.#attempt(retry + 1), delay);
      this.#timer.unref();
    }
  }

  #ready(): VectorStore {
    if (this.#store !== undefined) return this.#store;
    if (this.#fatal !== undefined) throw this.#fatal;
    if (this.#closed) throw new StoreError('store_failed', 'The vector store is closed.');
    throw new StoreError(
      'store_unavailable',
      `The image index (${this.#options.description}) is not reachable yet. findimage keeps trying; uploads are queued and indexed once it is back.`,
    );
  }

  upsert(points: readonly PointInput[]): Promise<void> {
    return this.#call((s) => s.upsert(points));
  }
  query(vector: Float32Array, options: QueryOptions): Promise<ScoredPoint[]> {
    return this.#call((s) => s.query(vector, options));
  }
  get(ids: readonly string[], options?: { withVector?: boolean }): Promise<StoredPoint[]> {
    return this.#call((s) => s.get(ids, options));
  }
  delete(ids: readonly string[]): Promise<number> {
    return this.#call((s) => s.delete(ids));
  }
  deleteByFilter(filter: PointFilter): Promise<number> {
    return this.#call((s) => s.deleteByFilter(filter));
  }
  count(filter?: PointFilter): Promise<number> {
    return this.#call((s) => s.count(filter));
  }
  stats(): Promise<StoreStats> {
    return this.#call((s) => s.stats());
  }
  scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage> {
    return this.#call((s) => s.scroll(options));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#store?.close();
  }

  async #call<T>(run: (store: VectorStore) => Promise<T>): Promise<T> {
    return run(this.#ready());
  }
}
