// Measures what the Qdrant adapter costs on top of the bare REST client, against the fake
// Qdrant server in this process: points/s upserted by batch size and queries/s, each beside the
// same calls made with @qdrant/js-client-rest directly. Both sides pay the same HTTP and fake
// costs, so the difference is the adapter (validation, payload mapping, parsing, tie handling).
// Then indexing in bulk (issue 11): uploads through the durable queue and ImageIndexer, as the
// bots index, into Qdrant (the fake with 20 ms added per request) and into the embedded store,
// unbatched (batch size 1: one lookup and one upsert per image) and batched, in one run.
//   node --import tsx bench/qdrant-adapter.ts [points=4096] [queries=200]
//   node --import tsx bench/qdrant-adapter.ts --indexing [images=1000] [latencyMs=20]
import { randomUUID } from 'node:crypto';
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { createSilentLogger } from '../src/logger.js';
import { openQdrantStore, UPSERT_BATCH_SIZE, type QdrantStore } from '../src/core/store/qdrant/qdrant-store.js';
import { toQdrantPoint } from '../src/core/store/qdrant/qdrant-point.js';
import type { PointInput, VectorStore } from '../src/core/store/vector-store.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteContentClaims } from '../src/core/indexing/content-claims.js';
import { ImageIndexer } from '../src/core/indexing/image-indexer.js';
import { DEFAULT_INDEX_BATCH_SIZE, DEFAULT_INDEX_BATCHES_IN_FLIGHT, type IndexBatching } from '../src/core/indexing/index-batching.js';
import { UploadQueue } from '../src/core/indexing/upload-queue.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import { prepareJsonImage } from '../src/core/testing/json-images.js';
import { KnownVectorEmbedder } from '../src/core/testing/known-vector-embedder.js';
import { FakeQdrantServer } from '../test/fakes/qdrant/fake-qdrant-server.js';

const DIMENSION = 512;
const BATCH_SIZES = [16, 64, 256, 1024];
const INDEXING_ONLY = process.argv[2] === '--indexing';
const POINTS = INDEXING_ONLY ? 0 : Number(process.argv[2] ?? 4096);
const QUERIES = INDEXING_ONLY ? 0 : Number(process.argv[3] ?? 200);
const IMAGES = INDEXING_ONLY ? Number(process.argv[3] ?? 1000) : 1000;
const LATENCY_MS = INDEXING_ONLY ? Number(process.argv[4] ?? 20) : 20;
const logger = createSilentLogger();

/** Deterministic pseudo-random numbers (mulberry32), so runs compare. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVector(next: () => number): Float32Array {
  const v = new Float32Array(DIMENSION);
  let sum = 0;
  for (let i = 0; i < DIMENSION; i++) {
    v[i] = next() - 0.5;
    sum += (v[i] as number) ** 2;
  }
  const norm = Math.sqrt(sum);
  for (let i = 0; i < DIMENSION; i++) v[i] = (v[i] as number) / norm;
  return v;
}

function makePoints(count: number): PointInput[] {
  const next = random(42);
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    vector: unitVector(next),
    payload: {
      tenant: `T${i % 4}`,
      source: 'slack',
      filename: `IMG_${1000 + i}.jpg`,
      contentHash: i.toString(16).padStart(64, '0'),
      modelId: 'clip-vit-b32',
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      width: 4032,
      height: 3024,
      shares: [
        {
          conversation: `C${i % 16}`,
          isPublic: i % 2 === 0,
          sharedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
          uploader: `U${i % 32}`,
          messageId: `1700000000.${String(i).padStart(6, '0')}`,
          fileId: `F${i}`,
          permalink: `https://example.slack.com/files/U1/F${i}`,
        },
      ],
    },
  }));
}

async function time(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

let collections = 0;
/** Where the bench writes: a real server when QDRANT_URL is set, else the fake in this process. */
interface Target {
  url: string;
  apiKey?: string;
  stop(): Promise<void>;
}

async function target(): Promise<Target> {
  const url = process.env.QDRANT_URL;
  if (url !== undefined && url !== '') {
    // A real server keeps the bench's collections (named bench1_..., bench2_...): delete them after.
    return { url, apiKey: process.env.QDRANT_API_KEY, stop: async () => {} };
  }
  const fake = await FakeQdrantServer.start({ recordRequests: false });
  return { url: fake.url, stop: () => fake.stop() };
}

async function store(fake: Target, batch: number): Promise<QdrantStore> {
  collections += 1;
  return openQdrantStore({
    url: fake.url,
    ...(fake.apiKey === undefined ? {} : { apiKey: fake.apiKey }),
    modelId: 'clip-vit-b32',
    dimension: DIMENSION,
    onDisk: false,
    quantization: false,
    logger,
    collectionPrefix: `bench${collections}`,
    upsertBatchSize: batch,
  });
}

async function main(): Promise<void> {
  const fake = await target();
  const client = new QdrantClient({ url: fake.url, checkCompatibility: false, ...(fake.apiKey === undefined ? {} : { apiKey: fake.apiKey }) });
  const points = makePoints(POINTS);
  const bodyBytes = Buffer.byteLength(JSON.stringify(toQdrantPoint(points[0] as PointInput)));
  console.log(`Qdrant adapter bench against ${process.env.QDRANT_URL ? fake.url : 'the fake server'}: ${POINTS} points of ${DIMENSION} floats (${(bodyBytes / 1024).toFixed(1)} KB of JSON each), Node ${process.version}`);
  console.log('');
  console.log('| batch | adapter points/s | bare client points/s | adapter overhead |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const batch of BATCH_SIZES) {
    const s = await store(fake, batch);
    await s.upsert(points.slice(0, batch)); // warm up the connection and the JIT
    const adapter = await time(() => s.upsert(points));
    const raw = await store(fake, batch);
    const rawName = raw.collection;
    // The bare side converts vectors and copies payloads too, as any caller of the client must.
    const body = (from: number): Schemas['PointStruct'][] =>
      points.slice(from, from + batch).map((p) => ({ id: p.id, vector: Array.from(p.vector), payload: { ...p.payload } }));
    await client.upsert(rawName, { wait: true, points: body(0) });
    const bare = await time(async () => {
      for (let i = 0; i < points.length; i += batch) await client.upsert(rawName, { wait: true, points: body(i) });
    });
    const overhead = ((adapter - bare) / bare) * 100;
    console.log(`| ${batch} | ${Math.round(POINTS / adapter)} | ${Math.round(POINTS / bare)} | ${overhead >= 0 ? '+' : ''}${overhead.toFixed(0)}% |`);
    await s.close();
    await raw.close();
  }

  const s = await store(fake, 256);
  await s.upsert(points);
  const next = random(7);
  const queries = Array.from({ length: QUERIES }, () => unitVector(next));
  const filter = { tenant: 'T1', scope: { conversations: ['C1', 'C5'], includePublic: true } };
  await s.query(queries[0] as Float32Array, { filter, limit: 10 });
  const adapter = await time(async () => {
    for (const q of queries) await s.query(q, { filter, limit: 10 });
  });
  const qdrantFilter: Schemas['Filter'] = {
    must: [
      { key: 'tenant', match: { value: 'T1' } },
      {
        nested: {
          key: 'shares',
          filter: {
            must: [{ should: [{ key: 'conversation', match: { any: ['C1', 'C5'] } }, { key: 'is_public', match: { value: true } }] }],
          },
        },
      },
    ],
  };
  const bare = await time(async () => {
    for (const q of queries) {
      await client.query(s.collection, { query: Array.from(q), filter: qdrantFilter, limit: 11, with_payload: true });
    }
  });
  console.log('');
  console.log(`| queries (top 10 of ${POINTS}, tenant + channels-or-public filter) | adapter queries/s | bare client queries/s | adapter overhead |`);
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| ${QUERIES} sequential | ${Math.round(QUERIES / adapter)} | ${Math.round(QUERIES / bare)} | ${(((adapter - bare) / bare) * 100).toFixed(0)}% |`);
  await s.close();
  await fake.stop();
}

/** One indexing run: the store, how many requests it took and how long. */
interface IndexingRun {
  images: number;
  seconds: number;
  requests: number;
}

/**
 * Indexes `images` uploads through UploadQueue and ImageIndexer (claims on, as in the product)
 * into `store`, with a stand-in model (the image's bytes are its vector), so that only the
 * store path is timed. Counts the requests with `requestsNow` (the fake's count, or the
 * indexer's store calls for the embedded store).
 */
async function indexThrough(
  store: VectorStore,
  batching: IndexBatching,
  images: readonly Buffer[],
  requestsNow: (indexer: ImageIndexer) => number,
): Promise<IndexingRun> {
  const dir = await mkdtemp(join(tmpdir(), 'findimage-bench-indexing-'));
  const claims = new SqliteContentClaims({ path: join(dir, 'claims.sqlite') });
  const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(DIMENSION), store, prepare: prepareJsonImage, claims, logger, batching });
  const queue = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer, logger });
  let done = 0;
  let failed = 0;
  const finished = new Promise<void>((resolve) => {
    queue.onOutcome((outcome) => {
      if (outcome.status === 'rejected') failed++;
      if (++done === images.length) resolve();
    });
  });
  const before = requestsNow(indexer);
  // A backlog, as after an outage or in a backfill: the queue starts on it once this loop ends.
  images.forEach((bytes, i) => {
    queue.enqueue({ bytes, filename: `IMG_${i}.jpg`, tenant: 'T1', source: 'slack', share: { conversation: `C${i % 16}`, isPublic: true, sharedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString() } });
  });
  const start = process.hrtime.bigint();
  await finished;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const requests = requestsNow(indexer) - before;
  await queue.stop();
  claims.close();
  await rm(dir, { recursive: true, force: true });
  if (failed > 0) throw new Error(`${failed} uploads were rejected: the bench measures nothing`);
  if ((await store.count({ tenant: 'T1' })) !== images.length) throw new Error('the store does not hold every image');
  return { images: images.length, seconds, requests };
}

async function indexingBench(): Promise<void> {
  const next = random(11);
  const images = Array.from({ length: IMAGES }, () => Buffer.from(JSON.stringify(Array.from(unitVector(next)))));
  const fake = await FakeQdrantServer.start({ recordRequests: false, latencyMs: LATENCY_MS });
  // Before batching: one lookup and one upsert per image, four uploads at a time (the old queue).
  const unbatched: IndexBatching = { size: 1, inFlight: 4 };
  const batched: IndexBatching = { size: DEFAULT_INDEX_BATCH_SIZE, inFlight: DEFAULT_INDEX_BATCHES_IN_FLIGHT };
  const rows: Array<{ target: string; batching: IndexBatching; run: IndexingRun }> = [];
  for (const batching of [unbatched, batched]) {
    const qdrant = await store({ url: fake.url, stop: async () => {} }, UPSERT_BATCH_SIZE);
    rows.push({ target: `Qdrant (fake, +${LATENCY_MS} ms per request)`, batching, run: await indexThrough(qdrant, batching, images, () => fake.requestCount) });
    await qdrant.close();
    const dir = await mkdtemp(join(tmpdir(), 'findimage-bench-embedded-'));
    const embedded = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: DIMENSION, logger });
    const calls = (indexer: ImageIndexer) => indexer.requests.lookups + indexer.requests.writes;
    rows.push({ target: 'embedded store', batching, run: await indexThrough(embedded, batching, images, calls) });
    await embedded.close();
    await rm(dir, { recursive: true, force: true });
  }
  await fake.stop();
  console.log('');
  console.log(`Indexing ${IMAGES} uploads through the upload queue (stand-in model, ${DIMENSION}-d, claims on), same run:`);
  console.log('');
  console.log('| store | batch size, in flight | requests per image | images/s |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const { target, batching, run } of rows) {
    console.log(`| ${target} | ${batching.size}, ${batching.inFlight} | ${(run.requests / run.images).toFixed(3)} | ${Math.round(run.images / run.seconds)} |`);
  }
  const rate = (target: string, batching: IndexBatching) => {
    const row = rows.find((r) => r.target.startsWith(target) && r.batching === batching) as (typeof rows)[number];
    return row.run.images / row.run.seconds;
  };
  console.log('');
  console.log(`Qdrant batched / unbatched: ${(rate('Qdrant', batched) / rate('Qdrant', unbatched)).toFixed(2)}x images/s`);
  console.log(`Qdrant / embedded store: ${(rate('Qdrant', unbatched) / rate('embedded', unbatched)).toFixed(2)} unbatched, ${(rate('Qdrant', batched) / rate('embedded', batched)).toFixed(2)} batched`);
}

if (!INDEXING_ONLY) await main();
await indexingBench();
