// What a 404 from Qdrant means: only Qdrant's own "Collection `x` doesn't exist" says the
// collection was deleted (permanent); a 404 from a proxy during a redeploy, or from a server
// without the endpoint, may pass, so it is retried and ends as store_unavailable, naming what
// was seen. Each case goes through the real client against the fake server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTransient, StoreError } from '../../errors.js';
import { createSilentLogger } from '../../../logger.js';
import { NO_ROUTE, PROXY_NOT_FOUND } from '../../../../test/fakes/qdrant/fake-faults.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { uuid } from '../vector-store.contract.js';
import type { PointInput } from '../vector-store.js';
import { describeFailure, retryVerdict } from './qdrant-failure.js';
import { openQdrantStore, type QdrantStore, type QdrantStoreOptions } from './qdrant-store.js';
import type { RetryPolicy } from './retry-policy.js';

/** Fast retries so that these tests take milliseconds: 4 tries, 10 ms doubling. */
const QUICK: RetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 5_000 };
/** More 404s than any policy here has tries: the endpoint stays missing until cleared. */
const UNTIL_CLEARED = Number.POSITIVE_INFINITY;

let fake: FakeQdrantServer;
const stores: QdrantStore[] = [];

beforeEach(async () => {
  fake = await FakeQdrantServer.start();
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await fake.stop();
});

function options(overrides: Partial<QdrantStoreOptions> = {}): QdrantStoreOptions {
  return {
    url: fake.url,
    modelId: 'clip-vit-b32',
    dimension: 4,
    onDisk: false,
    quantization: false,
    logger: createSilentLogger(),
    retry: QUICK,
    startupRetry: QUICK,
    ...overrides,
  };
}

async function open(): Promise<QdrantStore> {
  const store = await openQdrantStore(options());
  stores.push(store);
  return store;
}

/** The StoreError a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error('expected a StoreError, but the call succeeded');
}

function point(n: number): PointInput {
  return {
    id: uuid(n),
    vector: Float32Array.from([1, 0, 0, 0]),
    payload: {
      tenant: 'T1',
      source: 'slack',
      filename: `${n}.png`,
      contentHash: 'd'.repeat(64),
      modelId: 'clip-vit-b32',
      createdAt: '2026-04-01T00:00:00.000Z',
      width: 1,
      height: 1,
      shares: [],
    },
  };
}

const isUpsert = (r: { method: string; path: string }): boolean => r.method === 'PUT' && r.path.endsWith('/points');
const isAliasList = (r: { method: string; path: string }): boolean => r.method === 'GET' && r.path === '/aliases';

/** An error as the client throws it for a 404 with this body. */
function clientError404(data: unknown, url = 'http://qdrant:6333/collections/c/points/payload?wait=true'): Error {
  return Object.assign(new Error('Not Found'), { status: 404, statusText: 'Not Found', data, url });
}

describe('a 404 that is not Qdrant saying the collection is gone', () => {
  it("retries a proxy's 404 page on the upsert endpoint and upserts once the endpoint answers again", async () => {
    const store = await open();
    fake.faults.inject(PROXY_NOT_FOUND, { times: 2, match: isUpsert });
    await store.upsert([point(1)]);
    expect(fake.requests.filter(isUpsert).map((r) => r.fault ?? 'ok')).toEqual(['respond', 'respond', 'ok']);
    expect(await store.count()).toBe(1);
  });

  it('reports a 404 that lasts as store_unavailable (transient), naming the status, the path and what was tried', async () => {
    fake.faults.inject(NO_ROUTE, { times: UNTIL_CLEARED, match: isAliasList });
    const error = await failure(openQdrantStore(options()));
    expect(error.code).toBe('store_unavailable');
    expect(isTransient(error)).toBe(true);
    expect(error.message).toMatch(
      new RegExp(`^Qdrant at ${fake.url} answered 404 Not Found to /aliases while trying to list aliases after 4 tries\\. `),
    );
    expect(error.message).toContain('a proxy in front of Qdrant is redeploying');
    expect(error.details).toMatchObject({ kind: 'endpoint_missing', status: 404, path: '/aliases' });
    expect(fake.requests.filter(isAliasList)).toHaveLength(4);
  });

  it('opens once the missing endpoint is back', async () => {
    fake.faults.inject(PROXY_NOT_FOUND, { times: 3, match: isAliasList });
    const store = await open();
    await store.upsert([point(1)]);
    expect(fake.requests.filter(isAliasList).map((r) => r.fault ?? 'ok').slice(0, 4)).toEqual(['respond', 'respond', 'respond', 'ok']);
  });

  it('reads a 404 without Qdrant words for what is missing as a missing endpoint', () => {
    for (const data of ['', '<html>404 Not Found</html>', { message: 'no Route matched with those values' }, { status: { error: 'Not found' } }]) {
      const failure = describeFailure(clientError404(data, 'http://proxy/qdrant/collections/c/points?wait=true'));
      expect(failure).toMatchObject({ kind: 'endpoint_missing', status: 404, path: '/qdrant/collections/c/points' });
      expect(failure.detail).toBe('404 Not Found to /qdrant/collections/c/points');
      expect(retryVerdict(clientError404(data)).retry).toBe(true);
    }
  });
});

describe('Qdrant saying what is missing', () => {
  it('reports a collection deleted while serving as deleted (store_failed), without retrying', async () => {
    const store = await open();
    await store.upsert([point(1)]);
    const deleted = await fetch(`${fake.url}/collections/${store.collection}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    const upsertsBefore = fake.requests.filter(isUpsert).length;

    const error = await failure(store.upsert([point(2)]));
    expect(error.code).toBe('store_failed');
    expect(isTransient(error)).toBe(false);
    expect(error.message).toBe(
      `Qdrant at ${fake.url} no longer has the collection findimage uses while trying to upsert 1 points into ` +
        `${store.collection} (HTTP 404: Not found: Collection \`${store.collection}\` doesn't exist!). ` +
        'Was the collection deleted? Restart findimage to create it again.',
    );
    expect(error.details).toMatchObject({ kind: 'collection_missing', status: 404 });
    expect(fake.requests.filter(isUpsert)).toHaveLength(upsertsBefore + 1);
  });

  it('does not retry a point Qdrant says is missing, and does not call it a deleted collection', () => {
    const missing = clientError404({ status: { error: 'Not found: No point with id 7 found' }, time: 0 });
    expect(describeFailure(missing)).toMatchObject({ kind: 'not_found', detail: 'HTTP 404: Not found: No point with id 7 found' });
    expect(retryVerdict(missing).retry).toBe(false);
  });
});
