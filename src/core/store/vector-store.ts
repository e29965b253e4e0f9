// The seam between findimage and wherever vectors live: the embedded SQLite store by default,
// Qdrant when configured. Every read and delete takes a required scope (tenant, and optionally
// the channels a conversation may see) built from the event, never from the query text; only
// scroll(), the whole-store walk of migration and re-indexing, is not scoped.

/**
 * One place an image was shared: a chat message in a conversation. An image (tenant + content
 * hash) is stored once with every share; it is visible wherever any one of its shares is.
 */
export interface ImageShare {
  /** Channel or conversation id. */
  conversation: string;
  /**
   * Whether every member of the tenant can see that conversation: recorded when it was shared,
   * and changed with setSharesPublic() when the platform says the conversation turned private or
   * public.
   */
  isPublic: boolean;
  /** When it was shared, ISO 8601. */
  sharedAt: string;
  /** Platform message id (Slack ts, Discord message id). */
  messageId?: string;
  /** Platform file or attachment id. */
  fileId?: string;
  /** User id of whoever shared it. */
  uploader?: string;
  /** A link a person can open to see the original. */
  permalink?: string;
}

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
  /** When the image was first shared or the file was modified, ISO 8601. */
  createdAt: string;
  /** Pixel size of the decoded image (after EXIF rotation). */
  width: number;
  /** Pixel height of the decoded image (after EXIF rotation). */
  height: number;
  /**
   * Every chat share of the image, oldest first; empty for images indexed from a folder. Two
   * shares are the same share when conversation, messageId and fileId are all equal.
   */
  shares: ImageShare[];
  /** Absolute path on disk, for images indexed from a folder. */
  path?: string;
}

/** A point to write. `vector` must be L2-normalised and of the store's dimension. */
export interface PointInput {
  /** The point's id (pointIdFor(tenant, contentHash) for indexed images). */
  id: string;
  /** The image's embedding, L2-normalised, of the store's dimension. */
  vector: Float32Array;
  /** What is stored with the vector. */
  payload: ImagePayload;
}

/** A stored point, with its vector when asked for. */
export interface StoredPoint {
  /** The point's id, as it was written. */
  id: string;
  /** What is stored with the vector. */
  payload: ImagePayload;
  /** The vector, only when it was asked for. */
  vector?: Float32Array;
}

/** A query hit. `score` is the cosine similarity, in [-1, 1], highest first. */
export interface ScoredPoint {
  /** The point's id. */
  id: string;
  /** Cosine similarity to the query vector, in [-1, 1]. */
  score: number;
  /** What is stored with the vector. */
  payload: ImagePayload;
}

/**
 * Which conversations' images may be shown: a point matches when one of its shares is in one of
 * `conversations`, or (with `includePublic`) is public. Built from the chat event, never from
 * the query text. An empty `conversations` list with includePublic false matches nothing.
 */
export interface ShareScope {
  /** Conversations whose shares are shown whatever their flag. */
  conversations: readonly string[];
  /** Whether a share marked public, in any conversation of the tenant, is shown too. */
  includePublic: boolean;
}

/**
 * Narrowing on shares. A point matches when ONE share meets every given field AND the scope:
 * "in:#private from:@ann" typed in a public channel matches only a share in #private that is
 * visible here, never a public share elsewhere plus a private one in #private. A list that is
 * given but empty matches nothing.
 */
export interface ShareFilter {
  /** The share is in one of these conversations (the user's in:#channel). */
  conversations?: readonly string[];
  /** The share was made by one of these users (from:@user). */
  uploaders?: readonly string[];
  /** The share's messageId equals this exactly. */
  messageId?: string;
  /** The share's fileId equals this exactly. */
  fileId?: string;
}

/**
 * Which points a call may touch: tenant = T AND (a share in scope, meeting `share`) AND the
 * point-level fields AND NOT the excluded ids. `tenant` is required so that forgetting a scope
 * can never return another team's images. The same filter means the same set of points in
 * query(), count(), deleteByFilter() and removeShares(). Stores apply it inside the store, before
 * ranking, so pages are exact and stable; nothing is filtered after the fact.
 */
export interface PointFilter {
  /** Only this tenant's points. Must be non-empty: an empty tenant is refused (query_invalid). */
  tenant: string;
  /**
   * The conversations this caller may see. Omitted: no share restriction (the CLI, local
   * folders). Given: points without shares (folder images) never match.
   */
  scope?: ShareScope;
  /** Conditions one share must meet, together with `scope`. Points without shares never match. */
  share?: ShareFilter;
  /** Points from one of these sources ("local", "slack", "discord"). */
  sources?: readonly string[];
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

/**
 * Who reads or deletes points by id: the tenant (required, non-empty), and optionally the
 * conversations the caller may see, with the same meaning as in PointFilter. Ids are derived
 * from tenant and content, but an id can come from a user (a web URL, a button's value), so the
 * store itself keeps other tenants' and invisible points out rather than trusting each caller.
 */
export type PointScope = Pick<PointFilter, 'tenant' | 'scope'>;

/** How get() reads: who reads, and whether the vectors come back too. */
export interface GetOptions extends PointScope {
  /** Also return each point's vector (default false). */
  withVector?: boolean;
}

/** What removeShares() did. */
export interface SharesRemoved {
  /** Shares taken off points that keep other shares. */
  shares: number;
  /** Points deleted because their last share went. */
  points: number;
}

export interface QueryOptions {
  /** The scope and narrowing; applied before ranking, so a narrow filter still fills a page. */
  filter: PointFilter;
  /** How many hits to return, at most: a whole number >= 1; offset + limit <= 10,000. */
  limit: number;
  /** Hits to skip first, for pagination (default 0). */
  offset?: number;
  /**
   * Forces an exact search (every matching vector compared). By default a store may answer from
   * an approximate index where that is much faster; the approximate tier of the contract holds
   * it to recall@10 >= 0.99 against this exact answer. Benchmarks and recall checks set it.
   */
  exact?: boolean;
}

/** One page of a full walk over a store, for migration and re-indexing. */
export interface ScrollPage {
  /** This page's points, with their vectors. */
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
   * The points with these ids that exist and that `options` may see (in any order, each once):
   * only `options.tenant`'s, and with `options.scope` only those with a share visible in it, as
   * query() decides. An id that is missing, another tenant's or not visible is skipped alike,
   * so a caller learns nothing about it. An empty tenant is refused (query_invalid).
   */
  get(ids: readonly string[], options: GetOptions): Promise<StoredPoint[]>;

  /**
   * Deletes the points with these ids that `scope` may see (as get() picks them); resolves to
   * how many were deleted. Another tenant's id is left alone and not counted.
   */
  delete(ids: readonly string[], scope: PointScope): Promise<number>;

  /** Deletes every point the filter matches, whatever its shares; resolves to how many were removed. */
  deleteByFilter(filter: PointFilter): Promise<number>;

  /**
   * Adds shares to an existing point of `tenant` (an image seen again in another conversation).
   * A share equal to a stored one (same conversation, messageId and fileId) replaces it; others
   * are appended. Atomic per point. Resolves to false when the point does not exist (or is
   * another tenant's), and nothing is written.
   */
  addShares(tenant: string, id: string, shares: readonly ImageShare[]): Promise<boolean>;

  /**
   * Takes every share matching `filter.share` (which must be given) off the points of
   * `filter.tenant`; a point left with no shares is deleted. Points without shares (folder
   * images) are never touched. Used when a message, file or conversation is deleted.
   */
  removeShares(filter: PointFilter & { share: ShareFilter }): Promise<SharesRemoved>;

  /**
   * Sets `isPublic` on every share in `conversation` among `tenant`'s points, and on no other
   * share: the conversation was made private (false) or public (true) on its platform. Other
   * shares of the same images, other tenants' points and folder images are untouched. Queries,
   * counts and deletions see the new flag as soon as this resolves (a scope with includePublic
   * stops or starts matching those shares). Resolves to how many shares changed; shares that
   * already had the flag do not count, so calling it again is harmless. An empty tenant or
   * conversation is refused (query_invalid).
   */
  setSharesPublic(tenant: string, conversation: string, isPublic: boolean): Promise<number>;

  /** Number of points the filter matches, or of all points (every tenant) without one. */
  count(filter?: PointFilter): Promise<number>;

  /** Totals by source and model over the whole store. */
  stats(): Promise<StoreStats>;

  /**
   * Walks every point in id order (plain string order; ids are lowercase UUIDs), `limit` at a
   * time (1 to 10,000), with vectors. The one read that is not scoped, on purpose: migration
   * and re-indexing copy every tenant's points, and no user input reaches it; search and chat
   * code never call it.
   */
  scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage>;

  /** Releases files and connections. Later calls reject with StoreError; closing twice is fine. */
  close(): Promise<void>;
}
