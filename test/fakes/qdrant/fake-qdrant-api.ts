// The REST API state of the fake Qdrant: collections, aliases and the routes that act on them,
// with Qdrant's envelopes, status codes and update ordering. The HTTP side (auth, faults, the
// request log) lives in fake-qdrant-server.ts.
import { setTimeout as delay } from 'node:timers/promises';
import type { Schemas } from '@qdrant/js-client-rest';
import { FakeCollection, objectBody } from './fake-collection.js';
import { collectionNotFound, FakeQdrantError, formatError } from './fake-qdrant-error.js';

/** Qdrant refuses collection names with these characters (and "." and ".."). */
const FORBIDDEN_NAME_CHARS = /[<>:"/\\|?*\0\u001f]/;

export interface FakeQdrantApiOptions {
  /** Version reported at GET / (the client compares it with its own). */
  version?: string;
  /** How long an update sent without wait=true takes to become visible, in ms. */
  unwaitedApplyDelayMs?: number;
  /**
   * Peers of the cluster the fake stands for (default 1: a single server). Only the default
   * shard_number of a new collection depends on it, as in Qdrant: one shard per peer.
   */
  peers?: number;
}

/** What a route handler returns: a typed result for Qdrant's envelope. */
export interface Reply {
  result: unknown;
  /** Send `result` as the whole body, without the envelope (GET / and the health checks). */
  bare?: boolean;
}

interface RouteContext {
  /** The path's captured parts (collection name, field name). */
  params: string[];
  /** Query parameters. */
  query: URLSearchParams;
  /** The parsed JSON body. */
  body: unknown;
}

type Handler = (ctx: RouteContext) => Promise<Reply> | Reply;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

function ok<T>(result: T): Reply {
  return { result };
}

export class FakeQdrantApi {
  readonly #options: FakeQdrantApiOptions;
  readonly #collections = new Map<string, FakeCollection>();
  readonly #aliases = new Map<string, string>();
  readonly #updateChains = new Map<FakeCollection, Promise<void>>();
  readonly #routes: Route[];

  constructor(options: FakeQdrantApiOptions) {
    this.#options = options;
    this.#routes = this.#buildRoutes();
  }

  /** A collection by its name or by an alias of it. */
  collection(name: string): FakeCollection | undefined {
    return this.#collections.get(name) ?? this.#collections.get(this.#aliases.get(name) ?? '');
  }

  /** The collection an alias points at. */
  aliasTarget(alias: string): string | undefined {
    return this.#aliases.get(alias);
  }

  /** Creates a collection directly, as another program would have. */
  seedCollection(name: string, body: Schemas['CreateCollection']): FakeCollection {
    const collection = new FakeCollection(name, body);
    this.#collections.set(name, collection);
    return collection;
  }

  /** Points an alias at a collection directly. */
  seedAlias(alias: string, collection: string): void {
    this.#aliases.set(alias, collection);
  }

  /** Answers one request; throws FakeQdrantError for Qdrant's error answers. */
  async route(method: string, url: URL, body: unknown): Promise<Reply> {
    let pathMatched = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(url.pathname);
      if (m === null) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params = m.slice(1).map((p) => decodeURIComponent(p));
      return route.handler({ params, query: url.searchParams, body });
    }
    throw new FakeQdrantError(pathMatched ? 405 : 404, pathMatched ? 'Method not allowed' : 'Not found');
  }

  #resolve(name: string): FakeCollection {
    const collection = this.collection(name);
    if (collection === undefined) throw collectionNotFound(name);
    return collection;
  }

  /**
   * Runs an update in order after the collection's earlier updates. With wait=true the answer
   * comes once it is applied ("completed"); otherwise at once ("acknowledged"), applied later.
   */
  async #update(collection: FakeCollection, apply: () => void, query: URLSearchParams, operations?: number): Promise<Reply> {
    const wait = query.get('wait') === 'true';
    // A batch (operations given) answers one UpdateResult per operation, in a list.
    const operationIds = Array.from({ length: operations ?? 1 }, () => collection.nextOperationId());
    const lag = this.#options.unwaitedApplyDelayMs ?? 25;
    const previous = this.#updateChains.get(collection) ?? Promise.resolve();
    const done = previous.then(async () => {
      if (!wait) await delay(lag);
      apply();
    });
    this.#updateChains.set(collection, done.catch(() => undefined));
    if (wait) await done;
    const results: Schemas['UpdateResult'][] = operationIds.map((id) => ({
      operation_id: id,
      status: wait ? 'completed' : 'acknowledged',
    }));
    return ok(operations === undefined ? results[0] : results);
  }

  #buildRoutes(): Route[] {
    const name = '([^/]+)';
    const route = (method: string, path: string, handler: Handler): Route => ({
      method,
      pattern: new RegExp(`^${path}$`),
      handler,
    });
    return [
      route('GET', '/', () => {
        const info: Schemas['VersionInfo'] = {
          title: 'qdrant - vector search engine',
          version: this.#options.version ?? '1.20.0',
          commit: null,
        };
        // Qdrant answers GET / with VersionInfo itself, not inside {result, status, time}.
        return { result: info, bare: true };
      }),
      route('GET', '/(?:healthz|livez|readyz)', () => ({ result: 'healthz check passed', bare: true })),
      route('GET', '/cluster', () => {
        // Only what a client reads to count peers: a single server says "disabled".
        const peers = this.#options.peers ?? 1;
        if (peers === 1) return ok({ status: 'disabled' });
        return ok({
          status: 'enabled',
          peer_id: 1,
          peers: Object.fromEntries(Array.from({ length: peers }, (_, i) => [String(i + 1), { uri: `http://peer-${i + 1}:6335/` }])),
        });
      }),
      route('GET', '/collections', () => {
        const list: Schemas['CollectionsResponse'] = {
          collections: [...this.#collections.keys()].map((n) => ({ name: n })),
        };
        return ok(list);
      }),
      route('GET', '/aliases', () => ok(this.#aliasList())),
      route('POST', '/collections/aliases', ({ body }) => {
        this.#changeAliases(body);
        return ok(true);
      }),
      route('GET', `/collections/${name}`, ({ params }) => ok(this.#resolve(params[0] as string).info())),
      route('PUT', `/collections/${name}`, ({ params, body }) => {
        const collectionName = params[0] as string;
        checkCollectionName(collectionName);
        if (this.#collections.has(collectionName)) {
          throw new FakeQdrantError(409, `Wrong input: Collection \`${collectionName}\` already exists!`);
        }
        if (this.#aliases.has(collectionName)) {
          throw new FakeQdrantError(409, `Wrong input: Alias with name \`${collectionName}\` already exists!`);
        }
        this.#collections.set(collectionName, new FakeCollection(collectionName, body, { shardNumber: this.#options.peers ?? 1 }));
        return ok(true);
      }),
      route('PATCH', `/collections/${name}`, ({ params, body }) => {
        const collection = this.#resolve(params[0] as string);
        const update = objectBody<Schemas['UpdateCollection']>(body ?? {}, 'UpdateCollection');
        if (update.metadata !== undefined && update.metadata !== null) {
          collection.metadata = { ...collection.metadata, ...update.metadata };
        }
        return ok(true);
      }),
      route('DELETE', `/collections/${name}`, ({ params }) => {
        const collectionName = params[0] as string;
        const existed = this.#collections.delete(collectionName);
        for (const [alias, target] of this.#aliases) if (target === collectionName) this.#aliases.delete(alias);
        return ok(existed);
      }),
      route('GET', `/collections/${name}/exists`, ({ params }) => {
        const existence: Schemas['CollectionExistence'] = { exists: this.collection(params[0] as string) !== undefined };
        return ok(existence);
      }),
      route('GET', `/collections/${name}/aliases`, ({ params }) => {
        const target = this.#resolve(params[0] as string).name;
        const all = this.#aliasList();
        const list: Schemas['CollectionsAliasesResponse'] = {
          aliases: all.aliases.filter((a) => a.collection_name === target),
        };
        return ok(list);
      }),
      route('PUT', `/collections/${name}/index`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        collection.createIndex(body);
        return this.#update(collection, () => undefined, query);
      }),
      route('PUT', `/collections/${name}/points`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        return this.#update(collection, collection.prepareUpsert(body), query);
      }),
      route('POST', `/collections/${name}/points`, ({ params, body }) =>
        ok(this.#resolve(params[0] as string).retrieve(body)),
      ),
      route('POST', `/collections/${name}/points/delete`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        return this.#update(collection, collection.prepareDelete(body), query);
      }),
      route('POST', `/collections/${name}/points/payload`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        return this.#update(collection, collection.preparePayloadUpdate(body, 'set'), query);
      }),
      route('PUT', `/collections/${name}/points/payload`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        return this.#update(collection, collection.preparePayloadUpdate(body, 'overwrite'), query);
      }),
      route('POST', `/collections/${name}/points/payload/delete`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        return this.#update(collection, collection.prepareDeletePayload(body), query);
      }),
      route('POST', `/collections/${name}/points/batch`, ({ params, body, query }) => {
        const collection = this.#resolve(params[0] as string);
        const batch = collection.prepareBatch(body);
        return this.#update(collection, batch.apply, query, batch.operations);
      }),
      route('POST', `/collections/${name}/points/scroll`, ({ params, body }) =>
        ok(this.#resolve(params[0] as string).scroll(body)),
      ),
      route('POST', `/collections/${name}/points/count`, ({ params, body }) =>
        ok(this.#resolve(params[0] as string).count(body)),
      ),
      route('POST', `/collections/${name}/points/query`, ({ params, body }) =>
        ok(this.#resolve(params[0] as string).query(body)),
      ),
      route('POST', `/collections/${name}/facet`, ({ params, body }) =>
        ok(this.#resolve(params[0] as string).facet(body)),
      ),
    ];
  }

  #aliasList(): Schemas['CollectionsAliasesResponse'] {
    return {
      aliases: [...this.#aliases].map(([alias, collection]) => ({ alias_name: alias, collection_name: collection })),
    };
  }

  /** Applies alias actions all together or not at all, as Qdrant does. */
  #changeAliases(raw: unknown): void {
    const body = objectBody<Schemas['ChangeAliasesOperation']>(raw, 'ChangeAliasesOperation');
    if (!Array.isArray(body.actions)) throw formatError('missing field `actions`');
    const next = new Map(this.#aliases);
    for (const action of body.actions as Schemas['AliasOperations'][]) {
      if ('create_alias' in action) {
        const { alias_name, collection_name } = action.create_alias;
        if (!this.#collections.has(collection_name)) throw collectionNotFound(collection_name);
        if (this.#collections.has(alias_name)) {
          throw new FakeQdrantError(409, `Wrong input: Collection with name \`${alias_name}\` already exists!`);
        }
        if (next.has(alias_name)) {
          throw new FakeQdrantError(409, `Wrong input: Alias with name \`${alias_name}\` already exists!`);
        }
        next.set(alias_name, collection_name);
      } else if ('delete_alias' in action) {
        next.delete(action.delete_alias.alias_name);
      } else if ('rename_alias' in action) {
        const { old_alias_name, new_alias_name } = action.rename_alias;
        const target = next.get(old_alias_name);
        if (target === undefined) throw new FakeQdrantError(404, `Not found: Alias ${old_alias_name} does not exists!`);
        next.delete(old_alias_name);
        next.set(new_alias_name, target);
      } else {
        throw formatError('data did not match any variant of untagged enum AliasOperations');
      }
    }
    this.#aliases.clear();
    for (const [alias, target] of next) this.#aliases.set(alias, target);
  }
}

function checkCollectionName(name: string): void {
  if (name.length === 0 || name.length > 255 || name === '.' || name === '..' || FORBIDDEN_NAME_CHARS.test(name)) {
    throw new FakeQdrantError(
      422,
      `Validation error in path parameters: [name: collection name cannot contain "/", "\\", ":" or other reserved characters]`,
    );
  }
}
