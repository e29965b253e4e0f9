// QdrantStore against the fake Qdrant server through the real client: the shared VectorStore
// contract, then what only the Qdrant adapter does (collection per model behind an alias,
// indexes before data, batched wait=true upserts, the exact filters it sends).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@qdrant/js-client-rest';
import { createSilentLogger } from '../../../logger.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { describeVectorStoreContract, uuid } from '../vector-store.contract.js';
import type { ImagePayload, PointInput } from '../vector-store.js';
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
    ...overrides,
  };
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
    expect(info?.config.metadata).toEqual({ findimage_model_id: 'tiny-test', findimage_dimension: 8, findimage_layout: 1 });
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
    for (const key of ['channel', 'uploader', 'message_id', 'file_id', 'source']) {
      expect(schema[key]?.data_type).toBe('keyword');
    }
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
    await store.upsert([point(7, [0, 1, 0, 0], { channel: 'C1', channelIsPublic: false, uploader: 'U1', messageId: 'M1', fileId: 'F1' })]);
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
        channel: 'C1',
        channel_is_public: false,
        uploader: 'U1',
        message_id: 'M1',
        file_id: 'F1',
      },
    });
    await store.close();
  });

  it('keeps ids that are not UUIDs by mapping them to UUIDs, and returns them as given', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([{ id: 'local-file-1', vector: Float32Array.from([1, 0, 0, 0]), payload: payload() }]);
    expect((await store.get(['local-file-1'])).map((p) => p.id)).toEqual(['local-file-1']);
    const [hit] = await store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 });
    expect(hit?.id).toBe('local-file-1');
    expect(await store.count({ tenant: 'T1', excludeIds: ['local-file-1'] })).toBe(0);
    expect(await store.delete(['local-file-1'])).toBe(1);
    await store.close();
  });
});

describe('QdrantStore queries', () => {
  it('sends the scope as Qdrant filter clauses: tenant and channels-OR-public in must, a datetime range, has_id in must_not', async () => {
    const store = await openQdrantStore(options());
    const start = fake.requests.length;
    await store.query(Float32Array.from([1, 0, 0, 0]), {
      filter: {
        tenant: 'T1',
        channels: ['C1', 'C2'],
        includePublic: true,
        uploaders: ['U1'],
        sources: ['slack'],
        messageId: 'M1',
        fileId: 'F1',
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
        { should: [{ key: 'channel', match: { any: ['C1', 'C2'] } }, { key: 'channel_is_public', match: { value: true } }] },
        { key: 'uploader', match: { any: ['U1'] } },
        { key: 'source', match: { any: ['slack'] } },
        { key: 'message_id', match: { value: 'M1' } },
        { key: 'file_id', match: { value: 'F1' } },
        { key: 'created_at', range: { gte: '2026-01-01T00:00:00.000Z', lt: '2026-02-01T00:00:00.000Z' } },
      ],
      must_not: [{ has_id: [uuid(9)] }],
    });
    expect(body.query).toEqual([1, 0, 0, 0]);
    expect(body.with_payload).toBe(true);
    await store.close();
  });

  it('answers a filter that can match nothing (an empty channel list) without asking Qdrant', async () => {
    const store = await openQdrantStore(options());
    await store.upsert([point(1, [1, 0, 0, 0], { channel: 'C1' })]);
    const start = fake.requests.length;
    expect(await store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1', channels: [] }, limit: 5 })).toEqual([]);
    expect(await store.count({ tenant: 'T1', uploaders: [] })).toBe(0);
    expect(await store.deleteByFilter({ tenant: 'T1', sources: [] })).toBe(0);
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
