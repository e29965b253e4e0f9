// A VectorStore that may not be reachable yet: `findimage serve` starts even while Qdrant is
// down, keeps connecting in the background, and answers "unavailable" (a transient error the
// upload queue retries) until it is connected. Nothing a user uploads meanwhile is lost.
import type { Logger } from 'pino';
import { Reconnector } from './reconnector.js';
import type {
  ImageShare,
  PointFilter,
  PointInput,
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
  dimension: number;
  /** Named in messages ("Qdrant at http://qdrant:6333"). */
  description: string;
  logger: Logger;
  /** First delay between attempts; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

export class ReconnectingStore implements VectorStore {
  readonly dimension: number;
  readonly #connection: Reconnector<VectorStore>;

  constructor(options: ReconnectingStoreOptions) {
    this.dimension = options.dimension;
    this.#connection = new Reconnector({
      ...options,
      unavailableMessage: `The image index (${options.description}) is not reachable yet. findimage keeps trying; uploads are queued and indexed once it is back.`,
    });
  }

  /** Resolves once connected (for tests and start-up logs); never rejects. */
  whenConnected(): Promise<void> {
    return this.#connection.whenConnected();
  }

  async upsert(points: readonly PointInput[]): Promise<void> {
    return this.#connection.current().upsert(points);
  }
  async query(vector: Float32Array, options: QueryOptions): Promise<ScoredPoint[]> {
    return this.#connection.current().query(vector, options);
  }
  async get(ids: readonly string[], options?: { withVector?: boolean }): Promise<StoredPoint[]> {
    return this.#connection.current().get(ids, options);
  }
  async delete(ids: readonly string[]): Promise<number> {
    return this.#connection.current().delete(ids);
  }
  async deleteByFilter(filter: PointFilter): Promise<number> {
    return this.#connection.current().deleteByFilter(filter);
  }
  async addShares(tenant: string, id: string, shares: readonly ImageShare[]): Promise<boolean> {
    return this.#connection.current().addShares(tenant, id, shares);
  }
  async removeShares(filter: PointFilter & { share: ShareFilter }): Promise<SharesRemoved> {
    return this.#connection.current().removeShares(filter);
  }
  async count(filter?: PointFilter): Promise<number> {
    return this.#connection.current().count(filter);
  }
  async stats(): Promise<StoreStats> {
    return this.#connection.current().stats();
  }
  async scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage> {
    return this.#connection.current().scroll(options);
  }
  close(): Promise<void> {
    return this.#connection.close();
  }
}
