// Measures what the Qdrant adapter costs on top of the bare REST client, against the fake
// Qdrant server in this process: points/s upserted by batch size and queries/s, each beside the
// same calls made with @qdrant/js-client-rest directly. Both sides pay the same HTTP and fake
// costs, so the difference is the adapter (validation, payload mapping, parsing, tie handling).
//   node --import tsx bench/qdrant-adapter.ts [points=4096] [queries=200]
import { randomUUID } from 'node:crypto';
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { createSilentLogger } from '../src/logger.js';
import { openQdrantStore, type QdrantStore } from '../src/core/store/qdrant/qdrant-store.js';
import { toQdrantPoint } from '../src/core/store/qdrant/qdrant-point.js';
import type { PointInput } from '../src/core/store/vector-store.js';
import { FakeQdrantServer } from '../test/fakes/qdrant/fake-qdrant-server.js';

const DIMENSION = 512;
const BATCH_SIZES = [16, 64, 256, 1024];
const POINTS = Number(process.argv[2] ?? 4096);
const QUERIES = Number(process.argv[3] ?? 200);
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

await main();
