// The doctor's look at Qdrant (QDRANT_URL), read-only: the server's version against the client's,
// the live collection (behind the "findimage" alias) and its vectors against the model's size and
// Cosine distance, the payload indexes findimage filters on, and the alias itself. findimage makes
// or fixes some of these when it starts; the doctor only says what it finds.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import type { Logger } from '../../../logger.js';
import { blockedBy, fail, ok, warn, type Check, type CheckResult } from '../../doctor/check.js';
import { DOCTOR_REQUEST_TIMEOUT_MS } from '../../doctor/doctor-report.js';
import { FindimageError, StoreError } from '../../errors.js';
import { collectionNameFor, DEFAULT_COLLECTION_PREFIX, METADATA_MODEL_KEY, PAYLOAD_INDEXES } from './collection-setup.js';
import { QdrantConnection } from './qdrant-connection.js';
import type { RetryPolicy } from './retry-policy.js';

/** One try per request: the doctor reports an outage instead of riding it out. */
const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

export interface QdrantDoctorOptions {
  /** QDRANT_URL. */
  url: string;
  /** QDRANT_API_KEY. */
  apiKey?: string;
  /** The configured model, whose collection is looked at. */
  modelId: string;
  /** The model's vector length; undefined when FINDIMAGE_MODEL names no known model (the size is then not compared). */
  dimension: number | undefined;
  /** The alias of the live collection (default "findimage"). */
  alias?: string;
  /** Where the connection logs (nothing, normally: every failure becomes a line). */
  logger: Logger;
  /** The client's version (default: the installed @qdrant/js-client-rest's). */
  clientVersion?: string;
  /** Per-request limit in ms (default DOCTOR_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Requests made one after another to read the live collection: aliases, collections, the collection. */
const LIVE_COLLECTION_REQUESTS = 3;

/**
 * Beyond its requests' own limits, what a check that reads the live collection may take: the
 * time between them. A slow request then fails on its own limit, and the line names it
 * ("list collections"), instead of the check's "no answer".
 */
const CHECK_MARGIN_MS = 2_000;

/** The installed @qdrant/js-client-rest's version, read from its package.json. */
export function qdrantClientVersion(): string {
  const require = createRequire(import.meta.url);
  // The package's exports hide package.json; its entry file sits in dist/cjs/ below the root.
  const root = join(dirname(require.resolve('@qdrant/js-client-rest')), '..', '..');
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Whether client and server versions work together, by the client's own rule: same major,
 * minors at most one apart (what QdrantClient's checkCompatibility warns about).
 */
export function versionsCompatible(client: string, server: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split('.').map((p) => Number.parseInt(p, 10));
  const [cMajor, cMinor] = parse(client);
  const [sMajor, sMinor] = parse(server);
  if ([cMajor, cMinor, sMajor, sMinor].some((n) => n === undefined || Number.isNaN(n))) return false;
  return cMajor === sMajor && Math.abs((cMinor as number) - (sMinor as number)) <= 1;
}

/** What the alias and the live collection turned out to be; read once, shared by the checks. */
interface LiveCollection {
  /** The alias's target, or undefined without an alias. */
  aliasTarget: string | undefined;
  /** The collection findimage would use: the alias's target, else `<alias>_<model>`. */
  name: string;
  /** Its info, or undefined when there is no such collection. */
  info: Schemas['CollectionInfo'] | undefined;
}

/** The Qdrant checks: server, collection, payload indexes, alias. */
export function qdrantChecks(options: QdrantDoctorOptions): Check[] {
  const alias = options.alias ?? DEFAULT_COLLECTION_PREFIX;
  const requestTimeoutMs = options.timeoutMs ?? DOCTOR_REQUEST_TIMEOUT_MS;
  const connection = new QdrantConnection({ url: options.url, apiKey: options.apiKey, logger: options.logger, retry: NO_RETRY, timeoutMs: requestTimeoutMs });
  // The limit of a check reading the live collection covers its requests one after another (26 s).
  const liveTimeoutMs = LIVE_COLLECTION_REQUESTS * requestTimeoutMs + CHECK_MARGIN_MS;
  // The checks share the connection and the reading of the live collection: it closes once every
  // check has ended or run out of time (each signal aborts then), so no request is made after.
  let running = 0; // set to the number of checks once they are built below
  const stopOnAbort = (signal: AbortSignal) =>
    signal.addEventListener(
      'abort',
      () => {
        running--;
        if (running === 0) connection.close();
      },
      { once: true },
    );
  /** One request; its failure names it ("list collections: Cannot reach Qdrant ..."), so the line says which was slow. */
  const request = <T>(operation: string, run: (client: QdrantClient) => Promise<T>): Promise<T> =>
    connection.call(operation, run).catch((error: unknown) => {
      if (!(error instanceof FindimageError)) throw error;
      throw new StoreError(error.code, `${operation}: ${error.message}`, { cause: error });
    });
  let live: Promise<LiveCollection> | undefined;
  const readLive = (): Promise<LiveCollection> => {
    live ??= (async () => {
      const aliases = await request('list aliases', (c) => c.getAliases());
      const aliasTarget = aliases.aliases.find((a) => a.alias_name === alias)?.collection_name;
      const name = aliasTarget ?? collectionNameFor(alias, options.modelId);
      const { collections } = await request('list collections', (c) => c.getCollections());
      const info = collections.some((c) => c.name === name) ? await request(`read collection ${name}`, (c) => c.getCollection(name)) : undefined;
      return { aliasTarget, name, info };
    })();
    return live;
  };
  const checks: Check[] = [
    {
      name: 'qdrant server',
      timeoutMs: requestTimeoutMs + CHECK_MARGIN_MS,
      run: (signal) => {
        stopOnAbort(signal);
        return checkServer(connection, options.clientVersion ?? qdrantClientVersion());
      },
    },
    {
      name: 'qdrant collection',
      timeoutMs: liveTimeoutMs,
      run: async (signal) => {
        stopOnAbort(signal);
        return checkCollectionShape(await readLive(), options);
      },
    },
    {
      name: 'qdrant payload indexes',
      timeoutMs: liveTimeoutMs,
      run: (signal) => {
        stopOnAbort(signal);
        return readLive().then(checkIndexes, unread);
      },
    },
    {
      name: 'qdrant alias',
      timeoutMs: liveTimeoutMs,
      run: (signal) => {
        stopOnAbort(signal);
        return readLive().then((found) => checkAlias(found, alias), unread);
      },
    },
  ];
  running = checks.length;
  return checks;
}

/** The line of a check whose collection could not be read: the qdrant collection line says why. */
function unread(): CheckResult {
  return blockedBy('qdrant collection', 'not checked: the collection could not be read');
}

async function checkServer(connection: QdrantConnection, clientVersion: string): Promise<CheckResult> {
  const version = await connection.serverVersion();
  const facts = `${connection.url} runs Qdrant ${version}; the client is ${clientVersion}`;
  if (!versionsCompatible(clientVersion, version)) {
    return warn(facts, `Run a Qdrant server within one minor version of ${clientVersion} (same major): the client is not tested against ${version}.`);
  }
  return ok(facts);
}

function checkCollectionShape(live: LiveCollection, options: QdrantDoctorOptions): CheckResult {
  if (live.info === undefined) {
    return ok(`no collection ${live.name} yet: findimage creates it (Cosine vectors of the model's size) at its first start`);
  }
  const vectors = live.info.config.params.vectors;
  const reindex = `Run "findimage reindex --model ${options.modelId}" to build a collection that fits (the alias moves when it is done).`;
  if (typeof vectors !== 'object' || vectors === null || !('size' in vectors) || typeof vectors.size !== 'number') {
    return fail(`collection ${live.name} has named vectors or none, not the single vector findimage uses`, reindex);
  }
  const owner = (live.info.config.metadata as Record<string, unknown> | null | undefined)?.[METADATA_MODEL_KEY];
  const facts = `collection ${live.name}: ${vectors.size}-d ${vectors.distance} vectors, ${live.info.points_count ?? 0} points`;
  if (options.dimension === undefined) {
    return fail(`${facts}; FINDIMAGE_MODEL names no known model, so its size cannot be compared`, 'Set FINDIMAGE_MODEL to a model that "findimage model list" shows.');
  }
  if (vectors.size !== options.dimension) {
    return fail(`${facts}, but model ${options.modelId} makes ${options.dimension}-d vectors`, reindex);
  }
  if (vectors.distance !== 'Cosine') {
    return fail(`${facts}, but findimage compares by Cosine`, reindex);
  }
  if (typeof owner === 'string' && owner !== options.modelId) {
    return fail(`${facts} of model ${owner}, but FINDIMAGE_MODEL is ${options.modelId}`, `${reindex} Or set FINDIMAGE_MODEL=${owner}.`);
  }
  return ok(facts);
}

function checkIndexes(live: LiveCollection): CheckResult {
  if (live.info === undefined) return ok('no collection yet: its payload indexes are made with it');
  const schema = live.info.payload_schema ?? {};
  const missing: string[] = [];
  const otherType: string[] = [];
  for (const { field, schema: wanted } of PAYLOAD_INDEXES) {
    const found = schema[field];
    const type = typeof wanted === 'string' ? wanted : wanted.type;
    if (found === undefined) missing.push(field);
    else if (found.data_type !== type) otherType.push(`${field} is ${found.data_type}, not ${type}`);
  }
  if (missing.length > 0) {
    return warn(
      `collection ${live.name} lacks the payload index${missing.length === 1 ? '' : 'es'} ${missing.join(', ')}: filtered searches scan every point`,
      'Start findimage (serve or index) once: it creates missing indexes when it opens the collection.',
    );
  }
  if (otherType.length > 0) {
    return warn(`collection ${live.name}: ${otherType.join('; ')}`, 'Delete that index in Qdrant and start findimage once to make it again with the right type.');
  }
  return ok(`collection ${live.name} has all ${PAYLOAD_INDEXES.length} payload indexes`);
}

function checkAlias(live: LiveCollection, alias: string): CheckResult {
  if (live.aliasTarget !== undefined) return ok(`alias ${alias} → ${live.aliasTarget}`);
  if (live.info !== undefined) {
    return warn(`collection ${live.name} exists but no alias ${alias} names it`, 'Start findimage once: it makes the alias when it opens the collection.');
  }
  return ok(`no alias ${alias} yet: findimage makes it with the collection at its first start`);
}
