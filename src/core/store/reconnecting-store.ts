// A VectorStore that may not be reachable yet: `findimage serve` starts even while Qdrant is
// down, keeps connecting in the background, and answers "unavailable" (a transient error the
// upload queue retries) until it is connected. Nothing a user uploads meanwhile is lost. The
// "unavailable" error says what the last try saw, for the log and the CLI; chat gets its short
// public message.
import type { Logger } from 'pino';
import { FindimageError, StoreError, asFindimageError } from '../errors.js';
import { Reconnector } from './reconnector.js';
import type {
  GetOptions,
  ImageShare,
  PointFilter,
  PointInput,
  PointScope,
  QueryOptions,
  ScoredPoint,
  ScrollPage,
  ShareFilter,
  SharesRemoved,
  StoreStats,
  StoredPoint,
  VectorStore,
} from './vector-store.js';

export interface ReconnectingStoreOptions {
  /** Opens the real store; called again after each transient failure. */
  open: () => Promise<VectorStore>;
  /** Vector length of the model, answered while the real store is not open yet. */
  dimension: number;
  /** Named in messages ("Qdrant at http://qdrant:6333"). */
  description: string;
  /** Where failed opens and reconnections are logged. */
  logger: Logger;
  /** First delay between attempts; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  /** Longest delay between attempts. */
  maxRetryDelayMs?: number;
}

export class ReconnectingStore implements VectorStore {
  readonly dimension: number;
  readonly #connection: Reconnector<VectorStore>;
  readonly #description: string;
  /** Why the last attempt to open failed; undefined once connected. */
  #lastFailure: FindimageError | undefined;

  constructor(options: ReconnectingStoreOptions) {
    this.dimension = options.dimension;
    this.#description = options.description;
    this.#connection = new Reconnector({
      ...options,
      open: async () => {
        try {
          const store = await options.open();
          this.#lastFailure = undefined;
          return store;
        } catch (error) {
          this.#lastFailure = asFindimageError(error);
          throw error;
        }
      },
      unavailableMessage: this.#unavailableMessage(undefined),
    });
  }

  #unavailableMessage(seen: FindimageError | undefined): string {
    const why = seen === undefined ? '' : ` The last try: ${seen.message}`;
    return (
      `The image index (${this.#description}) is not reachable yet.${why} ` +
      'findimage keeps trying; uploads are queued and indexed once it is back.'
    );
  }

  /** The connected store; until then an "unavailable" error that says what the last try saw. */
  #current(): VectorStore {
    try {
      return this.#connection.current();
    } catch (error) {
      const seen = this.#lastFailure;
      if (!(error instanceof StoreError) || error.code !== 'store_unavailable' || seen === undefined) throw error;
      throw new StoreError('store_unavailable', this.#unavailableMessage(seen), { cause: seen, details: seen.details });
    }
  }

  /** Resolves once connected (for tests and start-up logs); never rejects. */
  whenConnected(): Promise<void> {
    return this.#connection.whenConnected();
  }

  async upsert(points: readonly PointInput[]): Promise<void> {
    return this.#current().upsert(points);
  }
  async query(vector: Float32Array, options: QueryOptions): Promise<ScoredPoint[]> {
    return this.#current().query(vector, options);
  }
  async get(ids: readonly string[], options: GetOptions): Promise<StoredPoint[]> {
    return this.#current().get(ids, options);
  }
  async delete(ids: readonly string[], scope: PointScope): Promise<number> {
    return this.#current().delete(ids, scope);
  }
  async deleteByFilter(filter: PointFilter): Promise<number> {
    return this.#current().deleteByFilter(filter);
  }
  async addShares(tenant: string, id: string, shares: readonly ImageShare[]): Promise<boolean> {
    return this.#current().addShares(tenant, id, shares);
  }
  async removeShares(filter: PointFilter & { share: ShareFilter }): Promise<SharesRemoved> {
    return this.#current().removeShares(filter);
  }
  async setSharesPublic(tenant: string, conversation: string, isPublic: boolean): Promise<number> {
    return this.#current().setSharesPublic(tenant, conversation, isPublic);
  }
  async count(filter?: PointFilter): Promise<number> {
    return this.#current().count(filter);
  }
  async stats(): Promise<StoreStats> {
    return this.#current().stats();
  }
  async scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage> {
    return this.#current().scroll(options);
  }
  close(): Promise<void> {
    return this.#connection.close();
  }
}
