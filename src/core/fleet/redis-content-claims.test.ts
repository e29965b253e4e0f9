// RedisContentClaims against a real redis-server: one holder per image across processes, a lease
// that dies with its holder (kill -9), renewal while the holder lives, release that never deletes
// a successor's claim, and a clear transient error while Redis is unreachable.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { FindimageError, isTransient } from '../errors.js';
import { ImageIndexer } from '../indexing/image-indexer.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { RedisContentClaims, claimKey } from './redis-content-claims.js';

const logger = createSilentLogger();
/** Short, so that a dead holder's claim expires within the test; renewals come every 100 ms. */
const LEASE_MS = 300;
const MODEL = 'test-model';

describe('RedisContentClaims', () => {
  let server: TestRedisServer;
  /** The test's own look at Redis (what the holders wrote). */
  let inspector: Redis;
  const opened: Array<{ redis: Redis; claims: RedisContentClaims[] }> = [];
  /** Connections a test waits for before using them (a quick one fails commands until connected). */
  const readyOnes: Redis[] = [];

  /** A holder on its own connection, as a process of the fleet has. */
  const holder = (options: { leaseMs?: number } = {}) => {
    const redis = openRedis({ url: server.url, role: 'quick', logger });
    readyOnes.push(redis);
    const claims = new RedisContentClaims({ redis, modelId: MODEL, leaseMs: options.leaseMs ?? LEASE_MS, logger, pollMs: 5 });
    opened.push({ redis, claims: [claims] });
    return claims;
  };

  const connectionOf = (claims: RedisContentClaims): Redis => {
    const found = opened.find((entry) => entry.claims.includes(claims));
    if (found === undefined) throw new Error('not a holder of this test');
    return found.redis;
  };

  beforeAll(async () => {
    server = await TestRedisServer.start();
    inspector = openRedis({ url: server.url, role: 'quick', logger });
    await waitUntil(() => inspector.status === 'ready', 'the test’s connection');
  });
  beforeEach(() => {
    readyOnes.length = 0;
  });
  /** Resolves once every holder made so far is connected. */
  const connected = () => waitUntil(() => readyOnes.every((redis) => redis.status === 'ready'), 'the holders to connect');

  afterEach(async () => {
    for (const { redis, claims } of opened.splice(0)) {
      for (const c of claims) c.close();
      await closeRedis(redis);
    }
    await inspector.flushall();
  });
  afterAll(async () => {
    await closeRedis(inspector);
    await server.remove();
  });

  it('makes a second holder of the same image wait until the first releases it', async () => {
    const a = holder();
    const b = holder();
    await connected();
    const first = await a.claim('img-1');
    let bHasIt = false;
    const second = b.claim('img-1').then((claim) => {
      bHasIt = true;
      return claim;
    });
    await waitUntil(() => b.claimsContended === 1, 'B to find the image claimed');
    expect(bHasIt).toBe(false);
    // The key names its holder: host, pid and a UUID per holder.
    expect(await inspector.get(claimKey(MODEL, 'img-1'))).toMatch(new RegExp(`:${process.pid}:[0-9a-f-]{36}$`));

    first.release();
    (await second).release();
    expect(bHasIt).toBe(true);
    expect([a.claimsTaken, b.claimsTaken]).toEqual([1, 1]);
    // Released by B too: nothing is left behind.
    await waitUntil(async () => (await inspector.exists(claimKey(MODEL, 'img-1'))) === 0, 'the claim to be deleted');
  });

  it('lets two holders claim different images at once', async () => {
    const a = holder();
    const b = holder();
    await connected();
    const [x, y] = await Promise.all([a.claim('img-x'), b.claim('img-y')]);
    expect([a.claimsContended, b.claimsContended]).toEqual([0, 0]);
    x.release();
    y.release();
  });

  it('keeps a live holder’s claim past its lease by renewing it', async () => {
    const a = holder();
    await connected();
    const claim = await a.claim('img-2');
    const mine = await inspector.get(claimKey(MODEL, 'img-2'));
    // Each renewal sets the time to live back up; six of them span two whole leases.
    let renewals = 0;
    let lastTtl = await inspector.pttl(claimKey(MODEL, 'img-2'));
    await waitUntil(async () => {
      const ttl = await inspector.pttl(claimKey(MODEL, 'img-2'));
      if (ttl > lastTtl) renewals++;
      lastTtl = ttl;
      return renewals >= 6 || ttl < 0;
    }, 'six renewals');
    expect(await inspector.get(claimKey(MODEL, 'img-2'))).toBe(mine);
    claim.release();
  });

  it('takes over the claim of a holder killed with -9 once its lease has run out', async () => {
    // A real process claims an image and is killed: no release, no renewal, nothing said.
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx', '--input-type=module', '-e',
        `import { openRedis } from ${JSON.stringify(new URL('./redis-connection.ts', import.meta.url).pathname)};
         import { RedisContentClaims } from ${JSON.stringify(new URL('./redis-content-claims.ts', import.meta.url).pathname)};
         import { pino } from 'pino';
         const logger = pino({ level: 'silent' });
         const redis = openRedis({ url: ${JSON.stringify(server.url)}, role: 'quick', logger });
         await new Promise((resolve) => redis.once('ready', resolve));
         const claims = new RedisContentClaims({ redis, modelId: ${JSON.stringify(MODEL)}, leaseMs: ${LEASE_MS}, logger });
         await claims.claim('img-3');
         process.stdout.write('claimed\\n');
         setInterval(() => undefined, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('claimed') && resolve());
        child.once('exit', (code) => reject(new Error(`the holder exited with ${code} before claiming`)));
      });
      const theirs = await inspector.get(claimKey(MODEL, 'img-3'));
      expect(theirs).toContain(`:${child.pid}:`);
      child.kill('SIGKILL');
      await once(child, 'exit');

      const b = holder();
      await connected();
      const claim = await b.claim('img-3');
      expect(b.claimsContended).toBe(1);
      expect(await inspector.get(claimKey(MODEL, 'img-3'))).not.toBe(theirs);
      claim.release();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('never deletes the claim of whoever took over an expired one when the late holder releases', async () => {
    // A long lease: A's claim expires only because the test ends it, as if A paused past it.
    const a = holder({ leaseMs: 60_000 });
    const b = holder({ leaseMs: 60_000 });
    await connected();
    const late = await a.claim('img-4');
    await inspector.del(claimKey(MODEL, 'img-4'));
    const current = await b.claim('img-4');
    const bValue = await inspector.get(claimKey(MODEL, 'img-4'));

    late.release();
    // The release is not awaited by its caller; A's connection answers in order, so once a
    // PING sent after it is answered, the release has been carried out.
    await connectionOf(a).ping();
    expect(await inspector.get(claimKey(MODEL, 'img-4'))).toBe(bValue);
    current.release();
    await waitUntil(async () => (await inspector.exists(claimKey(MODEL, 'img-4'))) === 0, 'B’s release');
  });

  it('fails a claim at once with a transient store_unavailable error while Redis is unreachable', async () => {
    const port = await closedPort();
    const redis = openRedis({ url: `redis://127.0.0.1:${port}`, role: 'quick', logger });
    const claims = new RedisContentClaims({ redis, modelId: MODEL, leaseMs: LEASE_MS, logger });
    opened.push({ redis, claims: [claims] });
    const error = await claims.claim('img-5').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(FindimageError);
    expect((error as FindimageError).code).toBe('store_unavailable');
    expect(isTransient(error as FindimageError)).toBe(true);
    expect((error as FindimageError).message).toContain('REDIS_URL');
  });

  it('lets ImageIndexer (which has no tryClaim to call) embed an image once when two indexers get it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'findimage-redis-claims-'));
    const store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    try {
      const embedders = [new KnownVectorEmbedder(4), new KnownVectorEmbedder(4)];
      const [a, b] = embedders.map((embedder) => new ImageIndexer({ embedder, store, prepare: prepareJsonImage, logger, claims: holder() }));
      await connected();
      const images = [jsonImage([1, 0, 0, 0]), jsonImage([0, 1, 0, 0]), jsonImage([0, 0, 1, 0])];
      const results = await Promise.all(
        [a, b].flatMap((indexer) => images.map((bytes, i) => indexer!.index({ bytes, filename: `${i}.png`, tenant: 'local', source: 'local' }))),
      );
      expect(results.filter((r) => r.status === 'indexed')).toHaveLength(3);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(3);
      expect(embedders[0]!.calls.image + embedders[1]!.calls.image).toBe(3);
      expect(await store.count()).toBe(3);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A port nothing listens on (taken from the OS, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
