// The fake Qdrant server checked against Qdrant's documented REST behaviour, through the real
// client: envelopes and error bodies, Cosine normalisation, filters (nested ones included),
// ordering and paging, `wait`, payload updates and batches, aliases, payload indexes and API
// keys. If the fake drifts, adapter tests lie.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QdrantClient } from '@qdrant/js-client-rest';
import { FakeQdrantServer } from './fake-qdrant-server.js';

let fake: FakeQdrantServer;
let client: QdrantClient;

beforeEach(async () => {
  fake = await FakeQdrantServer.start();
  client = new QdrantClient({ url: fake.url, checkCompatibility: false });
});

afterEach(async () => {
  await fake.stop();
});

const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`${fake.url}${path}`, init);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

async function collection(name = 'c', size = 3): Promise<void> {
  await client.createCollection(name, { vectors: { size, distance: 'Cosine' } });
}

describe('fake Qdrant added latency', () => {
  it('answers every request, counted, when latencyMs adds a network delay to each', async () => {
    const slow = await FakeQdrantServer.start({ latencyMs: 5, recordRequests: false });
    try {
      const slowClient = new QdrantClient({ url: slow.url, checkCompatibility: false });
      await slowClient.createCollection('c', { vectors: { size: 3, distance: 'Cosine' } });
      await Promise.all([1, 2, 3].map((n) => slowClient.upsert('c', { wait: true, points: [{ id: n, vector: [1, n, 0] }] })));
      expect((await slowClient.count('c', { exact: true })).count).toBe(3);
      expect(slow.requestCount).toBe(5);
      expect(slow.requests).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});

describe('fake Qdrant wire format', () => {
  it('answers GET / with the version itself and other calls inside {result, status, time}', async () => {
    expect(JSON.parse((await raw('/')).body)).toEqual({ title: 'qdrant - vector search engine', version: '1.20.0', commit: null });
    const listed = JSON.parse((await raw('/collections')).body);
    expect(listed).toMatchObject({ result: { collections: [] }, status: 'ok' });
    expect(typeof listed.time).toBe('number');
  });

  it('answers errors with {status: {error}, time} and Qdrant status codes', async () => {
    const missing = await raw('/collections/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ status: { error: 'Not found: Collection `nope` doesn\'t exist!' } });
    await collection();
    const again = await raw('/collections/c', { method: 'PUT', body: JSON.stringify({ vectors: { size: 3, distance: 'Cosine' } }), headers: { 'content-type': 'application/json' } });
    expect(again.status).toBe(409);
    const badJson = await raw('/collections/c/points/count', { method: 'POST', body: '{"filter": ', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).status.error).toMatch(/^Format error in JSON body: /);
  });

  it('refuses a vector of the wrong size and an id that is neither an integer nor a UUID', async () => {
    await collection();
    await expect(client.upsert('c', { wait: true, points: [{ id: 1, vector: [1, 0] }] })).rejects.toMatchObject({
      status: 400,
      data: { status: { error: 'Wrong input: Vector dimension error: expected dim: 3, got 2' } },
    });
    await expect(client.upsert('c', { wait: true, points: [{ id: 'abc', vector: [1, 0, 0] }] })).rejects.toMatchObject({ status: 400 });
    expect((await client.count('c')).count).toBe(0);
  });
});

describe('fake Qdrant cluster layout of a collection', () => {
  it('records shard_number, replication_factor and write_consistency_factor as given, and reports them', async () => {
    await client.createCollection('c', { vectors: { size: 3, distance: 'Cosine' }, shard_number: 6, replication_factor: 2, write_consistency_factor: 2 });
    const params = (await client.getCollection('c')).config.params;
    expect(params).toMatchObject({ shard_number: 6, replication_factor: 2, write_consistency_factor: 2 });
  });

  it('defaults to one shard on a single server and one per peer in a cluster (as GET /cluster lists them), one copy, one acknowledgement', async () => {
    await collection('single');
    expect((await client.getCollection('single')).config.params).toMatchObject({ shard_number: 1, replication_factor: 1, write_consistency_factor: 1 });
    expect((await client.api().clusterStatus({})).data.result).toEqual({ status: 'disabled' });
    const cluster = await FakeQdrantServer.start({ peers: 3 });
    try {
      const clusterClient = new QdrantClient({ url: cluster.url, checkCompatibility: false });
      const status = (await clusterClient.api().clusterStatus({})).data.result;
      expect(status?.status === 'enabled' ? Object.keys(status.peers) : []).toHaveLength(3);
      await clusterClient.createCollection('c', { vectors: { size: 3, distance: 'Cosine' }, replication_factor: 2 });
      expect((await clusterClient.getCollection('c')).config.params).toMatchObject({ shard_number: 3, replication_factor: 2, write_consistency_factor: 1 });
    } finally {
      await cluster.stop();
    }
  });

  it('refuses a count below 1 with a validation error, and a value that is not a whole number as a format error', async () => {
    const put = (body: unknown) =>
      raw('/collections/c', { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const zero = await put({ vectors: { size: 3, distance: 'Cosine' }, replication_factor: 0 });
    expect(zero.status).toBe(422);
    expect(JSON.parse(zero.body).status.error).toBe('Validation error in JSON body: [replication_factor: value 0 invalid, must be 1 or larger]');
    const text = await put({ vectors: { size: 3, distance: 'Cosine' }, shard_number: 'two' });
    expect(text.status).toBe(400);
    expect((await client.getCollections()).collections).toEqual([]);
  });
});

describe('fake Qdrant status faults', () => {
  it('answers an injected status without applying the request, or after applying it when asked', async () => {
    await collection();
    const upsert = (n: number) => client.upsert('c', { wait: true, points: [{ id: n, vector: [1, n, 0] }] });
    fake.faults.inject({ kind: 'status', status: 503, message: 'Service unavailable: node is restarting' });
    await expect(upsert(1)).rejects.toMatchObject({ status: 503, data: { status: { error: 'Service unavailable: node is restarting' } } });
    fake.faults.inject({ kind: 'status', status: 500, message: 'Service internal error: not enough active replicas', afterApplying: true });
    await expect(upsert(2)).rejects.toMatchObject({ status: 500 });
    expect((await client.retrieve('c', { ids: [1, 2] })).map((p) => p.id)).toEqual([2]);
  });
});

describe('fake Qdrant points', () => {
  beforeEach(async () => {
    await collection();
  });

  it('normalises Cosine vectors at insert and scores with f32 dot products', async () => {
    await client.upsert('c', { wait: true, points: [{ id: 1, vector: [3, 4, 0] }] });
    const [stored] = await client.retrieve('c', { ids: [1], with_vector: true });
    expect(stored?.vector).toEqual([Math.fround(0.6), Math.fround(0.8), 0]);
    const { points } = await client.query('c', { query: [0, 2, 0], limit: 1 });
    expect(points[0]?.score).toBe(Math.fround(Math.fround(0.8) * 1));
  });

  it('prints UUIDs in lowercase hyphenated form whatever form they were written in', async () => {
    await client.upsert('c', { wait: true, points: [{ id: '{8F1B4C2E-0000-4000-8000-00000000000A}', vector: [1, 0, 0] }] });
    expect((await client.scroll('c')).points.map((p) => p.id)).toEqual(['8f1b4c2e-0000-4000-8000-00000000000a']);
  });

  it('scrolls integers before UUIDs, from an inclusive offset, with the next offset', async () => {
    await client.upsert('c', {
      wait: true,
      points: [id(2), 7, id(1), 3].map((i) => ({ id: i, vector: [1, 0, 0] })),
    });
    const first = await client.scroll('c', { limit: 2 });
    expect(first.points.map((p) => p.id)).toEqual([3, 7]);
    expect(first.next_page_offset).toBe(id(1));
    const second = await client.scroll('c', { limit: 2, offset: first.next_page_offset as string });
    expect(second.points.map((p) => p.id)).toEqual([id(1), id(2)]);
    expect(second.next_page_offset).toBeNull();
  });

  it('accepts search params as Qdrant parses them (exact, hnsw_ef, quantization) and refuses malformed ones', async () => {
    await client.upsert('c', { wait: true, points: [1, 2].map((n) => ({ id: n, vector: [1, n, 0] })) });
    const exact = await client.query('c', { query: [1, 0, 0], limit: 1, params: { exact: true, hnsw_ef: 64, quantization: { ignore: true } } });
    expect(exact.points.map((p) => p.id)).toEqual([1]);
    for (const params of [{ exact: 'yes' }, { exakt: true }, { quantization: { ignore: 1 } }]) {
      const answer = await raw('/collections/c/points/query', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: [1, 0, 0], limit: 1, params }),
      });
      expect(answer.status).toBe(400);
    }
  });

  it('pages query results with offset and limit, and returns payload only when asked', async () => {
    await client.upsert('c', {
      wait: true,
      points: [1, 2, 3].map((n) => ({ id: n, vector: [1, n, 0], payload: { n } })),
    });
    const page = await client.query('c', { query: [1, 0, 0], limit: 1, offset: 1 });
    expect(page.points.map((p) => p.id)).toEqual([2]);
    expect(page.points[0]?.payload).toBeUndefined();
    const withPayload = await client.query('c', { query: [1, 0, 0], limit: 1, with_payload: true });
    expect(withPayload.points[0]?.payload).toEqual({ n: 1 });
  });

  it('applies must, should and must_not as Qdrant does, an empty should matching nothing', async () => {
    await client.upsert('c', {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0], payload: { team: 'a', tags: ['x', 'y'], at: '2026-01-01T00:00:00Z' } },
        { id: 2, vector: [1, 0, 0], payload: { team: 'b', tags: ['z'], at: '2026-01-02T12:00:00+02:00' } },
        { id: 3, vector: [1, 0, 0], payload: { team: 'a', at: '2026-01-03' } },
      ],
    });
    const ids = async (filter: object): Promise<unknown[]> =>
      (await client.scroll('c', { filter, limit: 10 })).points.map((p) => p.id);
    expect(await ids({ must: [{ key: 'team', match: { value: 'a' } }] })).toEqual([1, 3]);
    expect(await ids({ must: [{ key: 'tags', match: { value: 'y' } }] })).toEqual([1]);
    expect(await ids({ must: [{ key: 'tags', match: { any: ['z', 'q'] } }] })).toEqual([2]);
    expect(await ids({ should: [] })).toEqual([]);
    expect(await ids({ must: [{ should: [{ key: 'team', match: { value: 'b' } }, { has_id: [3] }] }] })).toEqual([2, 3]);
    expect(await ids({ must_not: [{ has_id: [1] }] })).toEqual([2, 3]);
    expect(await ids({ must: [{ is_empty: { key: 'tags' } }] })).toEqual([3]);
    expect(await ids({ must: [{ key: 'at', range: { gte: '2026-01-02T10:00:00Z', lt: '2026-01-03T00:00:00Z' } }] })).toEqual([2]);
    expect(await ids({ must: [{ key: 'at', range: { gte: '2026-01-03T00:00:00Z' } }] })).toEqual([3]);
    expect(await ids({ must: [{ key: 'team', match: { any: [] } }] })).toEqual([]);
  });

  it('applies an update sent without wait=true later, and one with wait=true before answering', async () => {
    // A lag far longer than one request takes, so the read below cannot race the late apply on a
    // loaded machine (with the default 25 ms it did).
    await fake.stop();
    fake = await FakeQdrantServer.start({ unwaitedApplyDelayMs: 1_000 });
    client = new QdrantClient({ url: fake.url, checkCompatibility: false });
    await collection();
    const queued = await client.upsert('c', { wait: false, points: [{ id: 1, vector: [1, 0, 0] }] });
    expect(queued.status).toBe('acknowledged');
    expect((await client.count('c')).count).toBe(0);
    const done = await client.upsert('c', { wait: true, points: [{ id: 2, vector: [1, 0, 0] }] });
    expect(done.status).toBe('completed');
    expect((await client.count('c')).count).toBe(2);
  });

  it('counts facet values only on an indexed keyword field', async () => {
    await client.upsert('c', { wait: true, points: [1, 2, 3].map((n) => ({ id: n, vector: [1, 0, 0], payload: { s: n === 3 ? 'b' : 'a' } })) });
    await expect(client.facet('c', { key: 's' })).rejects.toMatchObject({ status: 400 });
    await client.createPayloadIndex('c', { field_name: 's', field_schema: 'keyword', wait: true });
    expect(await client.facet('c', { key: 's', exact: true })).toEqual({ hits: [{ value: 'a', count: 2 }, { value: 'b', count: 1 }] });
  });
});

describe('fake Qdrant nested filters', () => {
  // Point 1: Ann likes pasta, Bob likes soup. Point 2: Ann likes soup. Point 3: no list.
  // Point 4: `diet` is an object, not an array.
  beforeEach(async () => {
    await collection();
    await client.upsert('c', {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0], payload: { diet: [{ who: 'ann', food: 'pasta', vegan: false }, { who: 'bob', food: 'soup', vegan: true }] } },
        { id: 2, vector: [1, 0, 0], payload: { diet: [{ who: 'ann', food: 'soup', vegan: true }], team: { members: [{ who: 'cat' }] } } },
        { id: 3, vector: [1, 0, 0], payload: { other: 1 } },
        { id: 4, vector: [1, 0, 0], payload: { diet: { who: 'ann', food: 'soup' } } },
      ],
    });
  });

  const ids = async (filter: object): Promise<unknown[]> => (await client.scroll('c', { filter, limit: 10 })).points.map((p) => p.id);
  const nested = (filter: object, key = 'diet'): object => ({ must: [{ nested: { key, filter } }] });

  it('needs one element to meet the whole inner filter, where flat keys match across elements', async () => {
    const annSoup = [{ key: 'who', match: { value: 'ann' } }, { key: 'food', match: { value: 'soup' } }];
    expect(await ids(nested({ must: annSoup }))).toEqual([2]);
    // The same conditions on flattened paths: Ann (element 1) and soup (element 2) match point 1 too.
    expect(await ids({ must: [{ key: 'diet[].who', match: { value: 'ann' } }, { key: 'diet[].food', match: { value: 'soup' } }] })).toEqual([1, 2]);
    expect(await ids(nested({ must: [{ key: 'who', match: { value: 'bob' } }, { key: 'vegan', match: { value: true } }] }))).toEqual([1]);
    expect(await ids(nested({ must: [{ key: 'who', match: { any: ['ann', 'bob'] } }] }, 'diet[]'))).toEqual([1, 2]);
  });

  it('applies should and must_not per element, and finds nothing in a missing or non-array value', async () => {
    expect(await ids(nested({ must: [{ should: [{ key: 'food', match: { value: 'pasta' } }, { key: 'vegan', match: { value: true } }] }, { key: 'who', match: { value: 'ann' } }] }))).toEqual([1, 2]);
    // Point 1 has an element that is not Ann's (Bob's); point 2 has none.
    expect(await ids(nested({ must_not: [{ key: 'who', match: { value: 'ann' } }] }))).toEqual([1]);
    expect(await ids({ must_not: [{ nested: { key: 'diet', filter: { must: [{ key: 'food', match: { value: 'soup' } }] } } }] })).toEqual([3, 4]);
    expect(await ids(nested({ must: [{ key: 'who', match: { value: 'cat' } }] }, 'team.members'))).toEqual([2]);
  });

  it('refuses has_id inside a nested filter, as Qdrant does', async () => {
    await expect(client.scroll('c', { filter: nested({ must: [{ has_id: [1] }] }) })).rejects.toMatchObject({ status: 400 });
  });

  it('indexes a field of array elements under its "[]" path and counts the points that have it', async () => {
    await client.createPayloadIndex('c', { field_name: 'diet[].who', field_schema: 'keyword', wait: true });
    const schema = (await client.getCollection('c')).payload_schema;
    expect(schema['diet[].who']).toEqual({ data_type: 'keyword', params: null, points: 2 });
  });
});

describe('fake Qdrant payload updates', () => {
  beforeEach(async () => {
    await collection();
    await client.upsert('c', {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0], payload: { a: 1, b: [1, 2] } },
        { id: 2, vector: [1, 0, 0], payload: { a: 2, c: 'x' } },
      ],
    });
  });

  const payloads = async (): Promise<unknown[]> => (await client.scroll('c', { limit: 10 })).points.map((p) => p.payload);

  it('merges with set_payload, replaces with overwrite_payload and removes keys with delete_payload', async () => {
    expect(await client.setPayload('c', { wait: true, points: [1], payload: { b: [3], d: true } })).toMatchObject({ status: 'completed' });
    await client.overwritePayload('c', { wait: true, filter: { must: [{ key: 'a', match: { value: 2 } }] }, payload: { e: 1 } });
    expect(await payloads()).toEqual([{ a: 1, b: [3], d: true }, { e: 1 }]);
    await client.deletePayload('c', { wait: true, points: [1], keys: ['a', 'missing'] });
    expect(await payloads()).toEqual([{ b: [3], d: true }, { e: 1 }]);
  });

  it('answers 404 for a listed point that does not exist, and changes nothing by a filter that selects none', async () => {
    await expect(client.setPayload('c', { wait: true, points: [9], payload: { a: 0 } })).rejects.toMatchObject({ status: 404 });
    await client.setPayload('c', { wait: true, filter: { must: [{ has_id: [9] }] }, payload: { a: 0 } });
    expect(await payloads()).toEqual([{ a: 1, b: [1, 2] }, { a: 2, c: 'x' }]);
  });

  it('applies a batch of operations in order and answers one result per operation', async () => {
    const results = await client.batchUpdate('c', {
      wait: true,
      operations: [
        { set_payload: { points: [1], payload: { a: 10 } } },
        { overwrite_payload: { points: [2], payload: { z: 1 } } },
        { upsert: { points: [{ id: 3, vector: [0, 1, 0], payload: { a: 3 } }] } },
        { delete: { points: [1] } },
      ],
    });
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect((await client.scroll('c', { limit: 10 })).points.map((p) => [p.id, p.payload])).toEqual([
      [2, { z: 1 }],
      [3, { a: 3 }],
    ]);
  });
});

describe('fake Qdrant aliases and keys', () => {
  it('resolves aliases for every call and applies alias actions all or none', async () => {
    await collection('one');
    await collection('two');
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: 'one', alias_name: 'live' } }] });
    await client.upsert('live', { wait: true, points: [{ id: 1, vector: [1, 0, 0] }] });
    expect((await client.count('one')).count).toBe(1);
    await expect(
      client.updateCollectionAliases({
        actions: [{ delete_alias: { alias_name: 'live' } }, { create_alias: { collection_name: 'missing', alias_name: 'live' } }],
      }),
    ).rejects.toMatchObject({ status: 404 });
    expect(fake.aliasTarget('live')).toBe('one');
    await client.updateCollectionAliases({
      actions: [{ delete_alias: { alias_name: 'live' } }, { create_alias: { collection_name: 'two', alias_name: 'live' } }],
    });
    expect((await client.count('live')).count).toBe(0);
    expect(await client.getAliases()).toEqual({ aliases: [{ alias_name: 'live', collection_name: 'two' }] });
  });

  it('answers 401 in plain text without the right api-key, except on GET / and health checks', async () => {
    fake.apiKey = 'k';
    const missing = await raw('/collections');
    expect(missing).toEqual({ status: 401, body: 'Unauthorized: Must provide an API key or an Authorization bearer token', type: 'text/plain; charset=utf-8' });
    expect((await raw('/collections', { headers: { 'api-key': 'nope' } })).body).toBe('Unauthorized: Invalid API key or JWT');
    expect((await raw('/collections', { headers: { 'api-key': 'k' } })).status).toBe(200);
    expect((await raw('/collections', { headers: { authorization: 'Bearer k' } })).status).toBe(200);
    expect((await raw('/')).status).toBe(200);
    expect((await raw('/readyz')).status).toBe(200);
  });

  it('refuses connections while down and keeps its data across a restart', async () => {
    await collection();
    await client.upsert('c', { wait: true, points: [{ id: 1, vector: [1, 0, 0] }] });
    await fake.goDown();
    // The first call may land on a pooled connection the fake just cut; the next is refused.
    await expect(client.count('c')).rejects.toThrow('fetch failed');
    await expect(client.count('c')).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await fake.comeUp();
    expect((await client.count('c')).count).toBe(1);
  });
});
