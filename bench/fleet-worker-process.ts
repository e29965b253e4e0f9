// One process of the fleet bench (bench/fleet-bench.ts starts it): a fleet worker as
// `findimage worker` composes it (openFindimage with the vision tower, Redis content claims,
// the worker registry's heartbeats, the share marks, FleetWorker: startIndexWork), but writing into the embedded SQLite store;
// or a worker whose indexer returns at once, so that only the queue is timed; or the no-queue
// baseline, `findimage index <folder>` into the embedded store in this process. It reads its
// orders from FLEET_BENCH_CHILD (JSON) and talks to the parent over IPC.
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { runIndex } from '../src/cli/commands/index-command.js';
import type { Terminal } from '../src/cli/terminal.js';
import { loadConfig, type Config } from '../src/config.js';
import { FleetWorker } from '../src/core/fleet/fleet-worker.js';
import { closeRedis, openRedis } from '../src/core/fleet/redis-connection.js';
import { ShareMarks } from '../src/core/fleet/share-marks.js';
import { WorkerRegistry } from '../src/core/fleet/worker-registry.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import type { ImageIndexing, ImageToIndex, IndexResult } from '../src/core/indexing/image-indexer.js';
import { pointIdFor, contentHashOf } from '../src/core/indexing/point-id.js';
import { openFindimage, type Findimage } from '../src/findimage.js';
import { threadsPerWorker } from '../src/gpu-worker/execution-providers.js';
import { createLogger } from '../src/logger.js';
import { startIndexWork } from '../src/serve/index-work.js';
import { chooseBenchModel } from './bench-model.js';
import type { BenchModel } from './bench-options.js';

/** What the parent asks of this process. */
export interface ChildOrders {
  /** model: a real worker; noop: a worker whose indexer does nothing; direct: `findimage index` here, no queue. */
  mode: 'model' | 'noop' | 'direct';
  /** The repository (the bench model's folder is under it). */
  root: string;
  model: BenchModel;
  /** FINDIMAGE_DATA: the embedded store's folder (shared by the workers of one round). */
  dataDir: string;
  cacheDir: string;
  /** REDIS_URL (model and noop). */
  redisUrl?: string;
  /** The queue's model id (noop: the parent's; model: the bench model's). */
  modelId?: string;
  /** Jobs at once (findimage worker --concurrency). */
  concurrency?: number;
  /** The folder to index (direct). */
  folder?: string;
}

/** Messages to the parent. */
export type ChildMessage =
  | { type: 'ready'; pid: number; intraOpThreads: number }
  | { type: 'indexed'; images: number; ms: number }
  | { type: 'stopped'; jobs: number };

/** Messages from the parent. */
export type ParentMessage = { type: 'stop' };

/** FINDIMAGE_FLEET_LEASE_MS's default: leases renew every 10 s, heartbeats too. */
const LEASE_MS = 30_000;

const SILENT_TERMINAL: Terminal = {
  out: () => {},
  err: () => {},
  progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
};

function send(message: ChildMessage): void {
  process.send?.(message);
}

function stopRequested(): Promise<void> {
  return new Promise((resolve) => process.on('message', (message: ParentMessage) => message.type === 'stop' && resolve()));
}

async function openBenchFindimage(orders: ChildOrders, fleet: Config['fleet']): Promise<{ findimage: Findimage; config: Config }> {
  const choice = chooseBenchModel(orders.model, orders.root, () => {});
  const config: Config = {
    ...loadConfig({ ...choice.env, FINDIMAGE_DATA: orders.dataDir, FINDIMAGE_CACHE: orders.cacheDir, FINDIMAGE_DEVICE: 'cpu', LOG_LEVEL: 'warn' }),
    // Fleet mode without QDRANT_URL, which loadConfig refuses: the bench's workers write into the
    // embedded store, as the issue asks ("against the embedded store on this machine").
    ...(fleet === undefined ? {} : { fleet }),
  };
  const logger = createLogger({ level: 'warn', pretty: false });
  // The towers `findimage worker` and `findimage index` load (INDEXING in command-context.ts).
  const findimage = await openFindimage({ config, logger, model: choice.spec, towers: ['vision'], prepackWeights: true });
  // One untimed image: ONNX Runtime's first runs allocate its arenas.
  const size = findimage.model.vision.imageSize;
  await findimage.embedder.embedImage({ pixels: new Float32Array(3 * size * size), width: size, height: size, format: 'raw' });
  return { findimage, config };
}

/** Indexes nothing and answers at once: what is left of a job's time is the queue's. */
const NOOP_INDEXER: ImageIndexing = {
  batching: { size: 1, inFlight: 1, lingerMs: 0 },
  async index(image: ImageToIndex): Promise<IndexResult> {
    const contentHash = contentHashOf(image.bytes);
    const payload = { tenant: image.tenant, source: image.source, filename: image.filename, contentHash, modelId: 'noop', createdAt: new Date(0).toISOString(), width: 0, height: 0, shares: [] };
    return { status: 'indexed', id: pointIdFor(image.tenant, contentHash), payload };
  },
};

async function runModelWorker(orders: ChildOrders): Promise<void> {
  const fleet = { redisUrl: orders.redisUrl as string, leaseMs: LEASE_MS, replicaJobs: 0 };
  const { findimage, config } = await openBenchFindimage(orders, fleet);
  const stop = stopRequested();
  let jobs = 0;
  try {
    const work = await startIndexWork({
      config: { ...config, fleet },
      findimage,
      concurrency: orders.concurrency ?? 8,
      logger: createLogger({ level: 'warn', pretty: false }),
      role: 'worker',
      onJobEnd: () => jobs++,
    });
    send({ type: 'ready', pid: process.pid, intraOpThreads: threadsPerWorker(availableParallelism(), config.workers) });
    await stop;
    await work.close();
  } finally {
    await findimage.close();
  }
  send({ type: 'stopped', jobs });
}

async function runNoopWorker(orders: ChildOrders): Promise<void> {
  const logger = createLogger({ level: 'warn', pretty: false });
  const redisUrl = orders.redisUrl as string;
  // As startIndexWork composes a worker: heartbeats on a quick connection, the BullMQ worker.
  const redis = openRedis({ url: redisUrl, role: 'quick', logger, name: 'findimage-worker' });
  const registry = new WorkerRegistry({ redis, leaseMs: LEASE_MS, logger });
  registry.join({ host: hostname(), pid: process.pid, device: 'none', role: 'worker' });
  // The share marks every job is checked against (deletions and privacy changes), with the store
  // a mark would be applied to (none is set here, so it is never written).
  const marksRedis = openRedis({ url: redisUrl, role: 'quick', logger, name: 'findimage-worker-marks' });
  const store = await openSqliteVectorStore({ path: join(orders.dataDir, 'noop-store.sqlite'), dimension: 512, logger });
  let jobs = 0;
  const worker = new FleetWorker({
    redisUrl,
    modelId: orders.modelId as string,
    indexer: NOOP_INDEXER,
    marks: new ShareMarks({ redis: marksRedis }),
    store,
    concurrency: orders.concurrency ?? 8,
    leaseMs: LEASE_MS,
    logger,
    onJobEnd: (end) => {
      jobs++;
      registry.jobEnded(end.outcome === 'failed' ? 'failed' : 'ok');
    },
  });
  const stop = stopRequested();
  worker.start();
  await worker.ready();
  send({ type: 'ready', pid: process.pid, intraOpThreads: 0 });
  await stop;
  await worker.close();
  await registry.stop();
  await closeRedis(redis);
  await closeRedis(marksRedis);
  await store.close();
  send({ type: 'stopped', jobs });
}

async function runDirect(orders: ChildOrders): Promise<void> {
  const { findimage, config } = await openBenchFindimage(orders, undefined);
  try {
    const stop = stopRequested();
    send({ type: 'ready', pid: process.pid, intraOpThreads: threadsPerWorker(availableParallelism(), config.workers) });
    const started = performance.now();
    const summary = await runIndex(findimage, orders.folder as string, SILENT_TERMINAL);
    send({ type: 'indexed', images: summary.indexed, ms: performance.now() - started });
    await stop;
  } finally {
    await findimage.close();
  }
  send({ type: 'stopped', jobs: 0 });
}

const orders = JSON.parse(process.env.FLEET_BENCH_CHILD ?? '{}') as ChildOrders;
// The parent gone (it failed, or was stopped): nobody will ask this process to stop.
process.once('disconnect', () => process.exit(1));
const run = orders.mode === 'model' ? runModelWorker : orders.mode === 'noop' ? runNoopWorker : runDirect;
try {
  await run(orders);
  process.removeAllListeners('disconnect');
  process.disconnect?.();
} catch (error) {
  process.stderr.write(`fleet bench child (${orders.mode}) failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
