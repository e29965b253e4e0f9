// The LabelStore in Qdrant, for teams whose vectors live there: the query log, result messages
// (one record per message and image) and labels become payload-only records in one collection, so every findimage host that shares
// the Qdrant server shares the labels too.
import type { Schemas } from '@qdrant/js-client-rest';
import type { Logger } from 'pino';
import { FindimageError, StoreError } from '../errors.js';
import { uuidFromText } from '../indexing/point-id.js';
import { clusterParams, noteKeptLayout, type ClusterLayout } from '../store/qdrant/cluster-layout.js';
import { collectionExists } from '../store/qdrant/collection-setup.js';
import { QdrantConnection, type QdrantConnectionOptions } from '../store/qdrant/qdrant-connection.js';
import { MalformedResponseError } from '../store/qdrant/qdrant-failure.js';
import type { Label, LabelFilter, LabelKey, LabelStore, LabelStoreContents, QueryRecord, ResultMessage } from './label-store.js';
import { queryFromJson, queryToJson } from './query-record-json.js';

/** The collection that holds every tenant's labels (labels name images, not models). */
export const LABELS_COLLECTION = 'findimage_labels';

/**
 * Qdrant stores points with vectors; label records are found by id and payload filters only, so
 * each carries the same one-number placeholder.
 */
const PLACEHOLDER_VECTOR = [1];

/** Records read per scroll request. */
const SCROLL_PAGE = 1_000;

/** Payload fields that lookups filter on; made on a new collection and added to an older one. */
const KEYWORD_INDEXES = ['kind', 'tenant', 'query_id', 'image_id', 'user', 'conversation', 'message_id'] as const;

type RecordKind = 'query' | 'message' | 'label';

interface RecordPayload {
  kind: RecordKind;
  tenant: string;
  query_id: string;
  image_id?: string;
  user?: string;
  /** Of a result message: the conversation it was posted in. */
  conversation?: string;
  /** Of a result message: its platform id. */
  message_id?: string;
  /** The record itself, as JSON. */
  record: string;
}

export interface QdrantLabelStoreOptions extends Omit<QdrantConnectionOptions, 'logger'>, ClusterLayout {
  logger: Logger;
  /** Collection name (default LABELS_COLLECTION). */
  collection?: string;
}

/** Connects, creates the collection and its indexes if missing, and returns the store. */
export async function openQdrantLabelStore(options: QdrantLabelStoreOptions): Promise<QdrantLabelStore> {
  const logger = options.logger.child({ component: 'qdrant-labels' });
  const connection = new QdrantConnection({ ...options, logger });
  const collection = options.collection ?? LABELS_COLLECTION;
  try {
    await connection.serverVersion();
    if (!(await collectionExists(connection, collection))) {
      // Labels are shared by every replica, so they get the same shards and copies as the images.
      const layout = clusterParams(options);
      await connection.call(`create collection ${collection}`, (c) =>
        c.createCollection(collection, { vectors: { size: PLACEHOLDER_VECTOR.length, distance: 'Cosine' }, ...layout }),
      );
      await createMissingIndexes(connection, collection, new Set());
      logger.info({ collection, ...layout }, 'label collection created');
    } else {
      const info = await connection.call(`read collection ${collection}`, (c) => c.getCollection(collection));
      noteKeptLayout(logger, collection, info.config?.params, options);
      await createMissingIndexes(connection, collection, new Set(Object.keys(info.payload_schema ?? {})));
    }
    const store = new QdrantLabelStore(connection, collection);
    const upgraded = await store.upgradeMessageRecords();
    if (upgraded > 0) logger.info({ collection, upgraded }, 'result message records rekeyed by message and image');
    return store;
  } catch (error) {
    connection.close();
    throw error;
  }
}

async function createMissingIndexes(connection: QdrantConnection, collection: string, existing: ReadonlySet<string>): Promise<void> {
  for (const field of KEYWORD_INDEXES) {
    if (existing.has(field)) continue;
    await connection.call(`create the ${field} index on ${collection}`, (c) =>
      c.createPayloadIndex(collection, { field_name: field, field_schema: 'keyword', wait: true }),
    );
  }
}

export class QdrantLabelStore implements LabelStore {
  readonly #connection: QdrantConnection;
  readonly #collection: string;

  constructor(connection: QdrantConnection, collection: string) {
    this.#connection = connection;
    this.#collection = collection;
  }

  async recordQuery(query: QueryRecord): Promise<void> {
    await this.#put(recordId('query', query.tenant, query.queryId), {
      kind: 'query',
      tenant: query.tenant,
      query_id: query.queryId,
      record: queryToJson(query),
    });
  }

  async getQuery(tenant: string, queryId: string): Promise<QueryRecord | undefined> {
    const found = await this.#get(recordId('query', tenant, queryId), tenant);
    return found === undefined ? undefined : queryFromJson(found.record);
  }

  async recordResultMessage(message: ResultMessage): Promise<void> {
    const shown = await this.findResultMessages(message.tenant, message.conversation, message.messageId);
    if (shown.some((m) => m.queryId !== message.queryId)) {
      throw new FindimageError(
        'internal',
        `Message ${message.messageId} already shows the results of another query; one message answers one query.`,
        { details: { conversation: message.conversation, messageId: message.messageId, queryId: message.queryId } },
      );
    }
    if (shown.some((m) => m.imageId === message.imageId)) return;
    await this.#put(messageId(message), messagePayload(message));
  }

  async findResultMessages(tenant: string, conversation: string, messageId: string): Promise<ResultMessage[]> {
    const records = await this.#scroll('message', tenant, { conversation, message_id: messageId });
    return records.map((r) => resultFromJson(r.record)).sort(byRank);
  }

  /**
   * Rekeys result message records written before a message could show several results: they
   * were keyed by message alone and lacked the conversation and message id in their payload.
   * Runs on every open; finds nothing once done, and is safe to repeat after an interruption
   * (the new record is written before the old one is deleted). Resolves to how many it rekeyed.
   */
  async upgradeMessageRecords(): Promise<number> {
    const old = await this.#scrollWhere('message', [{ is_empty: { key: 'message_id' } }]);
    for (const { id, payload } of old) {
      const message = resultFromJson(payload.record);
      await this.#put(messageId(message), messagePayload(message));
      await this.#connection.call(`delete an old result message record from ${this.#collection}`, (c) =>
        c.delete(this.#collection, { wait: true, points: [id] }),
      );
    }
    return old.length;
  }

  async resultMessagesForQuery(tenant: string, queryId: string): Promise<ResultMessage[]> {
    const records = await this.#scroll('message', tenant, { query_id: queryId });
    return records.map((r) => resultFromJson(r.record)).sort(byRank);
  }

  async addLabel(label: Omit<Label, 'createdAt'> & { createdAt?: Date }): Promise<Label> {
    const id = labelId(label);
    const existing = await this.#get(id, label.tenant);
    if (existing !== undefined) return labelFromJson(existing.record);
    const stored: Label = { ...label, createdAt: label.createdAt ?? new Date() };
    await this.#put(id, {
      kind: 'label',
      tenant: label.tenant,
      query_id: label.queryId,
      image_id: label.imageId,
      user: label.user,
      record: JSON.stringify(stored),
    });
    return labelFromJson(JSON.stringify(stored));
  }

  async removeLabel(key: LabelKey): Promise<boolean> {
    const id = labelId(key);
    if ((await this.#get(id, key.tenant)) === undefined) return false;
    await this.#connection.call(`delete a label from ${this.#collection}`, (c) =>
      c.delete(this.#collection, { wait: true, points: [id] }),
    );
    return true;
  }

  async listLabels(filter: LabelFilter): Promise<Label[]> {
    const match: Partial<Record<'query_id' | 'image_id' | 'user', string>> = {};
    if (filter.queryId !== undefined) match.query_id = filter.queryId;
    if (filter.imageId !== undefined) match.image_id = filter.imageId;
    if (filter.user !== undefined) match.user = filter.user;
    const labels = (await this.#scroll('label', filter.tenant, match)).map((r) => labelFromJson(r.record));
    // Oldest first, as the SQLite store returns them; ties in a fixed order.
    return labels.sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(labelId(a), labelId(b)),
    );
  }

  async exportAll(): Promise<LabelStoreContents> {
    const [queries, messages, labels] = await Promise.all([
      this.#scroll('query'),
      this.#scroll('message'),
      this.#scroll('label'),
    ]);
    return {
      queries: queries
        .map((r) => queryFromJson(r.record))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.tenant, b.tenant) || compare(a.queryId, b.queryId)),
      resultMessages: messages
        .map((r) => resultFromJson(r.record))
        .sort((a, b) => compare(a.tenant, b.tenant) || compare(a.queryId, b.queryId) || byRank(a, b)),
      labels: labels
        .map((r) => labelFromJson(r.record))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(labelId(a), labelId(b))),
    };
  }

  async close(): Promise<void> {
    this.#connection.close();
  }

  async #put(id: string, payload: RecordPayload): Promise<void> {
    await this.#connection.call(`save a ${payload.kind} record in ${this.#collection}`, (c) =>
      c.upsert(this.#collection, {
        wait: true,
        points: [{ id, vector: PLACEHOLDER_VECTOR, payload: { ...payload } }],
      }),
    );
  }

  /** The record with this id, if it exists and belongs to the tenant. */
  async #get(id: string, tenant: string): Promise<RecordPayload | undefined> {
    const found = await this.#connection.call(`read a record from ${this.#collection}`, (c) =>
      c.retrieve(this.#collection, { ids: [id], with_payload: true, with_vector: false }),
    );
    if (!Array.isArray(found)) throw new MalformedResponseError('points lookup returned no list');
    const payload = found[0]?.payload;
    if (payload === undefined || payload === null) return undefined;
    const record = asRecordPayload(payload);
    return record.tenant === tenant ? record : undefined;
  }

  /** Every record of a kind (in a tenant, when given) matching the payload values, in pages. */
  async #scroll(kind: RecordKind, tenant?: string, match: Record<string, string> = {}): Promise<RecordPayload[]> {
    const conditions: Schemas['Condition'][] = [
      ...(tenant === undefined ? [] : [{ key: 'tenant', match: { value: tenant } }]),
      ...Object.entries(match).map(([key, value]) => ({ key, match: { value } })),
    ];
    return (await this.#scrollWhere(kind, conditions)).map((r) => r.payload);
  }

  /** Every record of a kind meeting all the conditions, with its id, in pages. */
  async #scrollWhere(
    kind: RecordKind,
    conditions: Schemas['Condition'][],
  ): Promise<Array<{ id: Schemas['ExtendedPointId']; payload: RecordPayload }>> {
    const must: Schemas['Condition'][] = [{ key: 'kind', match: { value: kind } }, ...conditions];
    const records: Array<{ id: Schemas['ExtendedPointId']; payload: RecordPayload }> = [];
    let offset: Schemas['ExtendedPointId'] | undefined;
    do {
      const page = await this.#connection.call(`list ${kind} records in ${this.#collection}`, (c) =>
        c.scroll(this.#collection, {
          filter: { must },
          limit: SCROLL_PAGE,
          with_payload: true,
          with_vector: false,
          ...(offset === undefined ? {} : { offset }),
        }),
      );
      if (!Array.isArray(page?.points)) throw new MalformedResponseError('scroll returned no points list');
      for (const point of page.points) if (point.payload) records.push({ id: point.id, payload: asRecordPayload(point.payload) });
      const next = page.next_page_offset;
      offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
    } while (offset !== undefined);
    return records;
  }
}

/** A UUID (as Qdrant requires) from a record's identifying parts. */
function recordId(...parts: string[]): string {
  return uuidFromText(`findimage-label\u0000${parts.join('\u0000')}`);
}

/** One record per (message, image): a message may show several results. */
function messageId(message: ResultMessage): string {
  return recordId('message', message.tenant, message.conversation, message.messageId, message.imageId);
}

function messagePayload(message: ResultMessage): RecordPayload {
  return {
    kind: 'message',
    tenant: message.tenant,
    query_id: message.queryId,
    image_id: message.imageId,
    conversation: message.conversation,
    message_id: message.messageId,
    record: JSON.stringify(message),
  };
}

/** A result message as saved; `postedBy` is absent from records made before it was kept. */
function resultFromJson(json: string): ResultMessage {
  return JSON.parse(json) as ResultMessage;
}

/** By rank, ties in a fixed order. */
function byRank(a: ResultMessage, b: ResultMessage): number {
  return a.rank - b.rank || compare(a.messageId, b.messageId) || compare(a.imageId, b.imageId);
}

function labelId(key: LabelKey): string {
  return recordId('label', key.tenant, key.queryId, key.imageId, key.user, String(key.value));
}

function labelFromJson(json: string): Label {
  const stored = JSON.parse(json) as Omit<Label, 'createdAt'> & { createdAt: string };
  return { ...stored, createdAt: new Date(stored.createdAt) };
}

function asRecordPayload(payload: Record<string, unknown>): RecordPayload {
  if (typeof payload.record !== 'string' || typeof payload.tenant !== 'string') {
    throw new StoreError('store_failed', 'A label record in Qdrant is malformed (no record or tenant).');
  }
  return payload as unknown as RecordPayload;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
