// Measures the embedded store's exact search: fills SqliteVectorStores with 10k and 100k random
// unit 512-d vectors, reopens each from disk, and reports top-10 query times and memory.
// Run: node --import tsx bench/store-scan.ts [sizes, comma-separated]   (add --expose-gc for
// steadier RSS figures)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '../src/logger.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import type { PointInput } from '../src/core/store/vector-store.js';

const DIMENSION = 512;
/** Points per upsert while filling: one transaction each, as a bulk import would write. */
const FILL_BATCH = 1_000;
/** Queries timed per size, after a few untimed ones to warm the JIT. */
const QUERIES = 200;
const WARMUP = 10;
/** Channels the points are spread over, for the filtered query (one channel = 1/10 of points). */
const CHANNELS = 10;

function randomUnitVector(): Float32Array {
  const vector = new Float32Array(DIMENSION);
  let sum = 0;
  for (let i = 0; i < DIMENSION; i++) {
    // Sum of uniforms: close enough to Gaussian that directions are spread evenly.
    const x = Math.random() + Math.random() + Math.random() - 1.5;
    vector[i] = x;
    sum += x * x;
  }
  const norm = Math.sqrt(sum);
  for (let i = 0; i < DIMENSION; i++) vector[i] = (vector[i] as number) / norm;
  return vector;
}

function point(n: number): PointInput {
  const id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  return {
    id,
    vector: randomUnitVector(),
    payload: {
      tenant: 'bench',
      source: 'slack',
      filename: `${n}.jpg`,
      contentHash: n.toString(16).padStart(64, '0'),
      modelId: 'clip-vit-b32',
      createdAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
      width: 1024,
      height: 768,
      shares: [
        {
          conversation: `C${n % CHANNELS}`,
          isPublic: false,
          sharedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
          uploader: `U${n % 37}`,
          messageId: `${1_700_000_000 + n}.000100`,
          fileId: `F${n}`,
        },
      ],
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

function collectGarbage(): void {
  // Present only under --expose-gc; without it RSS includes garbage the GC has not yet freed.
  (globalThis as { gc?: () => void }).gc?.();
}

async function timeQueries(run: () => Promise<unknown>): Promise<{ median: number; p99: number }> {
  for (let i = 0; i < WARMUP; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), p99: percentile(times, 99) };
}

async function measure(size: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'findimage-bench-'));
  const path = join(dir, 'vectors.sqlite');
  const logger = createSilentLogger();
  try {
    const filling = await openSqliteVectorStore({ path, dimension: DIMENSION, logger });
    const fillStarted = performance.now();
    for (let n = 0; n < size; n += FILL_BATCH) {
      const batch: PointInput[] = [];
      for (let i = n; i < Math.min(size, n + FILL_BATCH); i++) batch.push(point(i));
      await filling.upsert(batch);
    }
    const fillMs = performance.now() - fillStarted;
    await filling.close();
    collectGarbage();

    const rssBefore = process.memoryUsage().rss;
    const openStarted = performance.now();
    const store = await openSqliteVectorStore({ path, dimension: DIMENSION, logger });
    const openMs = performance.now() - openStarted;
    collectGarbage();
    const rssOpen = process.memoryUsage().rss;

    const all = await timeQueries(() =>
      store.query(randomUnitVector(), { filter: { tenant: 'bench' }, limit: 10 }),
    );
    const oneChannel = await timeQueries(() =>
      store.query(randomUnitVector(), {
        filter: { tenant: 'bench', scope: { conversations: ['C3'], includePublic: false } },
        limit: 10,
      }),
    );
    const rssAfter = process.memoryUsage().rss;
    await store.close();

    console.log(
      [
        `${size.toLocaleString('en')} points x ${DIMENSION}-d:`,
        `  fill ${(fillMs / 1000).toFixed(1)} s (${FILL_BATCH}-point transactions), reopen ${Math.round(openMs)} ms`,
        `  top-10, whole tenant:  median ${all.median.toFixed(2)} ms, p99 ${all.p99.toFixed(2)} ms`,
        `  top-10, one channel:   median ${oneChannel.median.toFixed(2)} ms, p99 ${oneChannel.p99.toFixed(2)} ms`,
        `  RSS before open ${megabytes(rssBefore)}, after open ${megabytes(rssOpen)}, after queries ${megabytes(rssAfter)}`,
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
for (const size of sizes) await measure(size);
