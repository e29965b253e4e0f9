// The embedding worker pool: CLIP's two towers in worker threads, fed by two bounded priority
// lanes with dynamic batching, replacing crashed workers. Implements core's EmbeddingRuntime.
import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { EmbeddingRuntime, EmbedOptions, Lane } from '../core/embedding/embedder.js';
import { ConfigError, EmbeddingError, FindimageError, ModelError } from '../core/errors.js';
import { CapacityWaiters } from './capacity-waiters.js';
import { ANY_WORK, BatchCollector, LANES_BY_PRIORITY, type WorkerAbility } from './batch-collector.js';
import { describeDevice, providerChoiceReason, threadsPerWorker } from './execution-providers.js';
import type {
  BatchDoneMessage,
  BatchFailedMessage,
  ProviderName,
  ReadyMessage,
  Tower,
  WorkerSetup,
} from './messages.js';
import {
  abortedError,
  packInputs,
  rejectTask,
  resolveTask,
  type EmbeddingTask,
} from './embedding-task.js';
import { TaskQueue } from './task-queue.js';
import { MAX_NICENESS, lowerThreadpoolPriority } from './thread-priority.js';
import { defaultWorkerUrl } from './worker-entry.js';
import { WorkerSlot } from './worker-slot.js';
import {
  DEFAULT_MAX_BATCH,
  DEFAULT_BULK_NICENESS,
  DEFAULT_MAX_QUEUE,
  DEFAULT_QUIET_MS,
  MAX_ATTEMPTS,
  type EmbeddingPoolOptions,
  type EmbeddingPoolStats,
} from './embedding-pool-options.js';

export { DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE, MAX_ATTEMPTS, type EmbeddingPoolOptions, type EmbeddingPoolStats };

/** General workers run anything; search workers only the text tower's interactive work. */
type SlotRole = 'general' | 'search';
const SEARCH_WORK: WorkerAbility = { lanes: ['interactive'], towers: ['text'] };
const INTERACTIVE_ONLY: WorkerAbility = { lanes: ['interactive'], towers: ['text', 'vision'] };

interface Batch {
  id: number;
  tower: Tower;
  lane: Lane;
  tasks: EmbeddingTask[];
  slot: WorkerSlot;
}

/** Starts the workers and resolves once every one has loaded the towers it starts with. */
export async function createEmbeddingPool(options: EmbeddingPoolOptions): Promise<EmbeddingPool> {
  const pool = new EmbeddingPool(options);
  await pool.start();
  return pool;
}

export class EmbeddingPool implements EmbeddingRuntime {
  readonly #options: EmbeddingPoolOptions;
  readonly #logger: Logger;
  readonly #setup: WorkerSetup;
  readonly #workerUrl: URL;
  readonly #queues: Record<Lane, TaskQueue<EmbeddingTask>>;
  readonly #collector: BatchCollector<EmbeddingTask>;
  readonly #waiters = new CapacityWaiters();
  readonly #batches = new Map<number, Batch>();
  #slots: WorkerSlot[] = [];
  /** Workers reserved for searches; every other slot is general. */
  readonly #searchSlots = new Set<WorkerSlot>();
  /** The towers each worker holds, as its ready message and its answers tell. */
  readonly #towersOf = new WeakMap<WorkerSlot, Set<Tower>>();
  /** Nice value of the threads that index (0: unchanged); see thread-priority.ts. */
  readonly #bulkNiceness: number;
  #nextSlotId = 0;
  #nextBatchId = 0;
  #timer: NodeJS.Timeout | undefined;
  #provider: ProviderName = 'cpu';
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Set when no worker is left and none could be started: every call fails with it. */
  #broken: FindimageError | undefined;
  #batchCount = 0;
  #batchSizes: Record<number, number> = {};
  #embedded = 0;
  #crashes = 0;
  #retried = 0;

  /** Use createEmbeddingPool(); the constructor alone starts no worker. */
  constructor(options: EmbeddingPoolOptions) {
    for (const [name, value, min] of [
      ['workers', options.workers, 1],
      ['searchWorkers', options.searchWorkers ?? 0, 0],
      ['maxBatch', options.maxBatch ?? 1, 1],
      ['quietBulkBatch', options.quietBulkBatch ?? 1, 1],
      ['quietMs', options.quietMs ?? 0, 0],
      ['maxQueue', options.maxQueue ?? DEFAULT_MAX_QUEUE, 1],
      ['dimension', options.dimension, 1],
    ] as const) {
      if (!Number.isInteger(value) || value < min) {
        throw new ConfigError(`The embedding pool's ${name} must be a whole number of at least ${min}; got ${value}.`);
      }
    }
    const niceness = options.bulkNiceness ?? DEFAULT_BULK_NICENESS;
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > MAX_NICENESS) {
      throw new ConfigError(`The embedding pool's bulkNiceness must be a whole number from 0 to ${MAX_NICENESS}; got ${niceness}.`);
    }
    this.#bulkNiceness = niceness;
    if (!(options.batchWaitMs >= 0)) {
      throw new ConfigError(`The embedding pool's batchWaitMs must be 0 or more; got ${options.batchWaitMs}.`);
    }
    this.#options = options;
    this.#logger = options.logger.child({ component: 'embedding-pool' });
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl();
    if (options.towers !== undefined && (options.towers.length === 0 || options.towers.some((t) => t !== 'text' && t !== 'vision'))) {
      throw new ConfigError(`The embedding pool's towers must name text, vision or both; got [${options.towers.join(', ')}].`);
    }
    this.#setup = {
      textModelPath: options.textModelPath,
      visionModelPath: options.visionModelPath,
      text: { ...options.text },
      vision: { ...options.vision },
      dimension: options.dimension,
      device: options.device,
      intraOpNumThreads: threadsPerWorker(availableParallelism(), options.workers),
      ...(options.towers === undefined ? {} : { towers: [...options.towers] }),
      ...(options.graphCacheDir === undefined ? {} : { graphCacheDir: options.graphCacheDir }),
      ...(options.prepackWeights === undefined ? {} : { prepackWeights: options.prepackWeights }),
    };
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.#queues = { interactive: new TaskQueue(maxQueue), bulk: new TaskQueue(maxQueue) };
    this.#collector = new BatchCollector(this.#queues, {
      maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH.cpu,
      ...(options.quietBulkBatch === undefined ? {} : { quietBulkBatch: options.quietBulkBatch }),
      quietMs: options.quietMs ?? DEFAULT_QUIET_MS,
      batchWaitMs: options.batchWaitMs,
    });
  }

  /** Loads every worker; on any failure stops them all and throws the first reason. */
  async start(): Promise<void> {
    // Checked synchronously (microseconds for two local files), so the workers start in the tick
    // that created the pool: what the caller starts next (a cold search's tokenizer, about 50 ms
    // of this thread) then runs while they load, not before them.
    checkReadable(this.#setup.textModelPath, 'text');
    checkReadable(this.#setup.visionModelPath, 'vision');
    // Dispatch tries search workers first whatever the order here (see #dispatch).
    const slots = [
      ...Array.from({ length: this.#options.workers }, () => this.#newSlot('general')),
      ...Array.from({ length: this.#options.searchWorkers ?? 0 }, () => this.#newSlot('search')),
    ];
    this.#slots = slots;
    this.#options.onWorkersStarted?.();
    const results = await Promise.allSettled(slots.map((slot) => slot.ready));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      this.#closed = true;
      // this.#slots too: a worker that crashed meanwhile has a replacement starting there.
      await Promise.all([...new Set([...slots, ...this.#slots])].map((slot) => slot.terminate()));
      this.#slots = [];
      throw failure.reason instanceof FindimageError
        ? failure.reason
        : new EmbeddingError('worker_crashed', `An embedding worker could not start: ${String(failure.reason)}`);
    }
    const ready = results.map((r) => (r as PromiseFulfilledResult<ReadyMessage>).value);
    if (this.#lowersBulkPriority) {
      const lowered = await lowerThreadpoolPriority(this.#bulkNiceness);
      if (lowered.reason === undefined) {
        this.#logger.info({ threads: lowered.lowered.length, niceness: this.#bulkNiceness }, 'image decoding runs at a lower priority');
      } else {
        this.#logger.warn({ ...lowered, niceness: this.#bulkNiceness }, 'image decoding may keep the default priority: searches may slow down while indexing');
      }
    }
    this.#collector.maxBatch = this.#options.maxBatch ?? DEFAULT_MAX_BATCH[ready[0]?.provider ?? 'cpu'];
    this.#logStartup(ready);
  }

  /** The execution provider in use. */
  get provider(): ProviderName {
    return this.#provider;
  }

  embedTokens(ids: BigInt64Array, options: EmbedOptions = {}): Promise<Float32Array> {
    return this.#submit('text', ids, this.#setup.text.contextLength, options);
  }

  embedPixels(pixels: Float32Array, options: EmbedOptions = {}): Promise<Float32Array> {
    const size = this.#setup.vision.imageSize;
    return this.#submit('vision', pixels, 3 * size * size, options);
  }

  /**
   * Resolves when `lane` has room for one more task (at once if it has room now), so a bulk
   * producer can pace itself instead of meeting queue_full. Rejects if the pool closes or the
   * signal aborts first. Several waiters may be woken for one free place only when there is room
   * for each of them.
   */
  waitForCapacity(lane: Lane, signal?: AbortSignal): Promise<void> {
    const refusal = this.#refusal(signal);
    if (refusal !== undefined) return Promise.reject(refusal);
    if (this.#queues[lane].hasRoom) return Promise.resolve();
    return this.#waiters.wait(lane, signal);
  }

  stats(): EmbeddingPoolStats {
    let inFlight = 0;
    for (const batch of this.#batches.values()) inFlight += batch.tasks.length;
    const live = this.#slots.filter((s) => s.state === 'idle' || s.state === 'busy');
    const towersLoaded: Record<Tower, number> = { text: 0, vision: 0 };
    for (const slot of live) for (const tower of this.#towersOf.get(slot) ?? []) towersLoaded[tower]++;
    return {
      provider: this.#provider,
      workers: live.length,
      towersLoaded,
      batches: this.#batchCount,
      batchSizes: { ...this.#batchSizes },
      embedded: this.#embedded,
      queued: { interactive: this.#queues.interactive.size, bulk: this.#queues.bulk.size },
      inFlight,
      crashes: this.#crashes,
      retried: this.#retried,
    };
  }

  /** Stops the workers; queued and running tasks reject with 'aborted'. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const error = new EmbeddingError('aborted', 'The embedding pool was closed before this work finished.');
    for (const lane of LANES_BY_PRIORITY) {
      for (const task of this.#queues[lane].drain()) rejectTask(task, error);
    }
    this.#waiters.rejectAll(error);
    for (const batch of this.#batches.values()) for (const task of batch.tasks) rejectTask(task, error);
    this.#batches.clear();
    await Promise.all(this.#slots.map((slot) => slot.terminate()));
    this.#slots = [];
  }

  #submit(tower: Tower, input: EmbeddingTask['input'], length: number, options: EmbedOptions): Promise<Float32Array> {
    const refusal = this.#refusal(options.signal);
    if (refusal !== undefined) return Promise.reject(refusal);
    if (input.length !== length) {
      return Promise.reject(
        new EmbeddingError(
          'internal',
          `The ${tower} tower takes ${length} values per input; got ${input.length}.`,
          { details: { tower, expected: length, actual: input.length } },
        ),
      );
    }
    const lane = options.lane ?? (tower === 'text' ? 'interactive' : 'bulk');
    const signal = options.signal;
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = (): void => this.#abort(task, signal?.reason);
      const task: EmbeddingTask = {
        tower,
        lane,
        input,
        enqueuedAt: performance.now(),
        isolate: false,
        attempts: 0,
        settled: false,
        resolve,
        reject,
        detachAbort: () => signal?.removeEventListener('abort', onAbort),
      };
      const queue = this.#queues[lane];
      if (!queue.push(task)) {
        reject(
          new EmbeddingError(
            'queue_full',
            `Too much ${lane} embedding work is waiting (${queue.capacity} inputs); wait for room and try again.`,
            { details: { lane, capacity: queue.capacity } },
          ),
        );
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#dispatch();
    });
  }

  /** Why a new call is refused right now, if it is. */
  #refusal(signal: AbortSignal | undefined): FindimageError | undefined {
    if (this.#closed) return new EmbeddingError('aborted', 'The embedding pool is closed.');
    if (this.#broken !== undefined) return this.#broken;
    if (signal?.aborted) return abortedError(signal.reason);
    return undefined;
  }

  /** A queued task leaves its queue; a running one is answered now and its result dropped. */
  #abort(task: EmbeddingTask, reason: unknown): void {
    if (task.settled) return;
    if (this.#queues[task.lane].remove(task)) this.#notifyCapacity();
    rejectTask(task, abortedError(reason));
  }

  /** Hands batches to idle workers until none is idle or nothing is ready. */
  #dispatch(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Search workers first: a query they can run leaves the general workers free to index.
    const searchFirst = [...this.#slots].sort((a, b) => Number(this.#searchSlots.has(b)) - Number(this.#searchSlots.has(a)));
    for (const slot of searchFirst) {
      if (slot.state !== 'idle') continue;
      const next = this.#collector.next(performance.now(), this.#abilityOf(slot));
      // A search worker finding no search says nothing about the work a general one may take.
      if (next.kind === 'empty' && this.#searchSlots.has(slot)) continue;
      if (next.kind === 'empty') break;
      if (next.kind === 'wait') {
        this.#timer = setTimeout(() => this.#dispatch(), next.ms);
        break;
      }
      this.#send(slot, next.lane, next.tower, next.tasks);
    }
    this.#notifyCapacity();
  }

  /**
   * What an idle worker may take now. While a search runs, general workers start no new bulk
   * batch: on a CPU the two would share the same cores, and the search would pay for it.
   * Bulk work resumes as soon as the search answers.
   */
  #abilityOf(slot: WorkerSlot): WorkerAbility {
    if (this.#searchSlots.has(slot)) return SEARCH_WORK;
    for (const batch of this.#batches.values()) if (batch.lane === 'interactive') return INTERACTIVE_ONLY;
    return ANY_WORK;
  }

  #send(slot: WorkerSlot, lane: Lane, tower: Tower, tasks: EmbeddingTask[]): void {
    const id = this.#nextBatchId++;
    for (const task of tasks) task.attempts++;
    this.#batches.set(id, { id, tower, lane, tasks, slot });
    slot.run({ type: 'run', batchId: id, tower, rows: tasks.length, data: packInputs(tasks) });
  }

  #onAnswer(answer: BatchDoneMessage | BatchFailedMessage): void {
    const batch = this.#batches.get(answer.batchId);
    if (batch === undefined) return;
    this.#batches.delete(answer.batchId);
    if (batch.lane === 'interactive') this.#collector.noteSearch(performance.now());
    const rows = batch.tasks.length;
    if (answer.type === 'done') {
      this.#towersOf.get(batch.slot)?.add(batch.tower);
      this.#batchCount++;
      this.#batchSizes[rows] = (this.#batchSizes[rows] ?? 0) + 1;
      this.#embedded += rows;
      const vectors = new Float32Array(answer.data);
      const dim = this.#options.dimension;
      batch.tasks.forEach((task, row) => {
        // A copy per row: results must not alias one buffer that a caller might transfer.
        resolveTask(task, vectors.slice(row * dim, (row + 1) * dim));
      });
    } else {
      this.#logger.error({ tower: batch.tower, rows, error: answer.message }, 'embedding batch failed');
      const error = new EmbeddingError(
        'internal',
        `The ${batch.tower} model failed on a batch of ${rows}: ${answer.message}`,
        { details: { tower: batch.tower, rows } },
      );
      for (const task of batch.tasks) rejectTask(task, error);
    }
    this.#dispatch();
  }

  /** Retries the dead worker's batch (each task alone, once) and starts a replacement. */
  #onCrash(slot: WorkerSlot, description: string): void {
    if (this.#closed) return;
    this.#crashes++;
    this.#slots = this.#slots.filter((s) => s !== slot);
    const role: SlotRole = this.#searchSlots.delete(slot) ? 'search' : 'general';
    const batch = [...this.#batches.values()].find((b) => b.slot === slot);
    const retry: EmbeddingTask[] = [];
    if (batch !== undefined) {
      this.#batches.delete(batch.id);
      for (const task of batch.tasks) {
        if (task.settled) continue;
        if (task.attempts < MAX_ATTEMPTS) {
          task.isolate = true;
          retry.push(task);
        } else {
          rejectTask(
            task,
            new EmbeddingError(
              'worker_crashed',
              `The embedding worker stopped (${description}) each of the ${task.attempts} times it ` +
                `ran this ${batch.tower} input, so it is not tried again. The input may be malformed, ` +
                'or the machine may be out of memory.',
              { details: { tower: batch.tower, attempts: task.attempts } },
            ),
          );
        }
      }
      this.#queues[batch.lane].requeueFront(retry);
      this.#retried += retry.length;
    }
    this.#logger.warn(
      { worker: slot.id, reason: description, batch: batch?.tasks.length ?? 0, retried: retry.length },
      'embedding worker crashed; starting a replacement',
    );
    this.#startReplacement(role);
  }

  /** A replacement that fails to start is not retried: that would respawn it in a loop. */
  #startReplacement(role: SlotRole): void {
    const slot = this.#newSlot(role);
    // General workers stay ahead of search workers in dispatch order.
    if (role === 'general') this.#slots.unshift(slot);
    else this.#slots.push(slot);
    slot.ready.then(
      () => this.#dispatch(),
      (error: unknown) => {
        this.#slots = this.#slots.filter((s) => s !== slot);
        this.#searchSlots.delete(slot);
        if (this.#closed) return;
        const reason = error instanceof Error ? error.message : String(error);
        this.#logger.error({ worker: slot.id, reason }, 'replacement embedding worker could not start');
        if (this.#slots.some((s) => !this.#searchSlots.has(s))) return;
        this.#broken = new EmbeddingError(
          'worker_crashed',
          `No embedding worker is running: a crashed worker's replacement could not start (${reason}). Restart findimage.`,
          { cause: error },
        );
        for (const lane of LANES_BY_PRIORITY) {
          for (const task of this.#queues[lane].drain()) rejectTask(task, this.#broken);
        }
        this.#waiters.rejectAll(this.#broken);
      },
    );
  }

  #newSlot(role: SlotRole): WorkerSlot {
    const setup: WorkerSetup =
      role === 'search'
        ? { ...this.#setup, towers: ['text'] }
        : this.#lowersBulkPriority
          ? { ...this.#setup, niceness: this.#bulkNiceness }
          : this.#setup;
    const slot = new WorkerSlot(this.#nextSlotId++, this.#workerUrl, setup, {
      onAnswer: (_slot, answer) => this.#onAnswer(answer),
      onCrash: (crashed, description) => this.#onCrash(crashed, description),
    });
    if (role === 'search') this.#searchSlots.add(slot);
    // What the worker says it loaded; a tower it loads later is added when it answers a batch.
    slot.ready.then((ready) => this.#towersOf.set(slot, new Set(ready.towers)), () => undefined);
    return slot;
  }

  /**
   * Whether indexing runs at a lower OS priority: only beside reserved search workers, where
   * searches and indexing share the machine. A one-shot command has nothing to protect, and
   * without search workers the general workers answer searches themselves.
   */
  get #lowersBulkPriority(): boolean {
    return this.#bulkNiceness > 0 && (this.#options.searchWorkers ?? 0) > 0;
  }

  #notifyCapacity(): void {
    this.#waiters.notify(this.#queues);
  }

  #logStartup(ready: ReadyMessage[]): void {
    const first = ready[0];
    if (first === undefined) return;
    this.#provider = first.provider;
    const device = describeDevice(this.#options.device);
    const reason = providerChoiceReason(this.#options.device, first.fallbackReason);
    this.#logger.info(
      {
        provider: first.provider,
        device,
        reason,
        workers: this.#options.workers,
        searchWorkers: this.#options.searchWorkers ?? 0,
        towers: first.towers,
        intraOpNumThreads: this.#setup.intraOpNumThreads,
        maxBatch: this.#collector.maxBatch,
        elementTypes: first.elementTypes,
        // Workers the command line started before reading its configuration (early-worker.ts).
        startedEarly: ready.filter((r) => r.startedEarly === true).length,
      },
      `embedding on ${first.provider === 'cuda' ? 'CUDA' : 'the CPU'}: ${reason}`,
    );
    if (first.elementTypes.vision?.input === 'float16') {
      // About 1 ms an image of the worker's own thread: noise beside a CPU inference, but on a GPU
      // a batch can spend longer converting than inferring (docs/models.md, "fp16 variants").
      this.#logger[first.provider === 'cuda' ? 'warn' : 'info'](
        { provider: first.provider },
        'the vision graph takes float16 pixels: each batch is converted from float32 in the worker (about 1 ms an image); ' +
          'an export with float32 inputs avoids it',
      );
    }
    const priorityProblem = ready.find((r) => r.priorityProblem !== undefined)?.priorityProblem;
    if (priorityProblem !== undefined) {
      this.#logger.warn({ reason: priorityProblem }, 'indexing runs at the default priority: searches may slow down while it runs');
    }
    const others = ready.filter((r) => r.provider !== first.provider);
    if (others.length > 0) {
      this.#logger.warn({ providers: ready.map((r) => r.provider) }, 'embedding workers ended up on different providers');
    }
  }
}

function checkReadable(path: string, tower: Tower): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ModelError(
      'model_load_failed',
      `The ${tower} model file ${path} does not exist or cannot be read. Check FINDIMAGE_MODEL_DIR, ` +
        'or download the model again.',
      { cause: error, details: { file: path } },
    );
  }
}
