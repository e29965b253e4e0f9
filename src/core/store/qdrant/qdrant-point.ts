// How a findimage point is laid out in Qdrant: a UUID point id, and the payload under
// snake_case keys (the indexed ones: tenant, channel, uploader, message_id, file_id, source,
// model_id, created_at), with the caller's own id kept in `point_id`.
import { createHash } from 'node:crypto';
import type { Schemas } from '@qdrant/js-client-rest';
import { StoreError } from '../../errors.js';
import type { ImagePayload, PointInput } from '../vector-store.js';
import { MalformedResponseError } from './qdrant-failure.js';

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The Qdrant id of a point. findimage's ids are already lowercase UUIDs (pointIdFor), used as
 * they are so that Qdrant's id order is the id order; any other string (Qdrant accepts only
 * UUIDs and integers) is mapped to a UUID derived from it, and the original kept in the payload.
 */
export function toQdrantId(id: string): string {
  if (CANONICAL_UUID.test(id)) return id;
  const digest = createHash('sha256').update(`findimage-point-id\u0000${id}`).digest();
  digest[6] = ((digest[6] as number) & 0x0f) | 0x80;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a string is a Qdrant id as Qdrant prints it (used to check scroll cursors). */
export function isQdrantId(text: string): boolean {
  return CANONICAL_UUID.test(text);
}

/** ImagePayload field -> Qdrant payload key, for every field; optional ones are left out when absent. */
const KEYS = {
  tenant: 'tenant',
  source: 'source',
  filename: 'filename',
  contentHash: 'content_hash',
  modelId: 'model_id',
  createdAt: 'created_at',
  width: 'width',
  height: 'height',
  channel: 'channel',
  channelIsPublic: 'channel_is_public',
  uploader: 'uploader',
  messageId: 'message_id',
  fileId: 'file_id',
  path: 'path',
  permalink: 'permalink',
} as const satisfies Record<keyof ImagePayload, string>;

/** Payload key holding the caller's id. */
export const POINT_ID_KEY = 'point_id';

/** Payload keys by ImagePayload field, for filters and indexes. */
export const PAYLOAD_KEY: typeof KEYS = KEYS;

const REQUIRED_TEXT = ['tenant', 'source', 'filename', 'contentHash', 'modelId', 'createdAt'] as const;
const OPTIONAL_TEXT = ['channel', 'uploader', 'messageId', 'fileId', 'path', 'permalink'] as const;

/** A point as Qdrant's upsert takes it. */
export function toQdrantPoint(point: PointInput): Schemas['PointStruct'] {
  const payload: Schemas['Payload'] = { [POINT_ID_KEY]: point.id };
  for (const [field, key] of Object.entries(KEYS) as Array<[keyof ImagePayload, string]>) {
    const value = point.payload[field];
    if (value !== undefined) payload[key] = value;
  }
  return { id: toQdrantId(point.id), vector: Array.from(point.vector), payload };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a stored point's id and payload. A payload without findimage's fields was not written by
 * findimage: a schema mismatch, named with the collection, not a crash.
 */
export function fromQdrantPayload(
  qdrantId: unknown,
  raw: unknown,
  collection: string,
): { id: string; payload: ImagePayload } {
  if (typeof qdrantId !== 'string' && typeof qdrantId !== 'number') {
    throw new MalformedResponseError(`a point has the id ${JSON.stringify(qdrantId)}`);
  }
  if (!isObject(raw)) throw new MalformedResponseError(`point ${qdrantId} came without its payload`);
  const foreign = (what: string): StoreError =>
    new StoreError(
      'store_schema_mismatch',
      `Point ${qdrantId} in the Qdrant collection ${collection} has ${what}: it was not written by findimage. ` +
        'Give findimage a collection of its own (another QDRANT_URL, or remove the foreign points).',
      { details: { collection, point: qdrantId } },
    );
  const out: Partial<Record<keyof ImagePayload, unknown>> = {};
  for (const field of REQUIRED_TEXT) {
    const value = raw[KEYS[field]];
    if (typeof value !== 'string') throw foreign(`no "${KEYS[field]}" text`);
    out[field] = value;
  }
  for (const field of ['width', 'height'] as const) {
    const value = raw[KEYS[field]];
    if (typeof value !== 'number') throw foreign(`no "${KEYS[field]}" number`);
    out[field] = value;
  }
  for (const field of OPTIONAL_TEXT) {
    const value = raw[KEYS[field]];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw foreign(`a "${KEYS[field]}" that is not text`);
    out[field] = value;
  }
  const isPublic = raw[KEYS.channelIsPublic];
  if (isPublic !== undefined && isPublic !== null) {
    if (typeof isPublic !== 'boolean') throw foreign(`a "${KEYS.channelIsPublic}" that is not true or false`);
    out.channelIsPublic = isPublic;
  }
  const ownId = raw[POINT_ID_KEY];
  return { id: typeof ownId === 'string' ? ownId : String(qdrantId), payload: out as ImagePayload };
}

/** A stored vector as Qdrant returns it (a plain array for the unnamed vector). */
export function fromQdrantVector(raw: unknown, dimension: number, id: string): Float32Array {
  if (!Array.isArray(raw) || raw.length !== dimension || !raw.every((v) => typeof v === 'number')) {
    throw new MalformedResponseError(`point ${id} came without a ${dimension}-number vector`);
  }
  return Float32Array.from(raw as number[]);
}
