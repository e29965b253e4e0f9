// How a findimage point is laid out in Qdrant: a UUID point id, and the payload under
// snake_case keys, with every chat share as one object in the `shares` array (keys conversation,
// is_public, shared_at, message_id, file_id, uploader, permalink) and the caller's own id kept in
// `point_id`. Points written before shares existed (a flat channel, channel_is_public, uploader,
// message_id, file_id and permalink) still read, as one share.
import { createHash } from 'node:crypto';
import type { Schemas } from '@qdrant/js-client-rest';
import { StoreError } from '../../errors.js';
import type { ImagePayload, ImageShare, PointInput } from '../vector-store.js';
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
  shares: 'shares',
  path: 'path',
} as const satisfies Record<keyof ImagePayload, string>;

/** ImageShare field -> key inside each element of the `shares` array. */
const SHARE_KEYS = {
  conversation: 'conversation',
  isPublic: 'is_public',
  sharedAt: 'shared_at',
  messageId: 'message_id',
  fileId: 'file_id',
  uploader: 'uploader',
  permalink: 'permalink',
} as const satisfies Record<keyof ImageShare, string>;

/** Payload key holding the caller's id. */
export const POINT_ID_KEY = 'point_id';

/** Payload keys by ImagePayload field, for filters and indexes. */
export const PAYLOAD_KEY: typeof KEYS = KEYS;

/** Keys inside one share object, relative to the element (as a nested filter names them). */
export const SHARE_KEY: typeof SHARE_KEYS = SHARE_KEYS;

/** The payload index path of a share key ("shares[].conversation"), as Qdrant names nested fields. */
export function sharePath(key: string): string {
  return `${KEYS.shares}[].${key}`;
}

/**
 * The flat payload keys of the first layout, one share per point. Read so that old collections
 * keep working, and removed when payload-upgrade.ts rewrites such a point.
 */
export const LEGACY_KEY = {
  channel: 'channel',
  channelIsPublic: 'channel_is_public',
  uploader: 'uploader',
  messageId: 'message_id',
  fileId: 'file_id',
  permalink: 'permalink',
} as const;

const REQUIRED_TEXT = ['tenant', 'source', 'filename', 'contentHash', 'modelId', 'createdAt'] as const;
const OPTIONAL_SHARE_TEXT = ['messageId', 'fileId', 'uploader', 'permalink'] as const;

/** A share as stored in Qdrant: snake_case keys, absent optional fields left out. */
export function toQdrantShare(share: ImageShare): Record<string, unknown> {
  const out: Record<string, unknown> = {
    [SHARE_KEYS.conversation]: share.conversation,
    [SHARE_KEYS.isPublic]: share.isPublic,
    [SHARE_KEYS.sharedAt]: share.sharedAt,
  };
  for (const field of OPTIONAL_SHARE_TEXT) {
    const value = share[field];
    if (value !== undefined) out[SHARE_KEYS[field]] = value;
  }
  return out;
}

/** The Qdrant payload of an ImagePayload, with the caller's id. */
export function toQdrantPayload(id: string, payload: ImagePayload): Schemas['Payload'] {
  const out: Schemas['Payload'] = { [POINT_ID_KEY]: id };
  for (const [field, key] of Object.entries(KEYS) as Array<[keyof ImagePayload, string]>) {
    if (field === 'shares') continue;
    const value = payload[field];
    if (value !== undefined) out[key] = value;
  }
  out[KEYS.shares] = payload.shares.map(toQdrantShare);
  return out;
}

/** A point as Qdrant's upsert takes it. */
export function toQdrantPoint(point: PointInput): Schemas['PointStruct'] {
  return { id: toQdrantId(point.id), vector: Array.from(point.vector), payload: toQdrantPayload(point.id, point.payload) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a stored payload is of the first layout: no `shares` array at all. */
export function isLegacyPayload(raw: Record<string, unknown>): boolean {
  return raw[KEYS.shares] === undefined || raw[KEYS.shares] === null;
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
  const path = raw[KEYS.path];
  if (path !== undefined && path !== null) {
    if (typeof path !== 'string') throw foreign(`a "${KEYS.path}" that is not text`);
    out.path = path;
  }
  out.shares = isLegacyPayload(raw) ? legacyShares(raw, out.createdAt as string, foreign) : readShares(raw[KEYS.shares], foreign);
  const ownId = raw[POINT_ID_KEY];
  return { id: typeof ownId === 'string' ? ownId : String(qdrantId), payload: out as ImagePayload };
}

function readShares(raw: unknown, foreign: (what: string) => StoreError): ImageShare[] {
  if (!Array.isArray(raw)) throw foreign(`a "${KEYS.shares}" that is not a list`);
  return raw.map((item, i) => {
    const where = `${KEYS.shares}[${i}]`;
    if (!isObject(item)) throw foreign(`a "${where}" that is not an object`);
    const conversation = item[SHARE_KEYS.conversation];
    const isPublic = item[SHARE_KEYS.isPublic];
    const sharedAt = item[SHARE_KEYS.sharedAt];
    if (typeof conversation !== 'string') throw foreign(`no "${where}.${SHARE_KEYS.conversation}" text`);
    if (typeof isPublic !== 'boolean') throw foreign(`no "${where}.${SHARE_KEYS.isPublic}" true or false`);
    if (typeof sharedAt !== 'string') throw foreign(`no "${where}.${SHARE_KEYS.sharedAt}" text`);
    const share: ImageShare = { conversation, isPublic, sharedAt };
    for (const field of OPTIONAL_SHARE_TEXT) {
      const value = item[SHARE_KEYS[field]];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') throw foreign(`a "${where}.${SHARE_KEYS[field]}" that is not text`);
      share[field] = value;
    }
    return share;
  });
}

/**
 * The shares of a first-layout point: one, shared when the point was created, when it names a
 * channel; none (a folder image) otherwise.
 */
function legacyShares(raw: Record<string, unknown>, createdAt: string, foreign: (what: string) => StoreError): ImageShare[] {
  const text = (key: string): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw foreign(`a "${key}" that is not text`);
    return value;
  };
  const conversation = text(LEGACY_KEY.channel);
  if (conversation === undefined) return [];
  const isPublic = raw[LEGACY_KEY.channelIsPublic];
  if (isPublic !== undefined && isPublic !== null && typeof isPublic !== 'boolean') {
    throw foreign(`a "${LEGACY_KEY.channelIsPublic}" that is not true or false`);
  }
  // An old point without channel_is_public is treated as private: the safe reading of "unknown".
  const share: ImageShare = { conversation, isPublic: isPublic === true, sharedAt: createdAt };
  for (const field of OPTIONAL_SHARE_TEXT) {
    const value = text(LEGACY_KEY[field]);
    if (value !== undefined) share[field] = value;
  }
  return share.conversation === '' ? [] : [share];
}

/** A stored vector as Qdrant returns it (a plain array for the unnamed vector). */
export function fromQdrantVector(raw: unknown, dimension: number, id: string): Float32Array {
  if (!Array.isArray(raw) || raw.length !== dimension || !raw.every((v) => typeof v === 'number')) {
    throw new MalformedResponseError(`point ${id} came without a ${dimension}-number vector`);
  }
  return Float32Array.from(raw as number[]);
}
