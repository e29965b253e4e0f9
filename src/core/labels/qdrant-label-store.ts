// The LabelStore in Qdrant, for teams whose vectors live there: the query log, result messages
// and labels become payload-only records in one collection, so every findimage host that shares
// the Qdrant server shares the labels too.
import type { Schemas } from '@qdrant/js-client-rest';
import type { Logger } from 'pino';
import { FindimageError, StoreError } from '../errors.js';
import { uuidFromText } from '../indexing/point-id.js';
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

const KEYWORD_INDEXES = ['kind', 'tenant', 'query_id', 'image_id', 'user'] as const;

type RecordKind = 'query' | 'message' | 'label';

interface RecordPayload {
  kind: RecordKind;
  tenant: string;
  query_id: string;
  image_id?: string;
  user?: string;
  /** The record itself, as JSON. */
  record: string;
}

export interface QdrantLabelStoreOptions extends Omit<QdrantConnectionOptions, 'logger'> {
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
      await connection.call(`create collection ${collection}`, (c) =>
        c.createCollection(collection, { vectors: { size: PLACEHOLDER_VECTOR.length, distance: 'Cosine' } }),
      );
      for (const field of KEYWORD_INDEXES) {
        await connection.call(`create the ${field} index on ${collection}`, (c) =>
          c.createPayloadIndex(collection, { field_name: field, field_schema: 'keyword', wait: true }),
        );
      }
      logger.info({ collection }, 'label collection created');
    }
  } catch (error) {
    connection.close();
    throw error;
  }
  return new QdrantLabelStore(connection, collection);
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
    const id = recordId('message', message.tenant, message.conversation, message.messageId);
    const existing = await this.#get(id, message.tenant);
    if (existing !== undefined) {
      const shown = JSON.parse(existing.record) as ResultMessage;
      if (shown.queryId === message.queryId && shown.imageId === message.imageId) return;
      throw new FindimageError(
        'internal',
        `Message ${message.messageId} already shows another result; one message must show exactly one result.`,
        { details: { conversation: message.conversation, messageId: message.messageId } },
      );
    }
    await this.#put(id, {
      kind: 'message',
      tenant: message.tenant,
      query_id: message.queryId,
      image_id: message.imageId,
      record: JSON.stringify(message),
    });
  }

  async findResultMessage(tenant: string, conversation: string, messageId: string): Promise<ResultMessage | undefined> {
    const found = await this.#get(recordId('message', tenant, conversation, messageId), tenant);
    return found === undefined ? undefined : (JSON.parse(found.record) as ResultMessage);
  }

  async resultMessagesForQuery(tenant: string, queryId: string): Promise<ResultMessage[]> {
    const records = await this.#scroll('message', tenant, { query_id: queryId });
    return records
      .map((r) => JSON.parse(r.record) as ResultMessage)
      .sort((a, b) => a.rank - b.rank || compare(a.messageId, b.messageId));
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
      queries: queries.map((r) => queryFromJson(r.record)),
      resultMessages: messages.map((r) => JSON.parse(r.record) as ResultMessage),
      labels: labels.map((r) => labelFromJson(r.record)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()),
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
    const must: Schemas['FieldCondition'][] = [
      { key: 'kind', match: { value: kind } },
      ...(tenant === undefined ? [] : [{ key: 'tenant', match: { value: tenant } }]),
      ...Object.entries(match).map(([key, value]) => ({ key, match: { value } })),
    ];
    const records: RecordPayload[] = [];
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
      for (const point of page.points) if (point.payload) records.push(asRecordPayload(point.payload));
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
