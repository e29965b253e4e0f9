// The embedding pool's settings, limits and counters: what a caller configures and observes,
// apart from how the pool schedules work (embedding-pool.ts).
import type { Logger } from 'pino';
import type { Device } from '../config.js';
import type { Lane } from '../core/embedding/embedder.js';
import type { ProviderName, TextTowerSpec, Tower, VisionTowerSpec } from './messages.js';

/**
 * Tasks waiting per lane when the caller sets no maxQueue. A queued image holds its 602 KB
 * tensor (3 x 224 x 224 float32), so 256 of them bound the bulk lane near 150 MB, while at the
 * 8-image batches measured on 2 CPU cores (618 ms each) that is still 20 s of work buffered.
 */
export const DEFAULT_MAX_QUEUE = 256;

/**
 * Times one task may be sent to a worker. One retry, because a crash can be the machine's (the
 * OOM killer, a GPU reset) and the replacement may well succeed; a second crash on the same input
 * says the input kills the worker, and retrying again would only kill more workers.
 */
export const MAX_ATTEMPTS = 2;

/**
 * Batch size when none is configured. On a CPU, batching barely raises throughput (ViT-B/32:
 * 40 ms for one image, 28 ms per image in a batch of 8) while a long batch delays any search
 * that must share the cores: batch 2 kept p99 search latency under indexing at 2.5x idle
 * against 3.5x for batch 8, at the same end-to-end indexing rate (docs/benchmarks.md). A GPU
 * gains up to 15x from batching (FACTS.md: 343 images/s at batch 1, 5,291 at 32).
 */
export const DEFAULT_MAX_BATCH: Record<ProviderName, number> = { cpu: 2, cuda: 32 };

/**
 * Nice value of the threads that index beside reserved search workers. 10 gives a search's
 * threads about 9 times an indexing thread's share of a contended core (Linux's weights 1024
 * and 110), so a search barely notices the index, while the index still gets every core
 * nobody else wants. Measured in docs/benchmarks.md, "Latency under load (issue 11)".
 */
export const DEFAULT_BULK_NICENESS = 10;

/**
 * How long after a search bulk batches stay at maxBatch before growing to quietBulkBatch: long
 * enough to cover the pause between a person's searches while they refine a query.
 */
export const DEFAULT_QUIET_MS = 5_000;

export interface EmbeddingPoolOptions {
  /** The text tower's .onnx file. */
  textModelPath: string;
  /** The vision tower's .onnx file. */
  visionModelPath: string;
  /** The text graph's input, output and context length. */
  text: TextTowerSpec;
  /** The vision graph's input, output and image size. */
  vision: VisionTowerSpec;
  /** Floats per output vector. */
  dimension: number;
  /** auto (CUDA when it loads, else CPU), cpu, or cuda with a device id (no fallback). */
  device: Device;
  /** Worker threads, each with its own sessions. */
  workers: number;
  /**
   * The towers each general worker loads at start; default both, as `serve` wants them warm. A
   * one-shot command names the one it uses (search: text; similar and index: vision), and a
   * tower left out loads on first use instead of failing.
   */
  towers?: readonly Tower[];
  /** Folder where workers keep fast-loading copies of the graphs (see WorkerSetup.graphCacheDir). */
  graphCacheDir?: string;
  /** Whether sessions pack their weights at load (default true; see WorkerSetup.prepackWeights). */
  prepackWeights?: boolean;
  /**
   * Extra workers reserved for searches: they load only the text tower and take only
   * interactive text work, so a query runs while the general workers are busy with a bulk
   * batch instead of waiting for it (measured in docs/benchmarks.md). Default 0.
   */
  searchWorkers?: number;
  /**
   * Nice value (0 to 19) for the threads that index while reserved search workers answer
   * searches: the general workers' inference threads and libuv's thread pool, where images are
   * decoded. Searches then keep their share of the cores while an index runs (Linux; measured
   * in docs/benchmarks.md). 0 changes nothing; default DEFAULT_BULK_NICENESS.
   */
  bulkNiceness?: number;
  /** Most inputs in one inference call; default by provider (DEFAULT_MAX_BATCH). */
  maxBatch?: number;
  /**
   * Most images in a bulk batch while no search is waiting and none ran for quietMs (larger
   * batches embed faster, but a search that arrives meanwhile shares the cores with the whole
   * batch). Default: maxBatch, so bulk batches never grow.
   */
  quietBulkBatch?: number;
  /** How long after the last search bulk batches keep to maxBatch, ms; default DEFAULT_QUIET_MS. */
  quietMs?: number;
  /** How long a partial batch waits for more inputs, in ms. */
  batchWaitMs: number;
  /** Tasks waiting per lane before submissions are refused with queue_full; default DEFAULT_MAX_QUEUE. */
  maxQueue?: number;
  /** Parent logger; the pool logs through a child. */
  logger: Logger;
  /**
   * Told once the worker threads exist (they load the model from then on, before startup
   * resolves): work the caller then does on its own thread overlaps the model's load instead of
   * holding back the threads' start. Not told when startup fails before that.
   */
  onWorkersStarted?: () => void;
  /** Worker entry to start instead of embedding-worker (tests only). */
  workerUrl?: URL;
}

/** Counters for tests, benchmarks and the status command. */
export interface EmbeddingPoolStats {
  /** The execution provider the workers run on. */
  provider: ProviderName;
  /** Workers loaded and able to take work. */
  workers: number;
  /** How many of those workers hold each tower's session (loaded at start or on first use). */
  towersLoaded: Record<Tower, number>;
  /** Batches that ran to an answer. */
  batches: number;
  /** How many batches ran at each size: batchSizes[8] = 3 means three batches of eight. */
  batchSizes: Record<number, number>;
  /** Inputs embedded (rows answered by a worker). */
  embedded: number;
  /** Tasks waiting, per lane. */
  queued: Record<Lane, number>;
  /** Tasks inside a worker right now. */
  inFlight: number;
  /** Workers that died after starting. */
  crashes: number;
  /** Inputs sent to a worker again, alone, because the worker running them crashed. */
  retried: number;
}
