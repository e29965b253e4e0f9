// A Qdrant cluster while one node restarts: the node (or the load balancer in front of it)
// answers 503, the cluster answers 500 with Qdrant's own words for a replica that is away or a
// consensus that is late, a connection is reset, or an answer never comes. Reads and writes by
// id (idempotent: an upsert by id stores the point once, however often it is sent) are retried
// with backoff and succeed once the node is back; each retry is logged with its reason.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { hold } from '../../../../test/fakes/qdrant/fake-faults.js';
import { openQdrantLabelStore } from '../../labels/qdrant-label-store.js';
import { captureLog, type CapturedLog } from '../../testing/wait-until.js';
import { uuid } from '../vector-store.contract.js';
import type { PointInput } from '../vector-store.js';
import { openQdrantStore, type QdrantStore } from './qdrant-store.js';
import type { RetryPolicy } from './retry-policy.js';

/** Qdrant's answer while a shard's other copies are on a node that is restarting (qdrant/qdrant#6846). */
const NOT_ENOUGH_REPLICAS =
  'Service internal error: The replica set for shard 2 on peer 5360762229257965 does not have enough active replicas';
/** Qdrant's answer when the node holding the only copy it asked is down (qdrant/qdrant#5215). */
const READ_FAILED =
  'Service internal error: 1 of 1 read operations failed: Service internal error: Tonic status error: status: Unavailable, ' +
  'message: "error trying to connect: tcp connect error: Connection refused (os error 111)", details: [], metadata: MetadataMap { headers: {} }';
/** Qdrant's answer when a collection change is not committed by the cluster in time (qdrant/qdrant#752). */
const CONSENSUS_LATE = 'Service internal error: Waiting for consensus operation commit failed. Timeout set at: 10 seconds';

/** Fast retries, so the test takes milliseconds: 5 tries, 5 ms doubling. */
const QUICK: RetryPolicy = { attempts: 5, baseDelayMs: 5, maxDelayMs: 40, maxRetryAfterMs: 1_000 };

let fake: FakeQdrantServer;
let log: CapturedLog;
let store: QdrantStore;

beforeEach(async () => {
  fake = await FakeQdrantServer.start({ peers: 3 });
  log = captureLog('warn');
  store = await openQdrantStore({
    url: fake.url,
    modelId: 'model-a',
    dimension: 4,
    onDisk: false,
    quantization: false,
    replicas: 2,
    logger: log.logger,
    retry: QUICK,
    startupRetry: QUICK,
  });
});

afterEach(async () => {
  await store.close();
  await fake.stop();
});

function point(n: number): PointInput {
  return {
    id: uuid(n),
    vector: Float32Array.from([1, n, 0, 0]),
    payload: {
      tenant: 'T1',
      source: 'local',
      filename: `${n}.png`,
      contentHash: String(n).padStart(64, '0'),
      modelId: 'model-a',
      createdAt: '2026-05-01T00:00:00.000Z',
      width: 4,
      height: 4,
      shares: [],
    },
  };
}

const isQuery = (t: { method: string; path: string }) => t.path.endsWith('/points/query');
const isUpsert = (t: { method: string; path: string }) => t.method === 'PUT' && t.path.endsWith('/points');

/** The reasons of the retries logged so far. */
function retryReasons(): string[] {
  return log.lines.filter((l) => typeof l.reason === 'string' && l.attempt !== undefined).map((l) => String(l.reason));
}

describe('reads while a node restarts', () => {
  it('retries a search through a 503 from the node and a 500 naming a replica that is away', async () => {
    await store.upsert([point(1)]);
    fake.faults.inject({ kind: 'respond', status: 503, body: 'no healthy upstream', contentType: 'text/plain' }, { match: isQuery });
    fake.faults.inject({ kind: 'status', status: 500, message: READ_FAILED }, { match: isQuery });
    const hits = await store.query(Float32Array.from([1, 1, 0, 0]), { filter: { tenant: 'T1' }, limit: 5 });
    expect(hits.map((h) => h.id)).toEqual([uuid(1)]);
    expect(fake.faults.pending).toBe(0);
    expect(retryReasons()).toEqual(['HTTP 503: no healthy upstream', `HTTP 500: ${READ_FAILED}`]);
  });

  it('retries a read whose connection is reset by a node going down', async () => {
    await store.upsert([point(1)]);
    fake.faults.inject({ kind: 'drop' }, { match: isQuery });
    const hits = await store.query(Float32Array.from([1, 1, 0, 0]), { filter: { tenant: 'T1' }, limit: 5 });
    expect(hits).toHaveLength(1);
    expect(retryReasons()).toEqual(['connection closed by the server']);
  });

  it('retries a read that gets no answer in time from a node that hangs while it restarts', async () => {
    await store.close();
    store = await openQdrantStore({
      url: fake.url,
      modelId: 'model-a',
      dimension: 4,
      onDisk: false,
      quantization: false,
      logger: log.logger,
      retry: QUICK,
      startupRetry: QUICK,
      // Short enough that the held answer below is given up on; the retry is answered at once.
      timeoutMs: 200,
    });
    await store.upsert([point(1)]);
    const hung = hold();
    fake.faults.inject(hung.fault, { match: isQuery });
    try {
      const hits = await store.query(Float32Array.from([1, 1, 0, 0]), { filter: { tenant: 'T1' }, limit: 5 });
      expect(hits).toHaveLength(1);
      expect(retryReasons()).toEqual(['no answer in time']);
    } finally {
      hung.release();
    }
  });
});

describe('writes by id while a node restarts', () => {
  it('re-sends an upsert the cluster failed after some replicas applied it, and stores each point once', async () => {
    fake.faults.inject({ kind: 'status', status: 500, message: NOT_ENOUGH_REPLICAS, afterApplying: true }, { match: isUpsert });
    fake.faults.inject({ kind: 'status', status: 503, message: 'Service unavailable: node is restarting' }, { match: isUpsert });
    await store.upsert([point(1), point(2)]);
    expect(fake.requests.filter(isUpsert)).toHaveLength(3);
    expect(await store.count({ tenant: 'T1' })).toBe(2);
    expect(retryReasons()).toEqual([`HTTP 500: ${NOT_ENOUGH_REPLICAS}`, 'HTTP 503: Service unavailable: node is restarting']);
  });

  it('retries a label write through the same failures', async () => {
    const labels = await openQdrantLabelStore({ url: fake.url, logger: log.logger, retry: QUICK });
    try {
      fake.faults.inject({ kind: 'status', status: 500, message: NOT_ENOUGH_REPLICAS, afterApplying: true }, { match: isUpsert });
      fake.faults.inject({ kind: 'drop' }, { match: isUpsert });
      const label = { tenant: 'T1', queryId: 'q1', queryText: 'a cat', imageId: uuid(1), user: 'U1', value: 1 as const, createdAt: new Date('2026-05-01T00:00:00.000Z') };
      await labels.addLabel(label);
      expect(await labels.listLabels({ tenant: 'T1', queryId: 'q1' })).toEqual([label]);
      expect(fake.faults.pending).toBe(0);
    } finally {
      await labels.close();
    }
  });
});

describe('creating a collection while the cluster is busy', () => {
  it('retries a consensus that came too late, and finds the collection made by the first try', async () => {
    const dir = captureLog('info');
    fake.faults.inject(
      { kind: 'status', status: 500, message: CONSENSUS_LATE, afterApplying: true },
      { match: (t) => t.method === 'PUT' && t.path === '/collections/fresh_model-b' },
    );
    const fresh = await openQdrantStore({
      url: fake.url,
      modelId: 'model-b',
      dimension: 4,
      onDisk: false,
      quantization: false,
      collectionPrefix: 'fresh',
      logger: dir.logger,
      retry: QUICK,
      startupRetry: QUICK,
    });
    try {
      expect(fresh.collection).toBe('fresh_model-b');
      expect(dir.withMsg('collection created meanwhile by another process; checking it')).toHaveLength(1);
      await fresh.upsert([point(1)]);
      expect(await fresh.count({ tenant: 'T1' })).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});
