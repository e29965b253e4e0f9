// What QdrantStore does when Qdrant misbehaves, each fault injected into the fake server: down
// at start, down mid-batch, a refused API key, a collection of the wrong size or model, a body
// that is malformed or cut short, 5xx and 429 with Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindimageError, isTransient, StoreError } from '../../errors.js';
import { createSilentLogger } from '../../../logger.js';
import { captureLog } from '../../testing/wait-until.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { uuid } from '../vector-store.contract.js';
import type { ImagePayload, PointInput } from '../vector-store.js';
import { openQdrantStore, type QdrantStore, type QdrantStoreOptions } from './qdrant-store.js';
import type { RetryPolicy } from './retry-policy.js';

const logger = createSilentLogger();

/** Fast retries so that fault tests take milliseconds: 4 tries, 10 ms doubling. */
const QUICK: RetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 5_000 };
/** Longer than any test may run (vitest stops one at 30 s): a wait only closing can end. */
const TEN_MINUTES_MS = 10 * 60_000;

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
    logger,
    retry: QUICK,
    startupRetry: QUICK,
    ...overrides,
  };
}

async function open(overrides: Partial<QdrantStoreOptions> = {}): Promise<QdrantStore> {
  const store = await openQdrantStore(options(overrides));
  stores.push(store);
  return store;
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error('expected a StoreError, but the call succeeded');
}

function point(n: number, overrides: Partial<ImagePayload> = {}): PointInput {
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
      ...overrides,
    },
  };
}

const isUpsert = (r: { method: string; path: string }): boolean => r.method === 'PUT' && r.path.endsWith('/points');
const isQuery = (r: { method: string; path: string }): boolean => r.path.endsWith('/points/query');

describe('Qdrant down when findimage starts', () => {
  it('retries while Qdrant is down and opens once it answers', async () => {
    await fake.goDown();
    const log = captureLog();
    const opening = openQdrantStore(
      options({ logger: log.logger, startupRetry: { attempts: 20, baseDelayMs: 20, maxDelayMs: 40, maxRetryAfterMs: 1_000 } }),
    );
    // Up again only after the store has been refused twice and is waiting to try a third time.
    await log.waitFor((line) => line.attempt === 2, 'a second refused try');
    await fake.comeUp();
    const store = await opening;
    stores.push(store);
    await store.upsert([point(1)]);
    expect(await store.count()).toBe(1);
  });

  it('gives up with store_unavailable, naming the URL and the refused connection, after every try', async () => {
    const url = fake.url;
    await fake.goDown();
    const log = captureLog();
    const error = await failure(openQdrantStore(options({ logger: log.logger })));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toBe(
      `Cannot reach Qdrant at ${url} (connection refused) after 4 tries. Check that Qdrant is running ` +
        '(docker compose up -d qdrant) and that QDRANT_URL is right.',
    );
    expect(isTransient(error)).toBe(true);
    // Three waits asked for, each between half and all of the doubling 10, 20 and 40 ms (jitter),
    // read from the retry log rather than a clock, so a slow machine cannot fail or pass it.
    const waits = log.lines.filter((line) => line.waitMs !== undefined).map((line) => line.waitMs as number);
    expect(waits).toHaveLength(3);
    [10, 20, 40].forEach((full, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(full / 2);
      expect(waits[i]).toBeLessThanOrEqual(full);
    });
  });

  it('keeps the path of a QDRANT_URL behind a proxy', async () => {
    const error = await failure(openQdrantStore(options({ url: `${fake.url}/qdrant/`, startupRetry: { ...QUICK, attempts: 1 } })));
    expect(fake.requests.map((r) => r.path)).toEqual(['/qdrant/']);
    // Nothing serves /qdrant/ on the fake: a 404 that may be a proxy redeploying, so transient.
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toContain('answered 404 Not Found to /qdrant/');
  });

  it('names an unknown host', async () => {
    const error = await failure(openQdrantStore(options({ url: 'http://qdrant.invalid:6333', startupRetry: { ...QUICK, attempts: 1 } })));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toContain('Cannot reach Qdrant at http://qdrant.invalid:6333 (host not found)');
  });
});

describe('Qdrant going down mid-batch', () => {
  it('finishes the upsert when the connection drops on a batch and Qdrant comes back', async () => {
    const store = await open({ upsertBatchSize: 2 });
    let upserts = 0;
    // The second batch's request and its first retry are cut off; the next retry gets through.
    const secondAndThird = (r: { method: string; path: string }): boolean => {
      if (!isUpsert(r)) return false;
      upserts += 1;
      return upserts === 2 || upserts === 3;
    };
    fake.faults.inject({ kind: 'drop' }, { times: 2, match: secondAndThird });
    await store.upsert([1, 2, 3, 4, 5, 6].map((n) => point(n)));
    expect(fake.collection(store.collection)?.ids()).toEqual([1, 2, 3, 4, 5, 6].map(uuid));
    const sent = fake.requests.filter(isUpsert).map((r) => r.fault ?? 'ok');
    expect(sent).toEqual(['ok', 'drop', 'drop', 'ok', 'ok']);
  });

  it('re-sends a batch whose answer was lost after Qdrant applied it, without duplicating points', async () => {
    const store = await open({ upsertBatchSize: 2 });
    fake.faults.inject({ kind: 'drop', afterApplying: true }, { times: 1, match: isUpsert });
    await store.upsert([1, 2, 3].map((n) => point(n)));
    expect(await store.count()).toBe(3);
    expect(fake.requests.filter(isUpsert)).toHaveLength(3);
  });

  it('survives the whole server restarting between two batches', async () => {
    const log = captureLog();
    const store = await open({
      logger: log.logger,
      upsertBatchSize: 2,
      retry: { attempts: 10, baseDelayMs: 20, maxDelayMs: 50, maxRetryAfterMs: 1_000 },
    });
    let upserts = 0;
    let down: Promise<void> | undefined;
    fake.faults.inject({ kind: 'drop' }, {
      match: (r) => {
        if (!isUpsert(r) || ++upserts !== 2) return false;
        down = fake.goDown();
        return true;
      },
    });
    const upserting = store.upsert([1, 2, 3, 4].map((n) => point(n)));
    // Back up once the second batch has been dropped and then refused while the server is down.
    await log.waitFor((line) => line.attempt === 2, 'a try refused while Qdrant restarts');
    await down;
    await fake.comeUp();
    await upserting;
    expect(await store.count()).toBe(4);
  });

  it('reports store_unavailable when Qdrant stays down, with the batches before it kept', async () => {
    const store = await open({ upsertBatchSize: 2 });
    let upserts = 0;
    fake.faults.inject({ kind: 'drop' }, { times: 100, match: (r) => isUpsert(r) && ++upserts >= 2 });
    const error = await failure(store.upsert([1, 2, 3, 4].map((n) => point(n))));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toContain(`Cannot reach Qdrant at ${fake.url}`);
    expect(error.message).toContain('after 4 tries');
    expect(fake.collection(store.collection)?.ids()).toEqual([uuid(1), uuid(2)]);
  });
});

describe('API key', () => {
  it('sends QDRANT_API_KEY as the api-key header', async () => {
    fake.apiKey = 's3cret';
    const store = await open({ apiKey: 's3cret' });
    await store.upsert([point(1)]);
    const keyed = fake.requests.filter((r) => r.path !== '/');
    expect(keyed.length).toBeGreaterThan(0);
    expect(keyed.every((r) => r.apiKey === 's3cret')).toBe(true);
  });

  it('turns a 401 into store_auth pointing at QDRANT_API_KEY, without retrying', async () => {
    fake.apiKey = 's3cret';
    const error = await failure(openQdrantStore(options({ apiKey: 'wrong' })));
    expect(error.code).toBe('store_auth');
    expect(error.message).toBe(
      `Qdrant refused the API key: check QDRANT_API_KEY (${fake.url} answered HTTP 401: Unauthorized: Invalid API key or JWT).`,
    );
    expect(fake.requests.filter((r) => r.path !== '/')).toHaveLength(1);
  });

  it('says to set QDRANT_API_KEY when none was given to a server that needs one', async () => {
    fake.apiKey = 's3cret';
    const error = await failure(openQdrantStore(options()));
    expect(error.code).toBe('store_auth');
    expect(error.message).toContain(`Qdrant at ${fake.url} requires an API key: set QDRANT_API_KEY`);
  });

  it('reports store_auth when a key is revoked while serving, and 403 likewise', async () => {
    fake.apiKey = 'old';
    const store = await open({ apiKey: 'old' });
    fake.apiKey = 'new';
    expect((await failure(store.count())).code).toBe('store_auth');
    fake.apiKey = 'old';
    fake.faults.inject({ kind: 'status', status: 403, message: 'Forbidden: Read-only access' });
    const error = await failure(store.upsert([point(1)]));
    expect(error.code).toBe('store_auth');
    expect(error.message).toContain('HTTP 403: Forbidden: Read-only access');
  });
});

describe('collection of the wrong shape', () => {
  it('refuses a live collection of another vector size', async () => {
    fake.seedCollection('findimage_clip-vit-b32', {
      vectors: { size: 512, distance: 'Cosine' },
      metadata: { findimage_model_id: 'clip-vit-b32' },
    });
    fake.seedAlias('findimage', 'findimage_clip-vit-b32');
    const error = await failure(openQdrantStore(options({ dimension: 4 })));
    expect(error.code).toBe('store_schema_mismatch');
    expect(error.message).toBe(
      'The Qdrant collection findimage_clip-vit-b32 (behind the alias findimage) holds 512-number vectors, but the model ' +
        'clip-vit-b32 makes 4-number vectors. Run `findimage reindex --model clip-vit-b32` to build a collection for this ' +
        'model (the alias moves when it is done).',
    );
  });

  it('refuses a live collection made for another model, and says how to switch', async () => {
    const first = await open({ modelId: 'tiny-test' });
    await first.close();
    const error = await failure(openQdrantStore(options({ modelId: 'clip-vit-b32' })));
    expect(error.code).toBe('store_schema_mismatch');
    expect(error.message).toBe(
      'The Qdrant collection findimage_tiny-test (behind the alias findimage) holds vectors of the model tiny-test, but ' +
        'findimage is set to clip-vit-b32 (FINDIMAGE_MODEL). Run `findimage reindex --model clip-vit-b32` to build a ' +
        'collection for this model (the alias moves when it is done), or set FINDIMAGE_MODEL=tiny-test to keep using it.',
    );
  });

  it('reads the model from a stored point when the collection has no metadata', async () => {
    const seeded = fake.seedCollection('findimage_clip-vit-b32', { vectors: { size: 4, distance: 'Cosine' } });
    seeded.prepareUpsert({ points: [{ id: uuid(1), vector: [1, 0, 0, 0], payload: { model_id: 'other-model' } }] })();
    const error = await failure(openQdrantStore(options()));
    expect(error.code).toBe('store_schema_mismatch');
    expect(error.message).toContain('holds vectors of the model other-model');
  });

  it('refuses a collection that measures distance other than by Cosine', async () => {
    // The fake only stores Cosine collections, so this one is described by a verbatim answer.
    fake.seedCollection('findimage_clip-vit-b32', { vectors: { size: 4, distance: 'Cosine' } });
    fake.seedAlias('findimage', 'findimage_clip-vit-b32');
    const info = fake.collection('findimage')?.info();
    expect(info).toBeDefined();
    const dot = { ...info, config: { ...info?.config, params: { vectors: { size: 4, distance: 'Dot' } } } };
    fake.faults.inject(
      { kind: 'respond', status: 200, body: JSON.stringify({ result: dot, status: 'ok', time: 0 }) },
      { match: (r) => r.method === 'GET' && r.path === '/collections/findimage_clip-vit-b32' },
    );
    const error = await failure(openQdrantStore(options()));
    expect(error.code).toBe('store_schema_mismatch');
    expect(error.message).toContain('compares vectors by Dot, not Cosine');
  });

  it('refuses a real collection squatting on the alias name', async () => {
    fake.seedCollection('findimage', { vectors: { size: 4, distance: 'Cosine' } });
    const error = await failure(openQdrantStore(options()));
    expect(error.code).toBe('store_schema_mismatch');
    expect(error.message).toContain('Qdrant has a collection named findimage, the name findimage gives its alias');
  });
});

describe('unreadable responses', () => {
  it('turns a body that is not JSON into store_failed, not a crash', async () => {
    const store = await open();
    await store.upsert([point(1)]);
    fake.faults.inject({ kind: 'malformed' }, { match: isQuery });
    const error = await failure(store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 }));
    expect(error.code).toBe('store_failed');
    expect(error.message).toMatch(
      new RegExp(`^Qdrant at ${fake.url} sent a response findimage cannot read while trying to search findimage_clip-vit-b32 \\(the body is not JSON`),
    );
    expect(error.message).toContain('Check that QDRANT_URL points at Qdrant itself');
  });

  it('turns a JSON answer of the wrong shape into store_failed', async () => {
    const store = await open();
    fake.faults.inject({ kind: 'respond', status: 200, body: '{"result": {"points": "many"}, "status": "ok"}' }, { match: isQuery });
    const error = await failure(store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 }));
    expect(error.code).toBe('store_failed');
    expect(error.message).toContain('the answer has no "points" list');
    fake.faults.inject({ kind: 'respond', status: 200, body: '{"status": "ok"}' }, { match: (r) => r.path.endsWith('/count') });
    const missing = await failure(store.count());
    expect(missing.code).toBe('store_failed');
    expect(missing.message).toContain('the response has no "result"');
    fake.faults.inject({ kind: 'respond', status: 200, body: '<html>Bad gateway</html>', contentType: 'text/html' }, { match: (r) => r.path.endsWith('/count') });
    expect((await failure(store.count())).code).toBe('store_failed');
  });

  it('retries a truncated response and returns the right answer', async () => {
    const store = await open();
    await store.upsert([point(1), point(2)]);
    fake.faults.inject({ kind: 'truncate' }, { match: (r) => r.path.endsWith('/count') });
    expect(await store.count()).toBe(2);
    expect(fake.requests.filter((r) => r.path.endsWith('/count')).map((r) => r.fault ?? 'ok')).toEqual(['truncate', 'ok']);
  });

  it('reports store_unavailable when every response is cut short', async () => {
    const store = await open();
    fake.faults.inject({ kind: 'truncate' }, { times: 10, match: (r) => r.path.endsWith('/count') });
    const error = await failure(store.count());
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toBe(
      `Qdrant at ${fake.url} closed the connection before sending its whole answer to count points in ` +
        'findimage_clip-vit-b32 after 4 tries. It may be restarting or short of memory; check its logs.',
    );
  });
});

describe('server errors and throttling', () => {
  it('retries 500 and 503 and succeeds once the server recovers', async () => {
    const store = await open();
    fake.faults.inject({ kind: 'status', status: 500 }, { match: isUpsert });
    fake.faults.inject({ kind: 'status', status: 503 }, { match: isUpsert });
    await store.upsert([point(1)]);
    expect(fake.requests.filter(isUpsert).map((r) => r.fault ?? 'ok')).toEqual(['status', 'status', 'ok']);
    expect(await store.count()).toBe(1);
  });

  it('gives up on a server that keeps failing with its own error text', async () => {
    const store = await open();
    fake.faults.inject({ kind: 'status', status: 500, message: 'Service internal error: disk full' }, { times: 10, match: isUpsert });
    const error = await failure(store.upsert([point(1)]));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toBe(
      `Qdrant at ${fake.url} failed to upsert 1 points into findimage_clip-vit-b32 (HTTP 500: Service internal error: disk full) after 4 tries. Check the Qdrant logs.`,
    );
  });

  it('does not retry a request Qdrant refused as bad (400)', async () => {
    const store = await open();
    fake.faults.inject({ kind: 'status', status: 400, message: 'Wrong input: something' }, { match: isQuery });
    const error = await failure(store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 }));
    expect(error.code).toBe('store_failed');
    expect(error.message).toContain('refused to search findimage_clip-vit-b32 (HTTP 400: Wrong input: something)');
    expect(fake.requests.filter(isQuery)).toHaveLength(1);
  });

  it('waits as long as a 429 Retry-After asks before trying again', async () => {
    const log = captureLog();
    const store = await open({ logger: log.logger });
    await store.upsert([point(1)]);
    fake.faults.inject({ kind: 'status', status: 429, retryAfterSeconds: 1 }, { match: isQuery });
    const hits = await store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 });
    expect(hits.map((h) => h.id)).toEqual([uuid(1)]);
    const [limited, retried] = fake.requests.filter(isQuery);
    expect(limited?.fault).toBe('status');
    expect(retried?.fault).toBeUndefined();
    // The one wait asked for is the server's 1 s, not QUICK's 10 ms backoff.
    expect(log.lines.filter((line) => line.waitMs !== undefined).map((line) => line.waitMs)).toEqual([1_000]);
  });

  it('backs off on a 429 without Retry-After and reports it if it persists', async () => {
    const store = await open();
    fake.faults.inject({ kind: 'status', status: 429 }, { times: 10, match: isQuery });
    const error = await failure(store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: 'T1' }, limit: 1 }));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toContain('kept refusing search findimage_clip-vit-b32 as too many requests (HTTP 429) after 4 tries');
  });

  it('ends a retry wait as soon as the store is closed', async () => {
    const log = captureLog();
    // A wait far longer than the test may run: the count can only end if closing ends the wait.
    const retry = { attempts: 5, baseDelayMs: TEN_MINUTES_MS, maxDelayMs: TEN_MINUTES_MS, maxRetryAfterMs: TEN_MINUTES_MS };
    const store = await open({ logger: log.logger, retry });
    await fake.goDown();
    const counting = failure(store.count());
    // Closed while the count waits to try again.
    await log.waitFor((line) => line.attempt === 1, 'the first refused try');
    await store.close();
    const error = await counting;
    expect(error).toBeInstanceOf(FindimageError);
    expect(error.code).toBe('store_unavailable');
    expect(log.lines.filter((line) => line.attempt === 2)).toEqual([]);
  });
});
