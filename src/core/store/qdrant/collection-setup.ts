// Creates and checks findimage's Qdrant collections: one per model ("findimage_clip-vit-b32"),
// Cosine vectors of the model's size, payload indexes made before any data, the model id and
// payload layout in the collection metadata, and an alias ("findimage") naming the live one. A
// collection of another size or model is refused with a message that says how to move on; one
// of an older payload layout is upgraded in place (payload-upgrade.ts).
import type { Schemas } from '@qdrant/js-client-rest';
import type { Logger } from '../../../logger.js';
import { StoreError } from '../../errors.js';
import { clusterParams, noteKeptLayout, type ClusterLayout } from './cluster-layout.js';
import type { QdrantConnection } from './qdrant-connection.js';
import { MalformedResponseError } from './qdrant-failure.js';
import { upgradeLegacyPayloads } from './payload-upgrade.js';
import { PAYLOAD_KEY, SHARE_KEY, sharePath } from './qdrant-point.js';

/** Default alias name, and the prefix of collection names. */
export const DEFAULT_COLLECTION_PREFIX = 'findimage';

/** Collection metadata keys that say who made a collection and for which model. */
export const METADATA_MODEL_KEY = 'findimage_model_id';
export const METADATA_DIMENSION_KEY = 'findimage_dimension';
export const METADATA_LAYOUT_KEY = 'findimage_layout';
/**
 * Version of the payload layout in qdrant-point.ts; bump when it changes incompatibly. 1: one
 * share as flat fields (channel, channel_is_public, ...); 2: every share in `shares`.
 */
export const PAYLOAD_LAYOUT_VERSION = 2;

/**
 * Indexes made on every collection, before any point is written: filtering on an indexed key
 * is what keeps a scoped search fast, and `is_tenant` lets Qdrant lay points out by tenant.
 * model_id and source are keywords so that stats() can count them with facets. The share keys
 * are indexed under Qdrant's path for fields of array elements ("shares[].conversation"), which
 * is what a nested filter on "shares" uses.
 */
export const PAYLOAD_INDEXES: ReadonlyArray<{ field: string; schema: Schemas['PayloadFieldSchema'] }> = [
  { field: PAYLOAD_KEY.tenant, schema: { type: 'keyword', is_tenant: true } },
  { field: sharePath(SHARE_KEY.conversation), schema: 'keyword' },
  { field: sharePath(SHARE_KEY.isPublic), schema: 'bool' },
  { field: sharePath(SHARE_KEY.uploader), schema: 'keyword' },
  { field: sharePath(SHARE_KEY.messageId), schema: 'keyword' },
  { field: sharePath(SHARE_KEY.fileId), schema: 'keyword' },
  { field: PAYLOAD_KEY.source, schema: 'keyword' },
  { field: PAYLOAD_KEY.modelId, schema: 'keyword' },
  { field: PAYLOAD_KEY.createdAt, schema: 'datetime' },
];

/**
 * Scalar int8 quantization keeps a 4x smaller copy of the vectors in RAM; quantile 0.99 drops
 * the outlying 1% of values from the range, Qdrant's recommended setting for this mode.
 */
export const INT8_QUANTIZATION: Schemas['QuantizationConfig'] = {
  scalar: { type: 'int8', quantile: 0.99, always_ram: true },
};

/** What a collection must be for a model. */
export interface CollectionSpec {
  /** The model whose vectors the collection holds (FINDIMAGE_MODEL). */
  modelId: string;
  /** The model's vector length. */
  dimension: number;
  /** Vectors served from disk (QDRANT_ON_DISK). */
  onDisk: boolean;
  /** Scalar int8 quantization with rescoring (QDRANT_QUANTIZATION=int8). */
  quantization: boolean;
  /** Shards, replicas and write consistency of a new collection (unset: Qdrant's defaults). */
  layout?: ClusterLayout;
}

/** What was found in (or made as) a collection. */
export interface CollectionFacts {
  /** The collection's own name (never the alias). */
  name: string;
  /** The model whose vectors it holds. */
  modelId: string;
  /** Its vector length. */
  dimension: number;
  /** Whether the collection has quantized vectors (queries then ask for rescoring). */
  quantized: boolean;
}

/** The collection name for a model: the prefix and the model id ("findimage_clip-vit-b32"). */
export function collectionNameFor(prefix: string, modelId: string): string {
  return `${prefix}_${modelId}`;
}

/** The CreateCollection body for a spec. */
export function createCollectionBody(spec: CollectionSpec): Schemas['CreateCollection'] {
  const body: Schemas['CreateCollection'] = {
    vectors: { size: spec.dimension, distance: 'Cosine', on_disk: spec.onDisk },
    ...clusterParams(spec.layout ?? {}),
    metadata: {
      [METADATA_MODEL_KEY]: spec.modelId,
      [METADATA_DIMENSION_KEY]: spec.dimension,
      [METADATA_LAYOUT_KEY]: PAYLOAD_LAYOUT_VERSION,
    },
  };
  if (spec.quantization) body.quantization_config = INT8_QUANTIZATION;
  return body;
}

function isConflict(error: unknown): boolean {
  return error instanceof StoreError && error.details.kind === 'conflict';
}

/** A 400 or 422 that names the metadata field: the server predates collection metadata. */
function refusedMetadata(error: unknown): boolean {
  return (
    error instanceof StoreError &&
    error.details.kind === 'rejected' &&
    /metadata/i.test(error.message)
  );
}

function mismatch(message: string, details: Record<string, unknown>): StoreError {
  return new StoreError('store_schema_mismatch', message, { details });
}

/** The collection an alias points at, or undefined when there is no such alias. */
export async function resolveAlias(connection: QdrantConnection, alias: string): Promise<string | undefined> {
  const result = await connection.call('list aliases', (c) => c.getAliases());
  if (!Array.isArray(result?.aliases)) throw new MalformedResponseError('GET /aliases has no "aliases" list');
  return result.aliases.find((a) => a.alias_name === alias)?.collection_name;
}

/** Whether a collection (not an alias) of this name exists. */
export async function collectionExists(connection: QdrantConnection, name: string): Promise<boolean> {
  const result = await connection.call(`check whether collection ${name} exists`, (c) => c.getCollections());
  if (!Array.isArray(result?.collections)) throw new MalformedResponseError('GET /collections has no "collections" list');
  return result.collections.some((c) => c.name === name);
}

/** Creates any index of PAYLOAD_INDEXES the collection lacks; a different existing index is kept. */
export async function ensurePayloadIndexes(
  connection: QdrantConnection,
  name: string,
  existing: Schemas['CollectionInfo']['payload_schema'],
  logger: Logger,
): Promise<void> {
  for (const { field, schema } of PAYLOAD_INDEXES) {
    const found = existing[field];
    if (found !== undefined) {
      const wanted = typeof schema === 'string' ? schema : schema.type;
      if (found.data_type !== wanted) {
        logger.warn({ collection: name, field, found: found.data_type, wanted }, 'payload index of an unexpected type kept');
      }
      continue;
    }
    await connection.call(`create the ${field} index on ${name}`, (c) =>
      c.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true }),
    );
  }
}

/**
 * Creates a collection for the spec and its payload indexes, before any point is written. A
 * collection someone else created meanwhile (409) is checked instead.
 */
export async function createCollection(
  connection: QdrantConnection,
  name: string,
  spec: CollectionSpec,
  logger: Logger,
): Promise<CollectionFacts> {
  const body = createCollectionBody(spec);
  try {
    try {
      // Through api(): QdrantClient.createCollection() drops `metadata` from its arguments.
      await connection.call(`create collection ${name}`, (c) => c.api().createCollection({ collection_name: name, ...body }));
    } catch (error) {
      if (!refusedMetadata(error)) throw error;
      // A server older than collection metadata: the model is then read from stored points.
      logger.warn({ collection: name }, 'this Qdrant does not keep collection metadata; creating the collection without it');
      const { metadata: _unused, ...withoutMetadata } = body;
      await connection.call(`create collection ${name}`, (c) => c.api().createCollection({ collection_name: name, ...withoutMetadata }));
    }
  } catch (error) {
    if (!isConflict(error)) throw error;
    logger.info({ collection: name }, 'collection created meanwhile by another process; checking it');
    return checkCollection(connection, name, spec, logger);
  }
  logger.info(
    { collection: name, dimension: spec.dimension, onDisk: spec.onDisk, quantization: spec.quantization, ...clusterParams(spec.layout ?? {}) },
    'created Qdrant collection',
  );
  await ensurePayloadIndexes(connection, name, {}, logger);
  return { name, modelId: spec.modelId, dimension: spec.dimension, quantized: spec.quantization };
}

/** The size of a collection's single unnamed vector, or a reason it has none. */
function vectorSize(info: Schemas['CollectionInfo']): { size: number; distance: string; onDisk: boolean } | string {
  const vectors = info.config?.params?.vectors;
  if (typeof vectors !== 'object' || vectors === null) return 'no vectors';
  if (!('size' in vectors) || typeof vectors.size !== 'number') return 'named vectors';
  return { size: vectors.size, distance: String(vectors.distance), onDisk: vectors.on_disk === true };
}

/** What a collection is, read from its config, its metadata and (without metadata) one point. */
interface Inspection {
  info: Schemas['CollectionInfo'];
  vectors: ReturnType<typeof vectorSize>;
  /** The model that made it; undefined when neither metadata nor a point says. */
  owner: string | undefined;
  /** Whether the collection keeps metadata at all (servers before 1.16 do not). */
  hasMetadata: boolean;
  /** The payload layout the metadata names; undefined when it names none. */
  layout: number | undefined;
  quantized: boolean;
}

async function inspect(connection: QdrantConnection, name: string): Promise<Inspection> {
  const info = await connection.call(`read collection ${name}`, (c) => c.getCollection(name));
  if (typeof info?.config !== 'object' || info.config === null) {
    throw new MalformedResponseError(`collection info for ${name} has no "config"`);
  }
  const metadata = info.config.metadata as Record<string, unknown> | null | undefined;
  let owner = metadata?.[METADATA_MODEL_KEY];
  if (typeof owner !== 'string') owner = await modelOfAStoredPoint(connection, name);
  const quantized = info.config.quantization_config !== undefined && info.config.quantization_config !== null;
  const layout = metadata?.[METADATA_LAYOUT_KEY];
  return {
    info,
    vectors: vectorSize(info),
    owner: owner as string | undefined,
    hasMetadata: typeof metadata?.[METADATA_MODEL_KEY] === 'string',
    layout: typeof layout === 'number' ? layout : undefined,
    quantized,
  };
}

/**
 * The facts of an existing collection, whatever model made it (the source of a re-index).
 * Refuses one without a single Cosine vector, which findimage cannot have made.
 */
export async function readCollectionFacts(connection: QdrantConnection, name: string): Promise<CollectionFacts> {
  const { vectors, owner, quantized } = await inspect(connection, name);
  if (typeof vectors === 'string' || vectors.distance !== 'Cosine') {
    throw mismatch(
      `The Qdrant collection ${name} does not hold one Cosine vector per point, so findimage did not make it.`,
      { collection: name },
    );
  }
  return { name, modelId: owner ?? '(unknown model)', dimension: vectors.size, quantized };
}

/**
 * Reads a collection and refuses it unless it holds `spec.dimension` Cosine vectors made by
 * `spec.modelId` (from the metadata; from a stored point on servers without metadata). Adds
 * missing payload indexes, and rewrites points of an older payload layout (upgradeLayout).
 */
export async function checkCollection(
  connection: QdrantConnection,
  name: string,
  spec: CollectionSpec,
  logger: Logger,
  via?: string,
): Promise<CollectionFacts> {
  const { info, vectors, owner, hasMetadata, layout, quantized } = await inspect(connection, name);
  const where = via === undefined ? `The Qdrant collection ${name}` : `The Qdrant collection ${name} (behind the alias ${via})`;
  const reindex = `Run \`findimage reindex --model ${spec.modelId}\` to build a collection for this model (the alias moves when it is done)`;
  const details = { collection: name, modelId: spec.modelId, dimension: spec.dimension };
  if (typeof vectors === 'string') {
    throw mismatch(`${where} has ${vectors}, not the single unnamed vector findimage uses. ${reindex}.`, details);
  }
  if (vectors.distance !== 'Cosine') {
    throw mismatch(`${where} compares vectors by ${vectors.distance}, not Cosine. ${reindex}.`, details);
  }
  if (owner !== undefined && owner !== spec.modelId) {
    throw mismatch(
      `${where} holds vectors of the model ${owner}, but findimage is set to ${spec.modelId} (FINDIMAGE_MODEL). ` +
        `${reindex}, or set FINDIMAGE_MODEL=${owner} to keep using it.`,
      { ...details, found: owner },
    );
  }
  if (vectors.size !== spec.dimension) {
    throw mismatch(
      `${where} holds ${vectors.size}-number vectors, but the model ${spec.modelId} makes ${spec.dimension}-number vectors. ${reindex}.`,
      { ...details, found: vectors.size },
    );
  }
  if (owner === undefined) {
    logger.warn({ collection: name }, 'Qdrant collection has no findimage metadata (made by hand or by an old server); using it');
  }
  if (quantized !== spec.quantization || vectors.onDisk !== spec.onDisk) {
    logger.info(
      { collection: name, quantized, onDisk: vectors.onDisk, wantedQuantization: spec.quantization, wantedOnDisk: spec.onDisk },
      'QDRANT_ON_DISK and QDRANT_QUANTIZATION apply to new collections; this one keeps its settings (reindex to change them)',
    );
  }
  noteKeptLayout(logger, name, info.config.params, spec.layout ?? {});
  await ensurePayloadIndexes(connection, name, info.payload_schema ?? {}, logger);
  await upgradeLayout(connection, name, layout, hasMetadata, logger);
  return { name, modelId: spec.modelId, dimension: spec.dimension, quantized };
}

/**
 * Brings a collection of an older payload layout up to PAYLOAD_LAYOUT_VERSION and records that
 * in its metadata, so that later opens skip the scan. Without metadata (old servers, collections
 * made by hand) the layout is unknown, so every open checks for old points (one count).
 */
async function upgradeLayout(
  connection: QdrantConnection,
  name: string,
  layout: number | undefined,
  hasMetadata: boolean,
  logger: Logger,
): Promise<void> {
  if (layout !== undefined && layout >= PAYLOAD_LAYOUT_VERSION) return;
  await upgradeLegacyPayloads(connection, name, logger);
  if (!hasMetadata) return;
  await connection.call(`record the payload layout of ${name}`, (c) =>
    c.updateCollection(name, { metadata: { [METADATA_LAYOUT_KEY]: PAYLOAD_LAYOUT_VERSION } }),
  );
  logger.info({ collection: name, layout: PAYLOAD_LAYOUT_VERSION }, 'Qdrant collection payload layout recorded');
}

/** The model_id of any one stored point; undefined for an empty collection. */
async function modelOfAStoredPoint(connection: QdrantConnection, name: string): Promise<string | undefined> {
  const page = await connection.call(`read a point of ${name}`, (c) =>
    c.scroll(name, { limit: 1, with_payload: [PAYLOAD_KEY.modelId], with_vector: false }),
  );
  const point = page?.points?.[0];
  if (point === undefined) return undefined;
  const model = (point.payload as Record<string, unknown> | null | undefined)?.[PAYLOAD_KEY.modelId];
  return typeof model === 'string' ? model : '(no model id: not written by findimage)';
}

export interface LiveCollectionOptions {
  /** The alias naming the live collection (default DEFAULT_COLLECTION_PREFIX). */
  alias: string;
  /** What the live collection must be. */
  spec: CollectionSpec;
  /** Where creation and checks are logged. */
  logger: Logger;
}

/**
 * The live collection for a model: the alias's target when the alias exists (checked against
 * the spec), else `<alias>_<model>` (checked, or created with its indexes) with the alias made.
 */
export async function ensureLiveCollection(
  connection: QdrantConnection,
  options: LiveCollectionOptions,
): Promise<CollectionFacts> {
  const { alias, spec, logger } = options;
  const target = await resolveAlias(connection, alias);
  if (target !== undefined) return checkCollection(connection, target, spec, logger, alias);

  if (await collectionExists(connection, alias)) {
    throw mismatch(
      `Qdrant has a collection named ${alias}, the name findimage gives its alias. Rename or delete that ` +
        'collection, or point findimage at another Qdrant.',
      { collection: alias },
    );
  }
  const name = collectionNameFor(alias, spec.modelId);
  const facts = (await collectionExists(connection, name))
    ? await checkCollection(connection, name, spec, logger)
    : await createCollection(connection, name, spec, logger);
  try {
    await connection.call(`create the alias ${alias}`, (c) =>
      c.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: alias } }] }),
    );
    logger.info({ alias, collection: name }, 'Qdrant alias created');
  } catch (error) {
    if (!isConflict(error)) throw error;
    // Another process made the alias first: use whatever it points at, if that fits.
    const now = await resolveAlias(connection, alias);
    if (now === undefined) throw error;
    return checkCollection(connection, now, spec, logger, alias);
  }
  return facts;
}
