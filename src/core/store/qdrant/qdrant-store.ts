// VectorStore on Qdrant: one collection per model behind an alias, upserts in batches with
// wait=true, scoped queries through the Query API (share conditions as one nested filter), share
// changes as payload updates, and every call retried and translated into StoreErrors by the
// connection. Used when QDRANT_URL is set.
import type { Schemas } from '@qdrant/js-client-rest';
import type { Logger } from '../../../logger.js';
import { StoreError } from '../../errors.js';
import { withConversationPublic } from '../image-shares.js';
import { KeyedLock } from '../keyed-lock.js';
import {
  checkFilter,
  checkPoints,
  checkPrivacyChange,
  checkQueryWindow,
  checkScrollLimit,
  checkShareRemoval,
  checkShares,
  checkVector,
  MAX_QUERY_WINDOW,
  pointScopeFilter,
} from '../point-validation.js';
import type {
  GetOptions,
  ImageShare,
  PointFilter,
  PointInput,
  PointScope,
  QueryOptions,
  ScoredPoint,
  ScrollPage,
  SharesRemoved,
  ShareFilter,
  StoredPoint,
  StoreStats,
  VectorStore,
} from '../vector-store.js';
import {
  DEFAULT_COLLECTION_PREFIX,
  ensureLiveCollection,
  type CollectionFacts,
} from './collection-setup.js';
import { layoutOf, type ClusterLayout } from './cluster-layout.js';
import { QdrantConnection, type QdrantConnectionOptions } from './qdrant-connection.js';
import { MalformedResponseError } from './qdrant-failure.js';
import { privacyChangeFilter, shareMatcher, toQdrantFilter } from './qdrant-filter.js';
import {
  fromQdrantPayload,
  fromQdrantVector,
  isLegacyPayload,
  isQdrantId,
  PAYLOAD_KEY,
  toQdrantId,
  toQdrantPayload,
  toQdrantPoint,
  toQdrantShare,
} from './qdrant-point.js';
import { DEFAULT_RETRY_POLICY, STARTUP_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

/**
 * Points per upsert request. A 512-d point with its payload is about 11 KB of JSON, so 256 make
 * a 2.8 MB body, far below Qdrant's 32 MB request limit; bench/qdrant-adapter.ts measured no gain
 * from 1024-point batches over 256 (about 5,000 points/s either way), only costlier retries.
 */
export const UPSERT_BATCH_SIZE = 256;

/** Ids per retrieve or delete request: ids are small, but one request should stay bounded. */
export const ID_BATCH_SIZE = 1_000;

/**
 * Points read per page while removing shares; each then costs one payload update in a single
 * batch request, so a page stays a few hundred KB.
 */
export const SHARE_REMOVAL_PAGE_SIZE = 256;

/**
 * Distinct sources or models stats() reports. There are three sources and one model per
 * collection, so the cap only guards against a collection filled by something else.
 */
export const STATS_FACET_LIMIT = 1_000;

/**
 * With int8 quantization, fetch twice the candidates from the quantized vectors and rescore
 * them with the originals: the accuracy loss of int8 then stays under measurement noise.
 */
export const QUANTIZATION_OVERSAMPLING = 2;

export interface QdrantStoreOptions extends QdrantConnectionOptions, ClusterLayout {
  /** The model whose vectors this store holds; names the collection and is checked on open. */
  modelId: string;
  /** Vector length of the model. */
  dimension: number;
  /** Serve vectors from disk (QDRANT_ON_DISK); applies when the collection is created. */
  onDisk: boolean;
  /** Scalar int8 quantization with rescoring (QDRANT_QUANTIZATION=int8); applies on creation. */
  quantization: boolean;
  /** Alias of the live collection and prefix of collection names (default "findimage"). */
  collectionPrefix?: string;
  /** Retry policy while opening, when Qdrant may still be starting (default STARTUP_RETRY_POLICY); `retry` applies afterwards. */
  startupRetry?: RetryPolicy;
  /** Points per upsert request (default UPSERT_BATCH_SIZE). */
  upsertBatchSize?: number;
}

/** What QdrantStore needs once its collection is known. */
export interface QdrantStoreParts {
  /** The connection every call goes through. */
  connection: QdrantConnection;
  /** The collection to read and write, as checked or created. */
  collection: CollectionFacts;
  /** Where debug lines and warnings go. */
  logger: Logger;
  /** Whether close() also closes the connection (false when several stores share it). */
  ownsConnection: boolean;
  /** Points per upsert request (default UPSERT_BATCH_SIZE). */
  upsertBatchSize?: number;
}

/**
 * Connects to Qdrant, waits for it while it starts (STARTUP_RETRY_POLICY), makes or checks the
 * live collection for the model, and returns the store. Throws StoreError: store_unavailable
 * (unreachable), store_auth (key refused) or store_schema_mismatch (another size or model).
 */
export async function openQdrantStore(options: QdrantStoreOptions): Promise<QdrantStore> {
  const logger = options.logger.child({ component: 'qdrant-store' });
  // Patient while opening, when Qdrant may still be starting; the serving policy afterwards.
  const connection = new QdrantConnection({ ...options, logger, retry: options.startupRetry ?? STARTUP_RETRY_POLICY });
  try {
    const version = await connection.serverVersion();
    logger.info({ url: connection.url, version }, 'connected to Qdrant');
    const collection = await ensureLiveCollection(connection, {
      alias: options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX,
      spec: {
        modelId: options.modelId,
        dimension: options.dimension,
        onDisk: options.onDisk,
        quantization: options.quantization,
        layout: layoutOf(options),
      },
      logger,
    });
    connection.retryPolicy = options.retry ?? DEFAULT_RETRY_POLICY;
    return new QdrantStore({
      connection,
      collection,
      logger,
      ownsConnection: true,
      upsertBatchSize: options.upsertBatchSize,
    });
  } catch (error) {
    connection.close();
    throw error;
  }
}

/** Whether two shares are the same share: same conversation, messageId and fileId. */
function sameShare(a: ImageShare, b: ImageShare): boolean {
  return a.conversation === b.conversation && a.messageId === b.messageId && a.fileId === b.fileId;
}

/** `stored` with each of `added` replacing its equal in place, or appended when it has none. */
function mergeShares(stored: readonly ImageShare[], added: readonly ImageShare[]): ImageShare[] {
  const out = [...stored];
  for (const share of added) {
    const at = out.findIndex((s) => sameShare(s, share));
    if (at === -1) out.push(share);
    else out[at] = share;
  }
  return out;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One point's write in a share walk, and what to count once it is written. */
interface PointChange {
  /** The batch operation that writes this point. */
  operation: Schemas['UpdateOperation'];
  /** Adds this point's change to the walk's totals; called only once the write succeeded. */
  count: () => void;
}

/** Highest score first, then lowest id: the VectorStore order, whatever order Qdrant gave ties. */
function byScoreThenId(a: ScoredPoint, b: ScoredPoint): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class QdrantStore implements VectorStore {
  readonly dimension: number;
  /** The model whose vectors this store holds. */
  readonly modelId: string;
  /** The concrete collection (not the alias) this store reads and writes. */
  readonly collection: string;
  readonly #connection: QdrantConnection;
  readonly #logger: Logger;
  readonly #ownsConnection: boolean;
  readonly #batchSize: number;
  readonly #searchParams: Schemas['SearchParams'] | undefined;
  /** One lock per point id, held around each read-modify-write of a point's shares. */
  readonly #points = new KeyedLock();
  #closed = false;

  constructor(parts: QdrantStoreParts) {
    this.#connection = parts.connection;
    this.collection = parts.collection.name;
    this.modelId = parts.collection.modelId;
    this.dimension = parts.collection.dimension;
    this.#logger = parts.logger;
    this.#ownsConnection = parts.ownsConnection;
    this.#batchSize = parts.upsertBatchSize ?? UPSERT_BATCH_SIZE;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new StoreError('store_failed', `The Qdrant upsert batch size must be a whole number of at least 1, not ${this.#batchSize}.`);
    }
    this.#searchParams = parts.collection.quantized
      ? { quantization: { rescore: true, oversampling: QUANTIZATION_OVERSAMPLING } }
      : undefined;
  }

  async upsert(points: readonly PointInput[]): Promise<void> {
    this.#assertOpen();
    checkPoints(points, this.dimension);
    for (const batch of chunks(points, this.#batchSize)) {
      const body = batch.map(toQdrantPoint);
      const result = await this.#connection.call(`upsert ${body.length} points into ${this.collection}`, async (c) => {
        const update = await c.upsert(this.collection, { wait: true, points: body });
        if (update?.status !== 'completed') {
          // wait=true answers once the write is applied; "acknowledged" or "wait_timeout" would
          // mean it is queued but not yet readable, which upsert() must not report as done.
          throw new MalformedResponseError(`the upsert came back "${String(update?.status)}", not "completed"`);
        }
        return update;
      });
      this.#logger.debug({ collection: this.collection, points: body.length, operation: result.operation_id }, 'upserted');
    }
  }

  async query(vector: Float32Array, options: QueryOptions): Promise<ScoredPoint[]> {
    this.#assertOpen();
    checkVector(vector, this.dimension, 'The query vector');
    checkFilter(options.filter);
    const offset = options.offset ?? 0;
    checkQueryWindow(options.limit, offset);
    const filter = toQdrantFilter(options.filter);
    if (filter === null) return [];
    const end = offset + options.limit;
    const query = Array.from(vector);
    // Qdrant orders equal scores as it likes; to sort ties by id across pages, fetch past the
    // window until the score after it is lower than the window's last, so no tie is cut.
    let fetch = end + 1;
    for (;;) {
      const response = await this.#connection.call(`search ${this.collection}`, (c) =>
        c.query(this.collection, {
          query,
          filter,
          limit: fetch,
          with_payload: true,
          with_vector: false,
          ...this.#paramsFor(options),
        }),
      );
      if (!Array.isArray(response?.points)) throw this.#malformed('search', 'the answer has no "points" list');
      const hits = response.points.map((p) => this.#scored(p)).sort(byScoreThenId);
      const complete =
        hits.length < fetch || fetch >= 2 * MAX_QUERY_WINDOW || (hits[fetch - 1] as ScoredPoint).score < (hits[end - 1] as ScoredPoint).score;
      if (complete) return hits.slice(offset, end);
      fetch = Math.min(fetch * 2, 2 * MAX_QUERY_WINDOW);
    }
  }

  async get(ids: readonly string[], options: GetOptions): Promise<StoredPoint[]> {
    this.#assertOpen();
    const scope = pointScopeFilter(options);
    return (await this.#visible(ids, scope, options.withVector === true)).flat();
  }

  async delete(ids: readonly string[], scope: PointScope): Promise<number> {
    this.#assertOpen();
    const checked = pointScopeFilter(scope);
    let removed = 0;
    for (const points of await this.#visible(ids, checked, false)) {
      if (points.length === 0) continue;
      await this.#connection.call(`delete ${points.length} points from ${this.collection}`, (c) =>
        c.delete(this.collection, { wait: true, points: points.map((p) => toQdrantId(p.id)) }),
      );
      removed += points.length;
    }
    return removed;
  }

  async deleteByFilter(filter: PointFilter): Promise<number> {
    this.#assertOpen();
    checkFilter(filter);
    const qdrantFilter = toQdrantFilter(filter);
    if (qdrantFilter === null) return 0;
    // Qdrant's delete does not say how many it removed: count just before. A point written by
    // another process between the two calls may be removed without being counted.
    const count = await this.#count(qdrantFilter);
    if (count === 0) return 0;
    await this.#connection.call(`delete points from ${this.collection}`, (c) =>
      c.delete(this.collection, { wait: true, filter: qdrantFilter }),
    );
    return count;
  }

  /**
   * Reads the point, merges the shares in code and writes the whole `shares` array back with
   * set_payload, which replaces that one key atomically (Qdrant has no array append). The read
   * and the write hold the point's lock, so the other share writers of this process
   * (removeShares, setSharesPublic) cannot slip in between and have their change undone. Two
   * *hosts* writing the same point at the same moment can still each read before the other
   * writes; the image stays visible through its other shares, and the next sighting of a lost
   * share adds it again. A point deleted between the read and the write is not there: false.
   */
  async addShares(tenant: string, id: string, shares: readonly ImageShare[]): Promise<boolean> {
    this.#assertOpen();
    checkShares(shares, `Point ${id}`);
    const qdrantId = toQdrantId(id);
    return this.#points.withKeys([qdrantId], async () => {
      const records = await this.#retrieve([qdrantId], `read point ${id} of ${this.collection}`);
      const record = records[0];
      if (record === undefined) return false;
      const { id: ownId, payload } = this.#read(record.id, record.payload);
      if (ownId !== id || payload.tenant !== tenant) return false;
      if (shares.length === 0) return true;
      const merged = mergeShares(payload.shares, shares);
      // A point still of the old layout is rewritten whole, so that its flat share fields go.
      const legacy = isLegacyPayload(record.payload as Record<string, unknown>);
      const written = await this.#writeUnlessGone(`add ${shares.length} shares to point ${id} of ${this.collection}`, (c) =>
        legacy
          ? c.overwritePayload(this.collection, {
              wait: true,
              points: [qdrantId],
              payload: toQdrantPayload(id, { ...payload, shares: merged }),
            })
          : c.setPayload(this.collection, {
              wait: true,
              points: [qdrantId],
              payload: { [PAYLOAD_KEY.shares]: merged.map(toQdrantShare) },
            }),
      );
      if (written) this.#logger.debug({ collection: this.collection, id, shares: merged.length }, 'shares added');
      return written;
    });
  }

  /**
   * Walks the points the filter matches (those with a matching share) a page at a time. Per
   * page it takes the locks of the page's points, reads them again (the page was read before
   * the locks), and sends one batch: each point either loses its matching shares (set_payload
   * of the rest) or, when none is left, is deleted. A point gone meanwhile is skipped. Another
   * host writing the same point at the same moment can still race, as in addShares().
   */
  async removeShares(filter: PointFilter & { share: ShareFilter }): Promise<SharesRemoved> {
    this.#assertOpen();
    checkShareRemoval(filter);
    const qdrantFilter = toQdrantFilter(filter);
    const removed: SharesRemoved = { shares: 0, points: 0 };
    if (qdrantFilter === null) return removed;
    const matches = shareMatcher(filter);
    await this.#walkLocked(qdrantFilter, 'find shares to remove', `remove shares from ${this.collection}`, (record) => {
      const { id, payload } = this.#read(record.id, record.payload);
      const kept = payload.shares.filter((s) => !matches(s));
      if (kept.length === payload.shares.length) return null;
      if (kept.length === 0) {
        return { operation: { delete: { points: [record.id] } }, count: () => (removed.points += 1) };
      }
      return {
        operation: isLegacyPayload(record.payload as Record<string, unknown>)
          ? { overwrite_payload: { points: [record.id], payload: toQdrantPayload(id, { ...payload, shares: kept }) } }
          : { set_payload: { points: [record.id], payload: { [PAYLOAD_KEY.shares]: kept.map(toQdrantShare) } } },
        count: () => (removed.shares += payload.shares.length - kept.length),
      };
    });
    if (removed.shares + removed.points > 0) {
      this.#logger.debug({ collection: this.collection, ...removed }, 'shares removed');
    }
    return removed;
  }

  /**
   * Walks the points with a share in the conversation whose flag differs, a page at a time, and
   * per page, holding the page's point locks and after reading the points again, sends one
   * batch of set_payload writes of each point's whole `shares` array (Qdrant cannot set one
   * field of one array element). A point deleted meanwhile has nothing left to change and is
   * skipped, so the rest of the walk still happens. Another host writing the same point at the
   * same moment can still race, as in addShares().
   */
  async setSharesPublic(tenant: string, conversation: string, isPublic: boolean): Promise<number> {
    this.#assertOpen();
    checkPrivacyChange(tenant, conversation, isPublic);
    const filter = privacyChangeFilter(tenant, conversation, isPublic);
    let changed = 0;
    await this.#walkLocked(filter, `find shares of ${conversation}`, `change whether shares are public in ${this.collection}`, (record) => {
      const { payload } = this.#read(record.id, record.payload);
      if (payload.tenant !== tenant) return null;
      const result = withConversationPublic(payload.shares, conversation, isPublic);
      if (result.changed === 0) return null;
      return {
        operation: { set_payload: { points: [record.id], payload: { [PAYLOAD_KEY.shares]: result.shares.map(toQdrantShare) } } },
        count: () => (changed += result.changed),
      };
    });
    if (changed > 0) this.#logger.debug({ collection: this.collection, conversation, isPublic, shares: changed }, 'shares made public or private');
    return changed;
  }

  async count(filter?: PointFilter): Promise<number> {
    this.#assertOpen();
    if (filter === undefined) return this.#count(undefined);
    checkFilter(filter);
    const qdrantFilter = toQdrantFilter(filter);
    return qdrantFilter === null ? 0 : this.#count(qdrantFilter);
  }

  async stats(): Promise<StoreStats> {
    this.#assertOpen();
    const total = await this.#count(undefined);
    const [bySource, byModel] = await Promise.all([this.#facet(PAYLOAD_KEY.source), this.#facet(PAYLOAD_KEY.modelId)]);
    return { total, bySource, byModel };
  }

  async scroll(options: { cursor?: string; limit: number }): Promise<ScrollPage> {
    this.#assertOpen();
    checkScrollLimit(options.limit);
    if (options.cursor !== undefined && !isQdrantId(options.cursor)) {
      throw new StoreError('store_failed', `"${options.cursor}" is not a cursor this Qdrant store made.`);
    }
    const page = await this.#connection.call(`walk ${this.collection}`, (c) =>
      c.scroll(this.collection, {
        limit: options.limit,
        offset: options.cursor,
        with_payload: true,
        with_vector: true,
      }),
    );
    if (!Array.isArray(page?.points)) throw this.#malformed('walk', 'the answer has no "points" list');
    const next = page.next_page_offset;
    const result: ScrollPage = { points: page.points.map((p) => this.#stored(p, true)) };
    if (next !== undefined && next !== null) {
      if (typeof next !== 'string' || !isQdrantId(next)) throw this.#malformed('walk', `the next page offset is ${JSON.stringify(next)}`);
      result.nextCursor = next;
    }
    return result;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#ownsConnection) this.#connection.close();
  }

  /**
   * The search params of a query. An exact answer (QueryOptions.exact) compares every matching
   * original vector: no HNSW graph, and no int8 copy even in a quantized collection.
   */
  #paramsFor(options: QueryOptions): { params?: Schemas['SearchParams'] } {
    if (options.exact === true) {
      return { params: this.#searchParams === undefined ? { exact: true } : { exact: true, quantization: { ignore: true } } };
    }
    return this.#searchParams === undefined ? {} : { params: this.#searchParams };
  }

  /**
   * Scrolls the points `filter` matches a page at a time; per page, holds the locks of its
   * points, reads them again, asks `change` what to write for each, and writes the page's
   * changes in one batch. `count` of a change runs only once it is written (not for a point that
   * vanished). Offsets are point ids, so rewriting the field the filter matches on skips nothing.
   */
  async #walkLocked(
    filter: Schemas['Filter'],
    finding: string,
    writing: string,
    change: (record: Schemas['Record']) => PointChange | null,
  ): Promise<void> {
    let offset: string | undefined;
    for (;;) {
      const page = await this.#connection.call(`${finding} in ${this.collection}`, (c) =>
        c.scroll(this.collection, {
          limit: SHARE_REMOVAL_PAGE_SIZE,
          filter,
          with_payload: false,
          with_vector: false,
          ...(offset === undefined ? {} : { offset }),
        }),
      );
      if (!Array.isArray(page?.points)) throw this.#malformed(finding, 'the answer has no "points" list');
      const ids = page.points.map((p) => p.id);
      if (ids.length > 0) {
        await this.#points.withKeys(ids.map(String), async () => {
          // Read again under the locks: the page may predate a write that just finished.
          const records = await this.#retrieve(ids, `read ${ids.length} points of ${this.collection}`);
          const changes = records.map(change).filter((c): c is PointChange => c !== null);
          if (changes.length === 0) return;
          const whole = await this.#writeUnlessGone(writing, (c) =>
            c.batchUpdate(this.collection, { wait: true, operations: changes.map((x) => x.operation) }),
          );
          if (whole) {
            for (const x of changes) x.count();
            return;
          }
          // A point vanished between the read and the write (deleted by an upload's replacement,
          // a purge or another host): Qdrant refuses the batch. Write one at a time, skipping it.
          for (const x of changes) {
            const one = await this.#writeUnlessGone(writing, (c) =>
              c.batchUpdate(this.collection, { wait: true, operations: [x.operation] }),
            );
            if (one) x.count();
          }
        });
      }
      const next = page.next_page_offset;
      if (next === undefined || next === null) break;
      if (typeof next !== 'string' || !isQdrantId(next)) throw this.#malformed(finding, `the next page offset is ${JSON.stringify(next)}`);
      offset = next;
    }
  }

  /** Reads points with their payloads (no vectors); a missing id is simply not in the answer. */
  async #retrieve(ids: Array<string | number>, operation: string): Promise<Schemas['Record'][]> {
    const records = await this.#connection.call(operation, (c) =>
      c.retrieve(this.collection, { ids, with_payload: true, with_vector: false }),
    );
    if (!Array.isArray(records)) throw this.#malformed('read points', 'the answer is not a list');
    return records;
  }

  /**
   * Runs a write of existing points; false when Qdrant answers that a point is not there (it
   * was deleted since it was read), which for a share change means there is nothing to change.
   */
  async #writeUnlessGone(operation: string, run: (client: QdrantConnection['client']) => Promise<unknown>): Promise<boolean> {
    try {
      await this.#connection.call(operation, run);
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.details.kind === 'not_found') return false;
      throw error;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('store_failed', 'This Qdrant store was closed; open a new one.');
  }

  /**
   * Those of `ids` that `scope` (checked, tenant and scope only) may see, one list per batch. Qdrant's retrieve takes no
   * filter, so this is a scroll whose filter is the scope's (the one query() sends) AND has_id:
   * Qdrant itself leaves out other tenants' points and those with no share in the scope.
   */
  async #visible(ids: readonly string[], scope: PointFilter, withVector: boolean): Promise<StoredPoint[][]> {
    const batches: StoredPoint[][] = [];
    for (const batch of chunks([...new Set(ids)], ID_BATCH_SIZE)) {
      const filter = toQdrantFilter(scope, batch);
      if (filter === null) return [];
      const page = await this.#connection.call(`read ${batch.length} points of ${this.collection}`, (c) =>
        // Every wanted id fits in one page: the ids are distinct, so at most batch.length match.
        c.scroll(this.collection, { limit: batch.length, filter, with_payload: true, with_vector: withVector }),
      );
      if (!Array.isArray(page?.points)) throw this.#malformed('read points', 'the answer has no "points" list');
      const wanted = new Set(batch);
      // Two caller ids can only share a Qdrant id if one is the derived form of the other.
      batches.push(page.points.map((p) => this.#stored(p, withVector)).filter((p) => wanted.has(p.id)));
    }
    return batches;
  }

  async #count(filter: Schemas['Filter'] | undefined): Promise<number> {
    const result = await this.#connection.call(`count points in ${this.collection}`, (c) =>
      c.count(this.collection, { exact: true, ...(filter === undefined ? {} : { filter }) }),
    );
    if (typeof result?.count !== 'number') throw this.#malformed('count points', 'the answer has no "count"');
    return result.count;
  }

  async #facet(key: string): Promise<Record<string, number>> {
    const result = await this.#connection.call(`count ${key} values in ${this.collection}`, (c) =>
      c.facet(this.collection, { key, limit: STATS_FACET_LIMIT, exact: true }),
    );
    if (!Array.isArray(result?.hits)) throw this.#malformed(`count ${key} values`, 'the answer has no "hits" list');
    if (result.hits.length >= STATS_FACET_LIMIT) {
      this.#logger.warn({ key, limit: STATS_FACET_LIMIT }, 'stats show only the most common values');
    }
    const out: Record<string, number> = {};
    for (const hit of result.hits) out[String(hit.value)] = hit.count;
    return out;
  }

  #scored(raw: Schemas['ScoredPoint']): ScoredPoint {
    if (typeof raw?.score !== 'number') throw this.#malformed('search', 'a hit has no score');
    const { id, payload } = this.#read(raw.id, raw.payload);
    return { id, score: raw.score, payload };
  }

  #stored(raw: Schemas['Record'], withVector: boolean): StoredPoint {
    const { id, payload } = this.#read(raw?.id, raw?.payload);
    const point: StoredPoint = { id, payload };
    if (withVector) point.vector = this.#vector(raw.vector, id);
    return point;
  }

  #read(id: unknown, payload: unknown): { id: string; payload: StoredPoint['payload'] } {
    try {
      return fromQdrantPayload(id, payload, this.collection);
    } catch (error) {
      if (error instanceof MalformedResponseError) throw this.#malformed('read points', error.message);
      throw error;
    }
  }

  #vector(raw: unknown, id: string): Float32Array {
    try {
      return fromQdrantVector(raw, this.dimension, id);
    } catch (error) {
      if (error instanceof MalformedResponseError) throw this.#malformed('read vectors', error.message);
      throw error;
    }
  }

  #malformed(operation: string, detail: string): StoreError {
    return new StoreError(
      'store_failed',
      `Qdrant at ${this.#connection.url} sent a response findimage cannot read while trying to ${operation} in ${this.collection} (${detail}). ` +
        'Check that QDRANT_URL points at Qdrant itself and not at a proxy or another service.',
      { details: { url: this.#connection.url, collection: this.collection, operation } },
    );
  }
}
