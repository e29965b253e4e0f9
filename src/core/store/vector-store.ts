// The seam between findimage and wherever vectors live: the embedded SQLite store by default,
// Qdrant when configured. Every read and delete takes a required scope (tenant, and optionally
// the channels a conversation may see) built from the event, never from the query text.

/** What findimage remembers about one indexed image, stored beside its vector. */
export interface ImagePayload {
  /** Workspace, guild or "local": nothing ever crosses tenants. */
  tenant: string;
  /** Where the image came from: "local", "slack", "discord". */
  source: string;
  /** Original file name, for display. */
  filename: string;
  /** sha256 of the original bytes, hex. Two uploads of the same bytes share a point. */
  contentHash: string;
  /** The model whose vector this is (a store never mixes models). */
  modelId: string;
  /** When the image was shared or the file was modified, ISO 8601. */
  createdAt: string;
  /** Pixel size of the decoded image (after EXIF rotation). */
  width: number;
  height: number;
  /** Channel or conversation id, when the image came from a chat. */
  channel?: string;
  /** Whether every member of the tenant could see the channel (a public channel). */
  channelIsPublic?: boolean;
  /** User id of whoever shared the image. */
  uploader?: string;
  /** Platform message id (Slack ts, Discord message id). */
  messageId?: string;
  /** Platform file or attachment id. */
  fileId?: string;
  /** Absolute path on disk, for images indexed from a folder. */
  path?: string;
  /** A link a person can open to see the original. */
  permalink?: string;
}

/** A point to write. `vector` must be L2-normalised and of the store's dimension. */
export interface PointInput {
  id: string;
  vector: Float32Array;
  payload: ImagePayload;
}

/** A stored point, with its vector when asked for. */
export interface StoredPoint {
  id: string;
  payload: ImagePayload;
  vector?: Float32Array;
}

/** A query hit. `score` is the cosine similarity, in [-1, 1], highest first. */
export interface ScoredPoint {
  id: string;
  score: number;
  payload: ImagePayload;
}

/**
 * Which points a call may touch. `tenant` is required so that forgetting a scope can never
 * return another team's images. Optional fields narrow further; all given fields must match.
 * The same filter means the same set of points in query(), count() and deleteByFilter().
 * A list field that is given but empty matches nothing (an empty allow-list allows nothing).
 */
export interface PointFilter {
  /** Only this tenant's points. Must be non-empty: an empty tenant is refused (query_invalid). */
  tenant: string;
  /**
   * Points whose channel is one of these. Combined with `includePublic`, a point matches when
   * it is in one of these channels OR its channel is public. A point without a channel (a local
   * folder image) never matches a `channels` filter.
   */
  channels?: readonly string[];
  /**
   * With `channels`: also allow points whose payload has `channelIsPublic: true`. Without
   * `channels` it changes nothing (no channel restriction is applied at all).
   */
  includePublic?: boolean;
  /** Points shared by one of these users; a point without an uploader never matches. */
  uploaders?: readonly string[];
  /** Points from one of these sources ("local", "slack", "discord"). */
  sources?: readonly string[];
  /** Points whose payload messageId equals this exactly. */
  messageId?: string;
  /** Points whose payload fileId equals this exactly. */
  fileId?: string;
  /** Only points created at or after this instant (compared to payload.createdAt, to the ms). */
  after?: Date;
  /** Only points created strictly before this instant. */
  before?: Date;
  /**
   * Never return, count or delete these point ids (used for "more like this" and negative
   * feedback). Ids that do not exist are ignored.
   */
  excludeIds?: readonly string[];
}

export interface QueryOptions {
  /** The scope and narrowing; applied before ranking, so a narrow filter still fills a page. */
  filter: PointFilter;
  /** How many hits to return, at most: a whole number >= 1; offset + limit <= 10,000. */
  limit: number;
  /** Hits to skip first, for pagination (default 0). */
  offset?: number;
}

/** One page of a full walk over a store, for migration and re-indexing. */
export interface ScrollPage {
  points: StoredPoint[];
  /** Opaque; pass to the next scroll() call. Undefined when the walk is over. */
  nextCursor?: string;
}

/** Counts for `findimage stats`. */
export interface StoreStats {
  /** Points in the whole store, every tenant. */
  total: number;
  /** Points per payload.source; sources with no points are absent. */
  bySource: Record<string, number>;
  /** Points per payload.modelId; models with no points are absent. */
  byModel: Record<string, number>;
}

/**
 * A store of image vectors and their payloads. Implementations: SqliteVectorStore (embedded,
 * the default) and QdrantStore. Both pass the contract suite in vector-store.contract.ts.
 */
export interface VectorStore {
  /** Vector length this store was created for; writes of another length are refused. */
  readonly dimension: number;

  /**
   * Writes points; replaces any point with the same id (payload and vector). The batch is
   * atomic: a point with a vector of the wrong length or a non-finite number, or a payload
   * without tenant or with a createdAt that is not a date, rejects the whole batch with
   * StoreError 'vector_invalid' and nothing is written. Resolves once durable.
   */
  upsert(points: readonly PointInput[]): Promise<void>;

  /**
   * Top hits by cosine similarity within the filter, highest score first, ties by id ascending
   * (plain string order). A query vector of the wrong length rejects with 'vector_invalid'.
   */
  query(vector: Float32Array, options: QueryOptions): Promise<ScoredPoint[]>;

  /**
   * The points with these ids that exist (in any order, each once); missing ids are skipped.
   * Not scoped: ids are derived from tenant and content, so callers hold only their tenant's
   * ids; a caller that takes an id from a user must check `payload.tenant` itself.
   */
  get(ids: readonly string[], options?: { withVector?: boolean }): Promise<StoredPoint[]>;

  /** Deletes points by id (not scoped, like get); resolves to how many of them existed. */
  delete(ids: readonly string[]): Promise<number>;

  /** Deletes every point the filter matches; resolves to how many were removed. */
  deleteByFilter(filter: PointFilter): Promise<number>;

  /** Number of points the filter matches, or of all points (every tenant) without one. */
  count(filter?: PointFilter): Promise<number>;

  /** Totals by source and model over the whole store. */
  stats(): Promise<StoreStats>;

  /**
   * Walks every point in id order (plain string order; ids are lowercase UUIDs), `limit` at a
   * time (1 to 10,000), with vectors. Not scoped: for migration and re-indexing only.
   */
  scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage>;

  /** Releases files and connections. Later calls reject with StoreError; closing twice is fine. */
  close(): Promise<void>;
}
