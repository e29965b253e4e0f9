// One collection of the fake Qdrant: its config, payload indexes and points, and the point
// operations with Qdrant's semantics (Cosine vectors normalised at insert, f32 scores, scroll in
// id order, offsets and limits). Bodies are checked as strictly as Qdrant checks them.
import type { Schemas } from '@qdrant/js-client-rest';
import { FakeQdrantError, formatError } from './fake-qdrant-error.js';
import { compileFilter, lookup } from './fake-filter.js';
import {
  comparePointIds,
  parsePointId,
  pointKey,
  printPointId,
  type FakePointId,
} from './fake-point-id.js';

/** A stored point. `seq` is its insertion order, which decides ties between equal scores. */
interface FakePoint {
  id: FakePointId;
  vector: Float32Array;
  payload: Record<string, unknown>;
  seq: number;
  version: number;
}

/** Qdrant's default page size for scroll, query and facet when `limit` is absent. */
const DEFAULT_LIMIT = 10;

/** Payload types facet can count, as Qdrant requires of the key's index. */
const FACETABLE: ReadonlySet<string> = new Set(['keyword', 'integer', 'bool', 'uuid']);

const SCHEMA_TYPES: ReadonlySet<string> = new Set([
  'keyword', 'integer', 'float', 'geo', 'text', 'bool', 'datetime', 'uuid',
]);

const DISTANCES: ReadonlySet<string> = new Set(['Cosine', 'Euclid', 'Dot', 'Manhattan']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A CreateCollection count field as Qdrant's parser and validator treat it: absent or null
 * takes the default; anything but a whole number of at least 1 is refused.
 */
function countParam(body: Record<string, unknown>, field: string, fallback: number): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw formatError(`${field}: invalid value: ${JSON.stringify(value)}, expected u32`);
  }
  if (value < 1) throw new FakeQdrantError(422, `Validation error in JSON body: [${field}: value ${value} invalid, must be 1 or larger]`);
  return value;
}

/** How a new collection is spread when its CreateCollection body says nothing. */
export interface CollectionDefaults {
  /** Qdrant's default shard_number: 1 on a single server, the number of peers in a cluster. */
  shardNumber: number;
}

/** Reads a body that must be a JSON object. */
export function objectBody<T>(raw: unknown, what: string): T {
  if (!isObject(raw)) throw formatError(`${what} must be a JSON object`);
  return raw as T;
}

/** Search params Qdrant accepts, by key, with the JSON types it parses each as. */
const SEARCH_PARAM_TYPES: Readonly<Record<string, readonly string[]>> = {
  hnsw_ef: ['uint', 'null'],
  exact: ['boolean'],
  indexed_only: ['boolean'],
  quantization: ['object', 'null'],
  acorn: ['object', 'null'],
};
const QUANTIZATION_PARAM_TYPES: Readonly<Record<string, readonly string[]>> = {
  ignore: ['boolean'],
  rescore: ['boolean', 'null'],
  oversampling: ['number', 'null'],
};

/** Checks a query's `params` (SearchParams) as Qdrant's parser would; throws a format error. */
export function checkSearchParams(raw: unknown): void {
  if (raw === undefined || raw === null) return;
  checkFields(raw, 'params', SEARCH_PARAM_TYPES);
  const quantization = (raw as Record<string, unknown>).quantization;
  if (quantization !== undefined && quantization !== null) checkFields(quantization, 'params.quantization', QUANTIZATION_PARAM_TYPES);
}

function checkFields(raw: unknown, what: string, types: Readonly<Record<string, readonly string[]>>): void {
  if (!isObject(raw)) throw formatError(`invalid type: ${JSON.stringify(raw)}, expected struct for "${what}"`);
  for (const [key, value] of Object.entries(raw)) {
    const allowed = types[key];
    if (allowed === undefined) throw formatError(`unknown field \`${key}\` in "${what}", expected one of ${Object.keys(types).map((k) => `\`${k}\``).join(', ')}`);
    const type =
      value === null ? 'null'
      : typeof value === 'number' && Number.isInteger(value) && value >= 0 ? 'uint'
      : isObject(value) ? 'object'
      : typeof value;
    const accepted = allowed.includes(type) || (type === 'uint' && allowed.includes('number'));
    if (!accepted) throw formatError(`invalid type: ${JSON.stringify(value)}, expected ${allowed.join(' or ')} for "${what}.${key}"`);
  }
}

function optionalLimit(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw formatError(`invalid value: ${JSON.stringify(value)}, expected usize for "${name}"`);
  }
  return value;
}

/** Qdrant's Cosine preprocessing: divide by the norm unless it is (nearly) zero. */
function normalised(values: readonly number[]): Float32Array {
  const out = Float32Array.from(values);
  let sum = 0;
  for (const v of out) sum += v * v;
  const length = Math.sqrt(sum);
  if (length < 1.1920929e-7) return out;
  for (let i = 0; i < out.length; i++) out[i] = Math.fround((out[i] as number) / length);
  return out;
}

function selectPayload(
  payload: Record<string, unknown>,
  selector: Schemas['PointRequest']['with_payload'],
  fallback: boolean,
): Schemas['Payload'] | null {
  const spec = selector ?? fallback;
  if (spec === true) return { ...payload };
  if (spec === false) return null;
  if (Array.isArray(spec)) return Object.fromEntries(spec.filter((k) => k in payload).map((k) => [k, payload[k]]));
  if (isObject(spec) && 'include' in spec && Array.isArray(spec.include)) {
    return Object.fromEntries(spec.include.filter((k) => k in payload).map((k) => [k, payload[k]]));
  }
  if (isObject(spec) && 'exclude' in spec && Array.isArray(spec.exclude)) {
    const excluded = new Set(spec.exclude);
    return Object.fromEntries(Object.entries(payload).filter(([k]) => !excluded.has(k)));
  }
  throw formatError('data did not match any variant of untagged enum WithPayloadInterface');
}

function wantsVector(selector: Schemas['QueryRequest']['with_vector']): boolean {
  if (selector === undefined || selector === null || selector === false) return false;
  if (selector === true) return true;
  if (Array.isArray(selector)) return selector.includes('');
  throw formatError('data did not match any variant of untagged enum WithVector');
}

export class FakeCollection {
  readonly name: string;
  readonly vectors: Schemas['VectorParams'];
  readonly quantization: Schemas['QuantizationConfig'] | null;
  readonly onDiskPayload: boolean;
  /** shard_number, replication_factor and write_consistency_factor, as created (or defaulted). */
  readonly layout: { shard_number: number; replication_factor: number; write_consistency_factor: number };
  metadata: Schemas['Payload'];
  readonly #indexes = new Map<string, Schemas['PayloadFieldSchema']>();
  readonly #points = new Map<string, FakePoint>();
  #seq = 0;
  #operationId = 0;

  /** Builds a collection from a CreateCollection body, refusing what Qdrant would refuse. */
  constructor(name: string, raw: unknown, defaults: CollectionDefaults = { shardNumber: 1 }) {
    const body = objectBody<Schemas['CreateCollection']>(raw, 'CreateCollection');
    const vectors = body.vectors;
    if (!isObject(vectors) || !('size' in vectors)) {
      throw new FakeQdrantError(400, 'The fake Qdrant implements one unnamed vector per collection only');
    }
    const params = vectors as Schemas['VectorParams'];
    if (!Number.isInteger(params.size) || params.size < 1) {
      throw new FakeQdrantError(422, 'Validation error in JSON body: [vectors.size: value 0 invalid, must be 1 or larger]');
    }
    if (!DISTANCES.has(params.distance)) {
      throw formatError(`unknown variant \`${String(params.distance)}\`, expected one of \`Cosine\`, \`Euclid\`, \`Dot\`, \`Manhattan\``);
    }
    if (params.distance !== 'Cosine') {
      throw new FakeQdrantError(400, 'The fake Qdrant implements the Cosine distance only');
    }
    this.name = name;
    this.vectors = { size: params.size, distance: params.distance, on_disk: params.on_disk ?? false };
    const quantization = body.quantization_config;
    this.quantization = isObject(quantization) ? (quantization as Schemas['QuantizationConfig']) : null;
    this.onDiskPayload = body.on_disk_payload ?? true;
    this.metadata = isObject(body.metadata) ? { ...body.metadata } : {};
    const fields = body as Record<string, unknown>;
    this.layout = {
      shard_number: countParam(fields, 'shard_number', defaults.shardNumber),
      replication_factor: countParam(fields, 'replication_factor', 1),
      write_consistency_factor: countParam(fields, 'write_consistency_factor', 1),
    };
  }

  /** Number of points stored. */
  get size(): number {
    return this.#points.size;
  }

  /** The payload index declared for a key, if any. */
  indexOf(key: string): Schemas['PayloadFieldSchema'] | undefined {
    return this.#indexes.get(key);
  }

  /** Sequential number for an UpdateResult, as Qdrant numbers its operations. */
  nextOperationId(): number {
    return this.#operationId++;
  }

  info(): Schemas['CollectionInfo'] {
    const payloadSchema: Schemas['CollectionInfo']['payload_schema'] = {};
    for (const [key, schema] of this.#indexes) {
      const type = typeof schema === 'string' ? schema : schema.type;
      const params = typeof schema === 'string' ? null : schema;
      let points = 0;
      // A nested key ("shares[].conversation") counts the points with a value anywhere in the array.
      for (const p of this.#points.values()) {
        const value = lookup(p.payload, key);
        if (value !== undefined && value !== null && !(Array.isArray(value) && value.every((v) => v === null))) points++;
      }
      payloadSchema[key] = { data_type: type, params, points };
    }
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: this.#points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: this.vectors,
          ...this.layout,
          on_disk_payload: this.onDiskPayload,
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 10000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: this.quantization,
        metadata: this.metadata,
      },
      payload_schema: payloadSchema,
    };
  }

  /** PUT /collections/{name}/index */
  createIndex(raw: unknown): void {
    const body = objectBody<Schemas['CreateFieldIndex']>(raw, 'CreateFieldIndex');
    if (typeof body.field_name !== 'string' || body.field_name === '') throw formatError('"field_name" must be a string');
    const schema = body.field_schema;
    const type = typeof schema === 'string' ? schema : isObject(schema) ? schema.type : undefined;
    if (typeof type !== 'string' || !SCHEMA_TYPES.has(type)) {
      throw formatError('data did not match any variant of untagged enum PayloadFieldSchema');
    }
    this.#indexes.set(body.field_name, schema as Schemas['PayloadFieldSchema']);
  }

  /** Checks an upsert body (PointsList or PointsBatch) and returns the change to apply. */
  prepareUpsert(raw: unknown): () => void {
    const body = objectBody<Schemas['PointInsertOperations']>(raw, 'PointInsertOperations');
    let incoming: Array<{ id: unknown; vector: unknown; payload: unknown }>;
    if ('points' in body && Array.isArray(body.points)) {
      incoming = body.points.map((p: Schemas['PointStruct']) => ({ id: p.id, vector: p.vector, payload: p.payload }));
    } else if ('batch' in body && isObject(body.batch)) {
      const batch = body.batch as Schemas['Batch'];
      const ids = batch.ids;
      const vectors = batch.vectors;
      if (!Array.isArray(ids) || !Array.isArray(vectors) || vectors.length !== ids.length) {
        throw new FakeQdrantError(400, 'Wrong input: number of ids and vectors must be equal');
      }
      incoming = ids.map((id, i) => ({ id, vector: vectors[i], payload: batch.payloads?.[i] ?? null }));
    } else {
      throw formatError('data did not match any variant of untagged enum PointInsertOperations');
    }
    const prepared = incoming.map((p) => {
      const id = parsePointId(p.id);
      if (!Array.isArray(p.vector) || !p.vector.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new FakeQdrantError(400, 'The fake Qdrant implements plain dense vectors only');
      }
      if (p.vector.length !== this.vectors.size) {
        throw new FakeQdrantError(
          400,
          `Wrong input: Vector dimension error: expected dim: ${this.vectors.size}, got ${p.vector.length}`,
        );
      }
      if (p.payload !== undefined && p.payload !== null && !isObject(p.payload)) {
        throw formatError('"payload" must be an object');
      }
      return { id, vector: normalised(p.vector as number[]), payload: (p.payload ?? {}) as Record<string, unknown> };
    });
    return () => {
      for (const p of prepared) {
        const key = pointKey(p.id);
        const previous = this.#points.get(key);
        this.#points.set(key, {
          id: p.id,
          vector: p.vector,
          payload: structuredClone(p.payload),
          // Qdrant keeps a point's internal offset when it is overwritten in place.
          seq: previous?.seq ?? this.#seq++,
          version: (previous?.version ?? 0) + 1,
        });
      }
    };
  }

  /** Checks a delete body (PointIdsList or FilterSelector) and returns the change to apply. */
  prepareDelete(raw: unknown): () => void {
    const body = objectBody<Schemas['PointsSelector']>(raw, 'PointsSelector');
    if ('points' in body && Array.isArray(body.points)) {
      const keys = body.points.map((id) => pointKey(parsePointId(id)));
      return () => {
        for (const key of keys) this.#points.delete(key);
      };
    }
    if ('filter' in body && isObject(body.filter)) {
      const predicate = compileFilter(body.filter);
      return () => {
        for (const [key, point] of this.#points) if (predicate(point)) this.#points.delete(key);
      };
    }
    throw formatError('data did not match any variant of untagged enum PointsSelector');
  }

  /**
   * Checks a set_payload (merge: given keys replace, others stay) or overwrite_payload (the
   * payload becomes exactly the given one) body and returns the change to apply. Points are
   * chosen by `points` or `filter`; a listed id that does not exist fails when applied, as in
   * Qdrant, which answers 404 for it.
   */
  preparePayloadUpdate(raw: unknown, mode: 'set' | 'overwrite'): () => void {
    const body = objectBody<Schemas['SetPayload']>(raw, 'SetPayload');
    if (!isObject(body.payload)) throw formatError('missing field `payload`');
    if (body.key !== undefined && body.key !== null) {
      throw new FakeQdrantError(400, 'The fake Qdrant does not implement set_payload with a "key" path');
    }
    const payload = structuredClone(body.payload);
    const select = this.#selector(body.points, body.filter, 'SetPayload');
    return () => {
      for (const point of select()) {
        point.payload = mode === 'set' ? { ...point.payload, ...structuredClone(payload) } : structuredClone(payload);
        point.version += 1;
      }
    };
  }

  /** Checks a delete_payload body (top-level keys) and returns the change to apply. */
  prepareDeletePayload(raw: unknown): () => void {
    const body = objectBody<Schemas['DeletePayload']>(raw, 'DeletePayload');
    if (!Array.isArray(body.keys) || !body.keys.every((k) => typeof k === 'string')) throw formatError('missing field `keys`');
    if (body.keys.some((k) => /[.[]/.test(k))) {
      throw new FakeQdrantError(400, 'The fake Qdrant deletes top-level payload keys only');
    }
    const keys = body.keys;
    const select = this.#selector(body.points, body.filter, 'DeletePayload');
    return () => {
      for (const point of select()) {
        for (const key of keys) delete point.payload[key];
        point.version += 1;
      }
    };
  }

  /**
   * Checks a batch of update operations (POST points/batch) and returns one change applying them
   * in order, and how many there are. The fake implements the point and payload operations.
   */
  prepareBatch(raw: unknown): { apply: () => void; operations: number } {
    const body = objectBody<Schemas['UpdateOperations']>(raw, 'UpdateOperations');
    if (!Array.isArray(body.operations)) throw formatError('missing field `operations`');
    const changes = body.operations.map((raw: unknown) => {
      const operation = objectBody<Record<string, unknown>>(raw, 'UpdateOperation');
      const [kind, ...more] = Object.keys(operation);
      if (kind === undefined || more.length > 0) throw formatError('data did not match any variant of untagged enum UpdateOperation');
      const inner = operation[kind];
      switch (kind) {
        case 'upsert':
          return this.prepareUpsert(inner);
        case 'delete':
          return this.prepareDelete(inner);
        case 'set_payload':
          return this.preparePayloadUpdate(inner, 'set');
        case 'overwrite_payload':
          return this.preparePayloadUpdate(inner, 'overwrite');
        case 'delete_payload':
          return this.prepareDeletePayload(inner);
        default:
          throw new FakeQdrantError(400, `The fake Qdrant does not implement the batch operation "${kind}"`);
      }
    });
    return {
      apply: () => {
        for (const change of changes) change();
      },
      operations: changes.length,
    };
  }

  /** The points an update names by id list or filter, found when the update is applied. */
  #selector(ids: unknown, filter: unknown, what: string): () => FakePoint[] {
    if (Array.isArray(ids)) {
      const parsed = ids.map((id) => parsePointId(id));
      return () =>
        parsed.map((id) => {
          const point = this.#points.get(pointKey(id));
          if (point === undefined) throw new FakeQdrantError(404, `Not found: No point with id ${String(printPointId(id))} found`);
          return point;
        });
    }
    if (isObject(filter)) {
      const predicate = compileFilter(filter);
      return () => [...this.#points.values()].filter(predicate);
    }
    throw new FakeQdrantError(400, `Bad request: ${what} needs either "points" or "filter"`);
  }

  /** POST /collections/{name}/points */
  retrieve(raw: unknown): Schemas['Record'][] {
    const body = objectBody<Schemas['PointRequest']>(raw, 'PointRequest');
    if (!Array.isArray(body.ids)) throw formatError('missing field `ids`');
    const seen = new Set<string>();
    const out: Schemas['Record'][] = [];
    for (const raw of body.ids) {
      const key = pointKey(parsePointId(raw));
      const point = this.#points.get(key);
      if (point === undefined || seen.has(key)) continue;
      seen.add(key);
      out.push(this.#record(point, body.with_payload, true, body.with_vector));
    }
    return out;
  }

  /** POST /collections/{name}/points/scroll: id order, `offset` is the first id to return. */
  scroll(raw: unknown): Schemas['ScrollResult'] {
    const body = objectBody<Schemas['ScrollRequest']>(raw ?? {}, 'ScrollRequest');
    if (body.order_by !== undefined && body.order_by !== null) {
      throw new FakeQdrantError(400, 'The fake Qdrant does not implement order_by');
    }
    const limit = optionalLimit(body.limit, 'limit', DEFAULT_LIMIT);
    const predicate = compileFilter(body.filter);
    const start = body.offset === undefined || body.offset === null ? null : parsePointId(body.offset);
    const matching = [...this.#points.values()]
      .filter((p) => (start === null || comparePointIds(p.id, start) >= 0) && predicate(p))
      .sort((a, b) => comparePointIds(a.id, b.id));
    const page = matching.slice(0, limit);
    const next = matching[limit];
    return {
      points: page.map((p) => this.#record(p, body.with_payload, true, body.with_vector)),
      next_page_offset: next === undefined ? null : printPointId(next.id),
    };
  }

  /** POST /collections/{name}/points/count */
  count(raw: unknown): Schemas['CountResult'] {
    const body = objectBody<Schemas['CountRequest']>(raw ?? {}, 'CountRequest');
    const predicate = compileFilter(body.filter);
    let count = 0;
    for (const p of this.#points.values()) if (predicate(p)) count++;
    return { count };
  }

  /**
   * POST /collections/{name}/points/query with a nearest-vector query. Scores are f32 cosine
   * similarities; equal scores come back in insertion order, since Qdrant promises no order
   * among ties and a client must not rely on one.
   */
  query(raw: unknown): Schemas['QueryResponse'] {
    const body = objectBody<Schemas['QueryRequest']>(raw, 'QueryRequest');
    for (const unsupported of ['prefetch', 'using', 'lookup_from', 'score_threshold'] as const) {
      if (body[unsupported] !== undefined && body[unsupported] !== null) {
        throw new FakeQdrantError(400, `The fake Qdrant does not implement "${unsupported}" in queries`);
      }
    }
    const limit = optionalLimit(body.limit, 'limit', DEFAULT_LIMIT);
    const offset = optionalLimit(body.offset, 'offset', 0);
    // The fake always compares every vector, so `exact: true` and every other param leave the
    // answer as it is; they are checked as Qdrant parses them, so a malformed one fails here too.
    checkSearchParams(body.params);
    const vector = this.#queryVector(body.query);
    const predicate = compileFilter(body.filter);
    const scored: Array<{ point: FakePoint; score: number }> = [];
    for (const point of this.#points.values()) {
      if (vector.exclude !== null && pointKey(point.id) === vector.exclude) continue;
      if (!predicate(point)) continue;
      let dot = 0;
      for (let i = 0; i < point.vector.length; i++) dot += (point.vector[i] as number) * (vector.values[i] as number);
      scored.push({ point, score: Math.fround(dot) });
    }
    scored.sort((a, b) => b.score - a.score || a.point.seq - b.point.seq);
    return {
      points: scored.slice(offset, offset + limit).map(({ point, score }) => {
        const record = this.#record(point, body.with_payload, false, body.with_vector);
        const hit: Schemas['ScoredPoint'] = { id: record.id, version: point.version, score };
        if (record.payload !== undefined) hit.payload = record.payload;
        if (record.vector !== undefined) hit.vector = record.vector;
        return hit;
      }),
    };
  }

  /** POST /collections/{name}/facet: counts of each value, highest count first. */
  facet(raw: unknown): Schemas['FacetResponse'] {
    const body = objectBody<Schemas['FacetRequest']>(raw, 'FacetRequest');
    if (typeof body.key !== 'string') throw formatError('missing field `key`');
    const schema = this.#indexes.get(body.key);
    const type = schema === undefined ? undefined : typeof schema === 'string' ? schema : schema.type;
    if (type === undefined || !FACETABLE.has(type)) {
      throw new FakeQdrantError(
        400,
        `Bad request: Index required but not found for "${body.key}" of one of the following types: [keyword, integer, bool, uuid]. Help: Create an index for this key or use a different filter.`,
      );
    }
    const limit = optionalLimit(body.limit, 'limit', DEFAULT_LIMIT);
    const predicate = compileFilter(body.filter);
    const counts = new Map<string | number | boolean, number>();
    for (const point of this.#points.values()) {
      if (!predicate(point)) continue;
      const raw = point.payload[body.key];
      const values = new Set((Array.isArray(raw) ? raw : [raw]).filter((v) => ['string', 'number', 'boolean'].includes(typeof v)));
      for (const v of values) counts.set(v as string, (counts.get(v as string) ?? 0) + 1);
    }
    const hits = [...counts].map(([value, count]) => ({ value, count }));
    hits.sort((a, b) => b.count - a.count || (String(a.value) < String(b.value) ? -1 : 1));
    return { hits: hits.slice(0, limit) };
  }

  /** The point ids stored, in Qdrant's id order (for assertions in tests). */
  ids(): Array<string | number> {
    return [...this.#points.values()].sort((a, b) => comparePointIds(a.id, b.id)).map((p) => p.id.value);
  }

  #queryVector(raw: Schemas['QueryRequest']['query']): { values: Float32Array; exclude: string | null } {
    let input: unknown = raw;
    if (isObject(input) && 'nearest' in input) input = (input as Schemas['NearestQuery']).nearest;
    if (typeof input === 'string' || typeof input === 'number') {
      const key = pointKey(parsePointId(input));
      const point = this.#points.get(key);
      if (point === undefined) throw new FakeQdrantError(404, `Not found: No point with id ${String(input)} found`);
      return { values: point.vector, exclude: key };
    }
    if (!Array.isArray(input) || !input.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new FakeQdrantError(400, 'The fake Qdrant implements nearest queries by dense vector or point id only');
    }
    if (input.length !== this.vectors.size) {
      throw new FakeQdrantError(
        400,
        `Wrong input: Vector dimension error: expected dim: ${this.vectors.size}, got ${input.length}`,
      );
    }
    return { values: normalised(input as number[]), exclude: null };
  }

  #record(
    point: FakePoint,
    withPayload: Schemas['PointRequest']['with_payload'],
    payloadByDefault: boolean,
    withVector: Schemas['QueryRequest']['with_vector'],
  ): Schemas['Record'] {
    const record: Schemas['Record'] = { id: printPointId(point.id) };
    const payload = selectPayload(point.payload, withPayload, payloadByDefault);
    if (payload !== null) record.payload = structuredClone(payload);
    if (wantsVector(withVector)) record.vector = Array.from(point.vector);
    return record;
  }
}

