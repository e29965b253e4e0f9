// QdrantStore against the fake Qdrant server through the real client: the shared VectorStore
// contract, then what only the Qdrant adapter does (collection per model behind an alias,
// indexes before data, batched wait=true upserts, the exact filters it sends, share updates as
// payload writes, and old-layout points read and rewritten).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@qdrant/js-client-rest';
import { createSilentLogger } from '../../../logger.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { describeVectorStoreContract, uuid } from '../vector-store.contract.js';
import type { ImagePayload, ImageShare, PointInput } from '../vector-store.js';
import { PAYLOAD_INDEXES } from './collection-setup.js';
import { openQdrantStore, type QdrantStoreOptions, UPSERT_BATCH_SIZE } from './qdrant-store.js';

const logger = createSilentLogger();
let fake: FakeQdrantServer;
let prefixes = 0;

beforeAll(async () => {
  fake = await FakeQdrantServer.start();
});

afterAll(async () => {
  await fake.stop();
});

/** Options for a store in a collection no other test uses. */
function options(overrides: Partial<QdrantStoreOptions> = {}): QdrantStoreOptions {
  prefixes += 1;
  return {
    url: fake.url,
    modelId: 'clip-vit-b32',
    dimension: 4,
    onDisk: false,
    quantization: false,
    logger,
    collectionPrefix: `t${prefixes}`,
    ...overrides,
  };
}

describeVectorStoreContract('QdrantStore on the fake Qdrant server', async (dimension) => {
  const store = await openQdrantStore(options({ dimension }));
  return { store, cleanup: () => store.close() };
});

function payload(overrides: Partial<ImagePayload> = {}): ImagePayload {
  return {
    tenant: 'T1',
    source: 'slack',
    filename: 'a.png',
    contentHash: 'c'.repeat(64),
    modelId: 'clip-vit-b32',
    createdAt: '2026-03-01T10:00:00.000Z',
    width: 10,
    height: 20,
    shares: [],
    ...overrides,
  };
}

function share(conversation: string, fields: Partial<ImageShare> = {}): ImageShare {
  return { conversation, isPublic: false, sharedAt: '2026-03-01T10:00:00.000Z', ...fields };
}

function point(n: number, vector: number[] = [1, 0, 0, 0], overrides: Partial<ImagePayload> = {}): PointInput {
  return { id: uuid(n), vector: Float32Array.from(vector), payload: payload(overrides) };
}

/** Requests to the fake since `from`, as "METHOD path" lines with the collection name cut. */
function requestsSince(from: number): typeof fake.requests {
  return fake.requests.slice(from);
}

describe('QdrantStore collection setup', () => {
  it('creates a Cosine collection named after the model behind the alias, with the model id in its metadata', async () => {
    const opts = options({ modelId: 'tiny-test', dimension: 8 });
    const store = await openQdrantStore(opts);
    const prefix = opts.collectionPrefix as string;
    expect(store.collection).toBe(`${prefix}_tiny-test`);
    expect(fake.aliasTarget(prefix)).toBe(`${prefix}_tiny-test`);
    const info = fake.collection(prefix)?.info();
    expect(info?.config.params.vectors).toEqual({ size: 8, distance: 'Cosine', on_disk: false });
    expect(info?.config.quantization_config).toBeNull();
    expect(info?.config.metadata).toEqual({ findimage_model_id: 'tiny-test', findimage_dimension: 8, findimage_layout: 2 });
    await store.close();
  });

  it('creates every payload index, tenant with is_tenant, before the first point is written', async () => {
    const start = fake.requests.length;
    const opts = options();
    const store = await openQdrantStore(opts);
    await store.upsert([point(1)]);
    const log = requestsSince(start);
    const indexRequests = log.filter((r) => r.method === 'PUT' && r.path.endsWith('/index'));
    const firstUpsert = log.findIndex((r) => r.method === 'PUT' && r.path.endsWith('/points'));
    expect(indexRequests.map((r) => r.body)).toEqual(
      PAYLOAD_INDEXES.map(({ field, schema }) => ({ field_name: field, field_schema: schema })),
    );
    expect(indexRequests.every((r) => r.query.wait === 'true')).toBe(true);
    expect(log.findLastIndex((r) => r.path.endsWith('/index'))).toBeLessThan(firstUpsert);
    const schema = fake.collection(store.collection)?.info().payload_schema ?? {};
    expect(schema.tenant).toEqual({ data_type: 'keyword', params: { type: 'keyword', is_tenant: true }, points: 1 });
    expect(schema.created_at?.data_type).toBe('datetime');
    for (const key of ['shares[].conversation', 'shares[].uploader', 'shares[].message_id', 'shares[].file_id', 'source']) {
      expect(schema[key]?.data_type).toBe('keyword');
    }
    expect(schema['shares[].is_public']?.data_type).toBe('bool');
    await store.close();
  });

  it('sets on_disk and int8 quantization when asked, and then searches with rescoring', async () => {
    const store = await openQdrantStore(options({ onDisk: true, quantization: true }));
    const info = fake.collection(store.collection)?.info();
    expect(info?.config.params.vectors).toEqual({ size: 4, distance: 'Cosine', on_disk: true });
    expect(info?.config.quantization_config).toEqual({ scalar: { type: 'int8', quantile: 0.99, always_ram: true } });
    const start = fake.requests.length;
    await store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 3 });
    const query = requestsSince(start).find((r) => r.path.endsWith('/points/query'));
    expect((query?.body as Schemas['QueryRequest']).params).toEqual({ quantization: { rescore: true, oversampling: 2 } });
    await store.close();
  });

  it('reopens the live collection with its points and makes nothing new', async () => {
    const opts = options();
    const first = await openQdrantStore(opts);
    await first.upsert([point(1), point(2)]);
    await first.close();
    const start = fake.requests.length;
    const second = await openQdrantStore(opts);
    expect(second.collection).toBe(first.collection);
    expect(await second.count()).toBe(2);
    expect(requestsSince(start).filter((r) => r.method === 'PUT')).toEqual([]);
    await second.close();
  });

  it('creates the collection without metadata on a server that refuses the field, then reads the model from points', async () => {
    const opts = options();
    const name = `${opts.collectionPrefix as string}_clip-vit-b32`;
    fake.faults.inject(
      { kind: 'status', status: 400, message: 'Format error in JSON body: unknown field `metadata` at line 1 column 80' },
      { match: (r) => r.method === 'PUT' && r.path === `/collections/${name}` },
    );
    const store = await openQdrantStore(opts);
    expect(fake.collection(name)?.metadata).toEqual({});
    await store.upsert([point(1)]);
    await store.close();
    await expect(openQdrantStore({ ...opts, modelId: 'other', dimension: 4 })).rejects.toMatchObject({
      code: 'store_schema_mismatch',
    });
  });

  it('adds an index missing from an existing collection (one made before an index was added)', async () => {
    const opts = options();
    const prefix = opts.collectionPrefix as string;
    fake.seedCollection(`${prefix}_clip-vit-b32`, {
      vectors: { size: 4, distance: 'Cosine' },
      metadata: { findimage_model_id: 'clip-vit-b32' },
    });
    fake.seedAlias(prefix, `${prefix}_clip-vit-b32`);
    const store = await openQdrantStore(opts);
    const schema = fake.collection(prefix)?.info().payload_schema ?? {};
    expect(Object.keys(schema).sort()).toEqual(PAYLOAD_INDEXES.map((i) => i.field).sort());
    await store.close();
  });
});

describe('QdrantStore writes', () => {
  it(`sends upserts in batches of ${UPSERT_BATCH_SIZE} with wait=true and the caller's ids`, async () => {
    const store = await openQdrantStore(options());
    const points = Array.from({ length: 2 * UPSERT_BATCH_SIZE + 5 }, (_, i) => point(i + 1));
    const start = fake.requests.length;
    await store.upsert(points);
    const upserts = requestsSince(start).filter((r) => r.method === 'PUT' && r.path.endsWith('/points'));
    expect(upserts.map((r) => (r.body as Schemas['PointsList']).points.length)).toEqual([UPSERT_BATCH_SIZE, UPSERT_BATCH_SIZE, 5]);
    expect(upserts.every((r) => r.query.wait === 'true')).toBe(true);
    expect(upserts.flatMap((r) => (r.body as Schemas['PointsList']).points.map((p) => p.id))).toEqual(points.map((p) => p.id));
    expect(await store.count()).toBe(points.length);
    await store.close();
  });

  it('honours a smaller batch size given as an option', async () => {
    const store = await openQdrantStore(options({ upsertBatchSize: 2 }));
    const start = fake.requests.length;
    await store.upsert([point(1), point(2), point(3)]);
    const sizes = requestsSince(start)
      .filter((r) => r.method === 'PUT' && r.path.endsWith('/points'))
      .map((r) => (r.body as Schemas['PointsList']).points.length);
    expect(sizes).toEqual([2, 1]);
    await store.close();
  });

  it('stores the payload under snake_case keys, the indexed ones included', async () => {
    const store = await openQdrantStore(options());
    const start = fake.requests.length;
    await store.upsert([
      point(7, [0, 1, 0, 0], {
        shares: [
          share('C1', { uploader: 'U1', messageId: 'M1', fileId: 'F1' }),
          share('C2', { isPublic: true, permalink: 'https://example.slack.com/p2' }),
        ],
      }),
    ]);
    const sent = (requestsSince(start).find((r) => r.path.endsWith('/points'))?.body as Schemas['PointsList']).points[0];
    expect(sent).toEqual({
      id: uuid(7),
      vector: [0, 1, 0, 0],
      payload: {
        point_id: uuid(7),
        tenant: 'T1',
        source: 'slack',
        filename: 'a.png',
        content_hash: 'c'.repeat(64),
        model_id: 'clip-vit-b32',
        created_at: '2026-03-01T10:00:00.000Z',
        width: 10,
        height: 20,
        shares: [
          { conversation: 'C1', is_public: false, shared_at: '2026-03-01T10:00:00.000Z', uploader: 'U1', message_id: 'M1', file_id: 'F1' },
          { conversation: 'C2', is_public: true, shared_at: '2026-03-01T10:00:00.000Z', permalink: 'https://example.slack.com/p2' },
        ],
      },
    });
    await store.close();
  });

  it('keeps ids that are not UUIDs by mapping them to UUIDs, and returns them as given', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([{ id: 'local-file-1', vector: Float32Array.from([1, 0, 0, 0]), payload: payload() }]);
    expect((await store.get(['local-file-1'], { tenant: 'T1' })).map((p) => p.id)).toEqual(['local-file-1']);
    const [hit] = await store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 });
    expect(hit?.id).toBe('local-file-1');
    expect(await store.count({ tenant: 'T1', excludeIds: ['local-file-1'] })).toBe(0);
    expect(await store.delete(['local-file-1'], { tenant: 'T1' })).toBe(1);
    await store.close();
  });
});

describe('QdrantStore queries', () => {
  it('sends tenant, sources and dates at point level, every share condition as ONE nested filter, has_id in must_not', async () => {
    const store = await openQdrantStore(options());
    const start = fake.requests.length;
    await store.query(Float32Array.from([1, 0, 0, 0]), {
      filter: {
        tenant: 'T1',
        scope: { conversations: ['C1', 'C2'], includePublic: true },
        share: { conversations: ['C2'], uploaders: ['U1'], messageId: 'M1', fileId: 'F1' },
        sources: ['slack'],
        after: new Date('2026-01-01T00:00:00.000Z'),
        before: new Date('2026-02-01T00:00:00.000Z'),
        excludeIds: [uuid(9)],
      },
      limit: 5,
    });
    const body = requestsSince(start).find((r) => r.path.endsWith('/points/query'))?.body as Schemas['QueryRequest'];
    expect(body.filter).toEqual({
      must: [
        { key: 'tenant', match: { value: 'T1' } },
        {
          nested: {
            key: 'shares',
            filter: {
              must: [
                { should: [{ key: 'conversation', match: { any: ['C1', 'C2'] } }, { key: 'is_public', match: { value: true } }] },
                { key: 'conversation', match: { any: ['C2'] } },
                { key: 'uploader', match: { any: ['U1'] } },
                { key: 'message_id', match: { value: 'M1' } },
                { key: 'file_id', match: { value: 'F1' } },
              ],
            },
          },
        },
        { key: 'source', match: { any: ['slack'] } },
        { key: 'created_at', range: { gte: '2026-01-01T00:00:00.000Z', lt: '2026-02-01T00:00:00.000Z' } },
      ],
      must_not: [{ has_id: [uuid(9)] }],
    });
    expect(body.query).toEqual([1, 0, 0, 0]);
    expect(body.with_payload).toBe(true);
    await store.close();
  });

  it('sends a scope without public shares as one match-any, and an empty share filter as "has shares"', async () => {
    const store = await openQdrantStore(options());
    const start = fake.requests.length;
    await store.count({ tenant: 'T1', scope: { conversations: ['C1'], includePublic: false } });
    await store.count({ tenant: 'T1', scope: { conversations: [], includePublic: true } });
    await store.count({ tenant: 'T1', share: {} });
    const filters = requestsSince(start)
      .filter((r) => r.path.endsWith('/points/count'))
      .map((r) => (r.body as Schemas['CountRequest']).filter);
    const tenant = { key: 'tenant', match: { value: 'T1' } };
    expect(filters).toEqual([
      { must: [tenant, { nested: { key: 'shares', filter: { must: [{ key: 'conversation', match: { any: ['C1'] } }] } } }] },
      { must: [tenant, { nested: { key: 'shares', filter: { must: [{ key: 'is_public', match: { value: true } }] } } }] },
      { must: [tenant], must_not: [{ is_empty: { key: 'shares' } }] },
    ]);
    await store.close();
  });

  it('reads and deletes by id with a scroll filtered on tenant, scope and has_id, so Qdrant leaves out what the caller may not see', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([point(1), point(2, [1, 0, 0, 0], { tenant: 'T2' })]);
    const start = fake.requests.length;
    await store.get([uuid(1), uuid(2)], { tenant: 'T1', scope: { conversations: ['C1'], includePublic: false }, withVector: true });
    expect(await store.delete([uuid(1), uuid(2)], { tenant: 'T1' })).toBe(1);
    const sent = requestsSince(start);
    const scrolls = sent.filter((r) => r.path.endsWith('/points/scroll')).map((r) => r.body as Schemas['ScrollRequest']);
    const tenant = { key: 'tenant', match: { value: 'T1' } };
    const among = { has_id: [uuid(1), uuid(2)] };
    expect(scrolls).toEqual([
      {
        limit: 2,
        filter: { must: [tenant, among, { nested: { key: 'shares', filter: { must: [{ key: 'conversation', match: { any: ['C1'] } }] } } }] },
        with_payload: true,
        with_vector: true,
      },
      { limit: 2, filter: { must: [tenant, among] }, with_payload: true, with_vector: false },
    ]);
    // Neither read asks for points by id alone (retrieve takes no filter).
    expect(sent.filter((r) => r.method === 'POST' && r.path.endsWith('/points'))).toEqual([]);
    expect(sent.find((r) => r.path.endsWith('/points/delete'))?.body).toEqual({ points: [uuid(1)] });
    await store.close();
  });

  it('asks for an exact search with params.exact when QueryOptions.exact is set, and leaves the graph on otherwise', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([point(1, [1, 0, 0, 0]), point(2, [0, 1, 0, 0])]);
    const q = Float32Array.from([1, 0, 0, 0]);
    const start = fake.requests.length;
    const exact = await store.query(q, { filter: { tenant: 'T1' }, limit: 1, exact: true });
    const approximate = await store.query(q, { filter: { tenant: 'T1' }, limit: 1 });
    expect(exact).toEqual(approximate);
    const bodies = requestsSince(start).filter((r) => r.path.endsWith('/points/query')).map((r) => r.body as Schemas['QueryRequest']);
    expect(bodies.map((b) => b.params)).toEqual([{ exact: true }, undefined]);
    await store.close();
  });

  it('ignores the int8 copy too in an exact search of a quantized collection', async () => {
    const store = await openQdrantStore(options({ quantization: true }));
    const start = fake.requests.length;
    await store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 3, exact: true });
    const query = requestsSince(start).find((r) => r.path.endsWith('/points/query'));
    expect((query?.body as Schemas['QueryRequest']).params).toEqual({ exact: true, quantization: { ignore: true } });
    await store.close();
  });

  it('answers a filter that can match nothing (an empty list) without asking Qdrant', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([point(1, [1, 0, 0, 0], { shares: [share('C1', { uploader: 'U1' })] })]);
    const start = fake.requests.length;
    const q = Float32Array.from([1, 0, 0, 0]);
    expect(await store.query(q, { filter: { tenant: 'T1', scope: { conversations: [], includePublic: false } }, limit: 5 })).toEqual([]);
    expect(await store.count({ tenant: 'T1', share: { uploaders: [] } })).toBe(0);
    expect(await store.count({ tenant: 'T1', share: { conversations: [] } })).toBe(0);
    expect(await store.deleteByFilter({ tenant: 'T1', sources: [] })).toBe(0);
    expect(await store.removeShares({ tenant: 'T1', share: { conversations: [] } })).toEqual({ shares: 0, points: 0 });
    expect(requestsSince(start)).toEqual([]);
    expect(await store.count()).toBe(1);
    await store.close();
  });

  it('sorts a tie that straddles the page edge by id, though the server returns ties in insertion order', async () => {
    const store = await openQdrantStore(options());
    // Ten equal scores written in descending id order: the fake returns them in that order.
    await store.upsert([10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => point(n, [0, 1, 0, 0])));
    await store.upsert([point(11, [1, 0, 0, 0])]);
    const q = Float32Array.from([0, 1, 0, 0]);
    const pages = [];
    for (let offset = 0; offset < 11; offset += 3) {
      pages.push(...(await store.query(q, { filter: { tenant: 'T1' }, limit: 3, offset })).map((h) => h.id));
    }
    expect(pages).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(uuid));
    await store.close();
  });

  it('reports stats with Qdrant facets on source and model_id', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([point(1), point(2, [1, 0, 0, 0], { source: 'discord' }), point(3, [1, 0, 0, 0], { tenant: 'T9' })]);
    const start = fake.requests.length;
    expect(await store.stats()).toEqual({ total: 3, bySource: { slack: 2, discord: 1 }, byModel: { 'clip-vit-b32': 3 } });
    const facets = requestsSince(start).filter((r) => r.path.endsWith('/facet')).map((r) => (r.body as Schemas['FacetRequest']).key);
    expect(facets.sort()).toEqual(['model_id', 'source']);
    await store.close();
  });

  it('refuses a scroll cursor it did not make', async () => {
    const store = await openQdrantStore(options());
    await expect(store.scroll({ cursor: 'not-a-cursor', limit: 2 })).rejects.toMatchObject({ code: 'store_failed' });
    await store.close();
  });
});

describe('QdrantStore shares', () => {
  it('adds shares with one set_payload of the merged `shares` array, after reading the point', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([point(1, [1, 0, 0, 0], { shares: [share('C1', { messageId: 'M1' })] })]);
    const start = fake.requests.length;
    expect(await store.addShares('T1', uuid(1), [share('C2', { isPublic: true }), share('C1', { messageId: 'M1', uploader: 'U9' })])).toBe(true);
    const log = requestsSince(start);
    expect(log.map((r) => `${r.method} ${r.path.replace(/^\/collections\/[^/]+/, '')}`)).toEqual(['POST /points', 'POST /points/payload']);
    expect(log[1]?.query.wait).toBe('true');
    expect(log[1]?.body).toEqual({
      points: [uuid(1)],
      payload: {
        shares: [
          { conversation: 'C1', is_public: false, shared_at: '2026-03-01T10:00:00.000Z', message_id: 'M1', uploader: 'U9' },
          { conversation: 'C2', is_public: true, shared_at: '2026-03-01T10:00:00.000Z' },
        ],
      },
    });
    await store.close();
  });

  it('removes shares in one batch per page: set_payload for points that keep some, delete for the emptied', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([
      point(1, [1, 0, 0, 0], { shares: [share('C1', { messageId: 'M1' }), share('C2', { messageId: 'M2' })] }),
      point(2, [1, 0, 0, 0], { shares: [share('C1', { messageId: 'M1' })] }),
      point(3, [1, 0, 0, 0], { shares: [share('C3', { messageId: 'M3' })] }),
    ]);
    const start = fake.requests.length;
    expect(await store.removeShares({ tenant: 'T1', share: { conversations: ['C1'] } })).toEqual({ shares: 1, points: 1 });
    const batches = requestsSince(start).filter((r) => r.path.endsWith('/points/batch'));
    expect(batches).toHaveLength(1);
    expect(batches[0]?.query.wait).toBe('true');
    expect(batches[0]?.body).toEqual({
      operations: [
        { set_payload: { points: [uuid(1)], payload: { shares: [{ conversation: 'C2', is_public: false, shared_at: '2026-03-01T10:00:00.000Z', message_id: 'M2' }] } } },
        { delete: { points: [uuid(2)] } },
      ],
    });
    expect((await store.get([1, 2, 3].map(uuid), { tenant: 'T1' })).map((p) => [p.id, p.payload.shares.map((s) => s.conversation)])).toEqual([
      [uuid(1), ['C2']],
      [uuid(3), ['C3']],
    ]);
    await store.close();
  });

  it('walks every page of matching points when removing shares', async () => {
    const store = await openQdrantStore(options());
    const many = Array.from({ length: 300 }, (_, i) => point(i + 1, [1, 0, 0, 0], { shares: [share('C-gone'), share(`C-keep-${i % 2}`)] }));
    await store.upsert(many);
    expect(await store.removeShares({ tenant: 'T1', share: { conversations: ['C-gone'] } })).toEqual({ shares: 300, points: 0 });
    expect(await store.count({ tenant: 'T1', share: { conversations: ['C-gone'] } })).toBe(0);
    expect(await store.count({ tenant: 'T1', share: {} })).toBe(300);
    await store.close();
  });

  it('makes a conversation private in one batch per page, asking only for shares not yet private', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([
      point(1, [1, 0, 0, 0], { shares: [share('C1', { messageId: 'M1', isPublic: true }), share('C2', { messageId: 'M2', isPublic: true })] }),
      point(2, [1, 0, 0, 0], { shares: [share('C1', { messageId: 'M3' })] }),
    ]);
    const start = fake.requests.length;
    expect(await store.setSharesPublic('T1', 'C1', false)).toBe(1);
    const scrolls = requestsSince(start).filter((r) => r.path.endsWith('/points/scroll'));
    expect(scrolls[0]?.body).toMatchObject({
      filter: {
        must: [
          { key: 'tenant', match: { value: 'T1' } },
          { nested: { key: 'shares', filter: { must: [{ key: 'conversation', match: { value: 'C1' } }, { key: 'is_public', match: { value: true } }] } } },
        ],
      },
    });
    const batches = requestsSince(start).filter((r) => r.path.endsWith('/points/batch'));
    expect(batches).toHaveLength(1);
    expect(batches[0]?.query.wait).toBe('true');
    expect(batches[0]?.body).toEqual({
      operations: [
        {
          set_payload: {
            points: [uuid(1)],
            payload: {
              shares: [
                { conversation: 'C1', is_public: false, shared_at: '2026-03-01T10:00:00.000Z', message_id: 'M1' },
                { conversation: 'C2', is_public: true, shared_at: '2026-03-01T10:00:00.000Z', message_id: 'M2' },
              ],
            },
          },
        },
      ],
    });
    await store.close();
  });

  it('walks every page of matching points when making a conversation private and public again', async () => {
    const store = await openQdrantStore(options());
    const many = Array.from({ length: 300 }, (_, i) => point(i + 1, [1, 0, 0, 0], { shares: [share('C-turned', { isPublic: true }), share(`C-keep-${i % 2}`)] }));
    await store.upsert(many);
    const elsewhere = { tenant: 'T1', scope: { conversations: ['C-elsewhere'], includePublic: true } };
    expect(await store.setSharesPublic('T1', 'C-turned', false)).toBe(300);
    expect(await store.count(elsewhere)).toBe(0);
    expect(await store.setSharesPublic('T1', 'C-turned', true)).toBe(300);
    expect(await store.count(elsewhere)).toBe(300);
    await store.close();
  });
});

describe('QdrantStore old payload layout', () => {
  /** A point as findimage wrote it before shares: one share as flat fields. */
  function legacyPayload(n: number, flat: Record<string, unknown>): Schemas['Payload'] {
    return {
      point_id: uuid(n),
      tenant: 'T1',
      source: flat.channel === undefined ? 'local' : 'slack',
      filename: `${n}.png`,
      content_hash: String(n).padStart(64, '0'),
      model_id: 'clip-vit-b32',
      created_at: '2026-02-01T00:00:00.000Z',
      width: 4,
      height: 4,
      ...flat,
    };
  }

  function seedLegacyCollection(prefix: string, points: Array<{ n: number; flat: Record<string, unknown> }>): string {
    const name = `${prefix}_clip-vit-b32`;
    const collection = fake.seedCollection(name, {
      vectors: { size: 4, distance: 'Cosine' },
      metadata: { findimage_model_id: 'clip-vit-b32', findimage_dimension: 4, findimage_layout: 1 },
    });
    fake.seedAlias(prefix, name);
    collection.prepareUpsert({
      points: points.map(({ n, flat }) => ({ id: uuid(n), vector: [1, 0, 0, 0], payload: legacyPayload(n, flat) })),
    })();
    return name;
  }

  const slackFlat = {
    channel: 'C1',
    channel_is_public: false,
    uploader: 'U1',
    message_id: 'M1',
    file_id: 'F1',
    permalink: 'https://example.slack.com/p1',
  };

  it('rewrites old points into `shares` on open, records layout 2, and then finds them with nested filters', async () => {
    const opts = options();
    const name = seedLegacyCollection(opts.collectionPrefix as string, [
      { n: 1, flat: slackFlat },
      { n: 2, flat: { channel: 'C2', channel_is_public: true } },
      { n: 3, flat: { path: '/photos/3.png' } },
    ]);
    const store = await openQdrantStore(opts);
    const raw = fake.collection(name)?.retrieve({ ids: [uuid(1), uuid(2), uuid(3)], with_payload: true }) ?? [];
    expect(raw.map((r) => r.payload)).toEqual([
      {
        ...legacyPayload(1, {}),
        source: 'slack',
        shares: [
          {
            conversation: 'C1',
            is_public: false,
            shared_at: '2026-02-01T00:00:00.000Z',
            uploader: 'U1',
            message_id: 'M1',
            file_id: 'F1',
            permalink: 'https://example.slack.com/p1',
          },
        ],
      },
      { ...legacyPayload(2, {}), source: 'slack', shares: [{ conversation: 'C2', is_public: true, shared_at: '2026-02-01T00:00:00.000Z' }] },
      // A folder image had nothing to rewrite: it is left as it was, and reads as no shares.
      legacyPayload(3, { path: '/photos/3.png' }),
    ]);
    expect(fake.collection(name)?.metadata).toMatchObject({ findimage_layout: 2 });
    const q = Float32Array.from([1, 0, 0, 0]);
    const seen = async (filter: Parameters<typeof store.count>[0]): Promise<string[]> =>
      (await store.query(q, { filter: filter as NonNullable<typeof filter>, limit: 10 })).map((h) => h.id);
    expect(await seen({ tenant: 'T1', scope: { conversations: ['C1'], includePublic: false } })).toEqual([uuid(1)]);
    expect(await seen({ tenant: 'T1', scope: { conversations: [], includePublic: true } })).toEqual([uuid(2)]);
    expect(await seen({ tenant: 'T1', share: { uploaders: ['U1'], messageId: 'M1' } })).toEqual([uuid(1)]);
    expect((await store.get([uuid(3)], { tenant: 'T1' }))[0]?.payload.shares).toEqual([]);
    await store.close();

    const start = fake.requests.length;
    await (await openQdrantStore(opts)).close();
    expect(requestsSince(start).filter((r) => r.path.endsWith('/points/batch') || r.path.endsWith('/points/count'))).toEqual([]);
  });

  it('rewrites a collection larger than one page in several batches', async () => {
    const opts = options();
    const name = seedLegacyCollection(
      opts.collectionPrefix as string,
      Array.from({ length: 300 }, (_, i) => ({ n: i + 1, flat: { channel: `C${i % 3}`, channel_is_public: i % 2 === 0 } })),
    );
    const start = fake.requests.length;
    const store = await openQdrantStore(opts);
    const batches = requestsSince(start).filter((r) => r.path.endsWith('/points/batch'));
    expect(batches.map((r) => (r.body as Schemas['UpdateOperations']).operations.length)).toEqual([256, 44]);
    expect(await store.count({ tenant: 'T1', share: {} })).toBe(300);
    expect(await store.count({ tenant: 'T1', scope: { conversations: ['C1'], includePublic: false } })).toBe(100);
    const stillFlat = fake.collection(name)?.count({ filter: { must: [{ is_empty: { key: 'shares' } }] } });
    expect(stillFlat).toEqual({ count: 0 });
    await store.close();
  });

  it('reads an old point written after the upgrade (an old host still running) as one share, and rewrites it whole on addShares', async () => {
    const store = await openQdrantStore(options());
    fake.collection(store.collection)?.prepareUpsert({ points: [{ id: uuid(5), vector: [1, 0, 0, 0], payload: legacyPayload(5, slackFlat) }] })();
    const [read] = await store.get([uuid(5)], { tenant: 'T1' });
    expect(read?.payload.shares).toEqual([
      share('C1', { sharedAt: '2026-02-01T00:00:00.000Z', uploader: 'U1', messageId: 'M1', fileId: 'F1', permalink: 'https://example.slack.com/p1' }),
    ]);
    expect(await store.addShares('T1', uuid(5), [share('C9')])).toBe(true);
    const [raw] = fake.collection(store.collection)?.retrieve({ ids: [uuid(5)], with_payload: true }) ?? [];
    expect(Object.keys(raw?.payload ?? {})).not.toContain('channel');
    expect((raw?.payload?.shares as unknown[]).length).toBe(2);
    expect(await store.count({ tenant: 'T1', scope: { conversations: ['C1'], includePublic: false } })).toBe(1);
    await store.close();
  });
});
