// FleetIndexing: indexes an image by handing it to the fleet. Each image becomes one job in the
// model's BullMQ index queue, taken by whichever `findimage worker` (or replica) is free, and the
// call resolves once a worker has stored it, exactly like ImageIndexer.index() on this machine.
// So the upload queue and `findimage index` need not know where the embedding happens: an upload
// leaves the replica's durable queue only once its job has finished somewhere in the fleet.
import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import { FindimageError, StoreError } from '../errors.js';
import type { ImageIndexing, ImageToIndex, IndexOptions, IndexResult } from '../indexing/image-indexer.js';
import type { IndexBatching } from '../indexing/index-batching.js';
import { errorOfFailedJob, jobDataOf, type IndexJobData, type IndexJobResult } from './index-job.js';
import { QUEUE_PREFIX, indexQueueName } from './index-queue-names.js';
import type { Redis } from 'ioredis';
import { openRedis, queueConnection, redisShown } from './redis-connection.js';

/**
 * Attempts of a job that fails for a reason that does not pass (a file that is not an image):
 * a worker on another machine may yet manage (a decoder there, memory there), but not forever.
 * Failures that may pass (the store down) spend no attempt (see fleet-worker.ts).
 */
export const FLEET_JOB_ATTEMPTS = 3;

/** First wait before a job's next attempt; doubled each time (1 s, 2 s). */
export const FLEET_RETRY_DELAY_MS = 1_000;

/**
 * Finished jobs kept in Redis, so that an upload re-sent after its replica restarted finds its
 * job's result instead of running it again, and `fleet status` can list the last failures.
 */
const KEEP_COMPLETED = { age: 24 * 3600, count: 50_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 10_000 };

/**
 * How often each job still waited for is looked up directly: the queue's events arrive on a
 * stream that a connection cut can skip, and a job lost with Redis's last second of writes
 * would be waited for forever. A look at a job costs one round trip.
 */
const FINISH_CHECK_MS = 5_000;

/**
 * Images handed over at once by `findimage index`: jobs waiting in Redis for a free worker.
 * Enough for 8 GPU workers at 32 a batch, and `maxQueuedBytes` bounds their bytes whatever this is.
 */
export const FLEET_HANDOVER: Required<IndexBatching> = { size: 64, inFlight: 4, lingerMs: 0 };

export interface FleetIndexingOptions {
  /** REDIS_URL. */
  redisUrl: string;
  /** The model whose queue the jobs go to (workers embed with it). */
  modelId: string;
  logger: Logger;
}

/** A job this process added that has ended, as /metrics reports it. */
export interface FinishedJob {
  outcome: 'indexed' | 'duplicate' | 'withdrawn' | 'failed';
  /** From adding the job to hearing it ended, in seconds (its wait in the queue included). */
  seconds: number;
}

/** Depths of the fleet's index queue (every process's jobs, not only this one's). */
export interface QueueDepths {
  /** Waiting for a worker (delayed retries included). */
  waiting: number;
  /** Held by a worker now. */
  active: number;
  /** Failed for good and kept for `fleet status` (a week). */
  failed: number;
}

/** Jobs finished and not yet read by drainFinished(), at most (metrics scraped rarely or never). */
const MAX_UNREAD_FINISHED = 10_000;

/**
 * How long close() waits for the queue's connections to close politely (they wait for commands
 * queued while Redis is away) before cutting them: a replica stopping in an outage must exit.
 */
const CLOSE_WAIT_MS = 2_000;

/** The queue's connections, once opened. */
interface Connections {
  queue: Queue<IndexJobData, IndexJobResult>;
  events: QueueEvents;
}

/** A job this process added and waits for. */
interface Waiter {
  data: IndexJobData;
  /** Still being added: a check that found it missing now would add it twice. */
  adding: boolean;
  /** When it was added (ms). */
  addedAt: number;
  resolve: (result: IndexResult) => void;
  reject: (error: FindimageError) => void;
}

export class FleetIndexing implements ImageIndexing {
  readonly batching = FLEET_HANDOVER;
  readonly #redisUrl: string;
  readonly #name: string;
  #connections: Connections | undefined;
  readonly #logger: Logger;
  readonly #waiting = new Map<string, Waiter>();
  readonly #finished: FinishedJob[] = [];
  readonly #status: Redis;
  /** Resolved by close(): adds waiting for an unreachable Redis give up. */
  readonly #closing = closingSignal();
  #sweeping = false;
  readonly #checkTimer: NodeJS.Timeout;
  #closed = false;

  constructor(options: FleetIndexingOptions) {
    this.#redisUrl = options.redisUrl;
    this.#name = indexQueueName(options.modelId);
    this.#logger = options.logger;
    this.#checkTimer = setInterval(() => void this.#sweep(), FINISH_CHECK_MS);
    this.#checkTimer.unref();
    // Status reads (/readyz, /metrics) go through a quick connection: while Redis is away they
    // fail at once instead of piling up behind the queue's connection.
    this.#status = openRedis({ url: options.redisUrl, role: 'quick', logger: this.#logger, name: 'findimage-queue-status' });
  }

  /**
   * The queue and its events, opened on first use: a process that never adds a job (a
   * `findimage worker`, whose core has this too) keeps no connection reading the fleet's events.
   */
  #open(): Connections {
    if (this.#connections !== undefined) return this.#connections;
    const connection = queueConnection(this.#redisUrl);
    const queue = new Queue<IndexJobData, IndexJobResult>(this.#name, { connection, prefix: QUEUE_PREFIX });
    const events = new QueueEvents(this.#name, { connection, prefix: QUEUE_PREFIX });
    // A connection error is retried by ioredis; the Redis connection logs it once (no crash here).
    queue.on('error', (error) => this.#logger.debug({ err: error }, 'index queue connection error'));
    events.on('error', (error) => this.#logger.debug({ err: error }, 'index queue events connection error'));
    // A listener that threw would end BullMQ's event loop for good: each one catches.
    events.on('completed', ({ jobId, returnvalue }) => {
      try {
        this.#completed(jobId, returnvalue);
      } catch (error) {
        this.#logger.warn({ err: error, jobId }, 'could not read a finished index job\'s result; looking it up');
        this.#checkLater(jobId);
      }
    });
    events.on('failed', ({ jobId }) => this.#checkLater(jobId));
    this.#connections = { queue, events };
    return this.#connections;
  }

  get #queue(): Queue<IndexJobData, IndexJobResult> {
    return this.#open().queue;
  }

  /** Jobs added and not finished yet. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Opens the queue's connections now, without waiting for Redis (they connect by themselves): a
   * replica about to forward uploads listens for its jobs' ends before it adds the first one.
   */
  connect(): void {
    if (!this.#closed) this.#open();
  }

  /** Resolves once the queue's connections are ready (a command fails early if Redis is away). */
  async ready(): Promise<void> {
    const { queue, events } = this.#open();
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  }

  /**
   * Adds the image's job (once under `options.jobId`: the same id added again after a restart
   * finds the first job) and resolves with its result once a worker stored it. Rejects with the
   * worker's error when the job failed for good, with 'upload_withdrawn' when the worker found
   * the image's message, file or conversation deleted (nothing of it stays stored), and with
   * 'aborted' when this is closed first.
   */
  async index(image: ImageToIndex, options: IndexOptions = {}): Promise<IndexResult> {
    if (this.#closed) throw aborted();
    const jobId = options.jobId ?? randomUUID();
    const data = jobDataOf(image);
    const waiter = { data, adding: true, addedAt: Date.now() } as Waiter;
    const finished = new Promise<IndexResult>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    // close() may reject it while the add still waits for Redis: that rejection is answered below.
    finished.catch(() => undefined);
    this.#waiting.set(jobId, waiter);
    try {
      await this.#add(jobId, data);
    } catch (error) {
      this.#waiting.delete(jobId);
      throw error;
    }
    waiter.adding = false;
    // A job id given again (an upload re-sent after a restart) may have finished already: look once.
    if (options.jobId !== undefined) this.#checkLater(jobId);
    return finished;
  }


  async #add(jobId: string, data: IndexJobData): Promise<void> {
    try {
      const adding = this.#queue.add('image', data, {
        jobId,
        attempts: FLEET_JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: FLEET_RETRY_DELAY_MS },
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      });
      // While Redis is away the add waits; closing gives up waiting (the upload stays on disk).
      await Promise.race([adding, this.#closing.promise]);
      if (this.#closed) throw aborted();
    } catch (error) {
      if (this.#closed) throw aborted();
      throw new FindimageError('store_unavailable', 'Could not add the image to the fleet\'s index queue in Redis.', { cause: error });
    }
  }

  /** Settles the job's waiter with its result; throws (keeping the waiter) if there is none. */
  #completed(jobId: string, returnvalue: unknown): void {
    const waiter = this.#waiting.get(jobId);
    if (waiter === undefined) return;
    const result = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as IndexJobResult | null;
    if (result === null || typeof result !== 'object' || typeof result.status !== 'string') throw new Error(`no result in finished job ${jobId}`);
    this.#waiting.delete(jobId);
    this.#ended(waiter, result.status);
    if (result.status === 'withdrawn') waiter.reject(withdrawn());
    else waiter.resolve(result);
  }

  #ended(waiter: Waiter, outcome: FinishedJob['outcome']): void {
    if (this.#finished.length >= MAX_UNREAD_FINISHED) this.#finished.shift();
    this.#finished.push({ outcome, seconds: (Date.now() - waiter.addedAt) / 1000 });
  }

  /** The jobs of this process that ended since the last call (for /metrics). */
  drainFinished(): FinishedJob[] {
    return this.#finished.splice(0);
  }

  /** The queue's depths, over the whole fleet; rejects at once while Redis is away. */
  async depths(): Promise<QueueDepths> {
    if (this.#status.status !== 'ready') throw new StoreError('store_unavailable', `Redis at ${redisShown(this.#redisUrl)} does not answer`);
    const counts = await this.#queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'failed');
    return {
      waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      failed: counts.failed ?? 0,
    };
  }

  /** Resolves once Redis answers a PING; rejects at once, saying so, while it is away. */
  async ping(): Promise<void> {
    try {
      await this.#status.ping();
    } catch (error) {
      throw new StoreError('store_unavailable', `Redis at ${redisShown(this.#redisUrl)} does not answer`, { cause: error });
    }
  }

  /** Looks the job up soon (its own failures are logged, never thrown). */
  #checkLater(jobId: string): void {
    this.#check(jobId).catch((error: unknown) => this.#logger.warn({ err: error, jobId }, 'could not look up an index job'));
  }

  /**
   * Settles a waited-for job from its state in Redis, and adds it again if Redis lost it. The
   * state is read first: a finished job stays finished, so the job read after it is complete
   * (read the other way round, a job could be read active and then said completed).
   */
  async #check(jobId: string): Promise<void> {
    const waiter = this.#waiting.get(jobId);
    if (waiter === undefined || waiter.adding || this.#closed) return;
    const state = await this.#queue.getJobState(jobId);
    if (this.#waiting.get(jobId) !== waiter) return;
    if (state === 'unknown') {
      // Redis lost the job (its last writes, a flush) before any worker finished it: add it again.
      this.#logger.warn({ jobId }, 'an index job vanished from Redis; adding it again');
      waiter.adding = true;
      await this.#add(jobId, waiter.data).finally(() => (waiter.adding = false));
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await Job.fromId<IndexJobData, IndexJobResult>(this.#queue, jobId);
    if (job === undefined || this.#waiting.get(jobId) !== waiter) return;
    if (state === 'completed') {
      this.#completed(jobId, job.returnvalue);
      return;
    }
    this.#waiting.delete(jobId);
    this.#ended(waiter, 'failed');
    waiter.reject(errorOfFailedJob(job.data, job.failedReason));
    // A job failed by BullMQ itself (it lost its workers too often) still holds its bytes, and
    // is kept a week: the bytes, and a chat file's link, go.
    if ((job.data.bytes ?? '') !== '' || job.data.file !== undefined) {
      const { file: _file, ...rest } = job.data;
      await job.updateData({ ...rest, bytes: '' }).catch(() => undefined);
    }
  }

  /**
   * Looks up every job waited for longer than FINISH_CHECK_MS, one sweep at a time: while Redis
   * is away a sweep waits for it, and no other starts behind it.
   */
  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    try {
      const due = Date.now() - FINISH_CHECK_MS;
      for (const [jobId, waiter] of [...this.#waiting]) {
        if (this.#closed) break;
        if (waiter.addedAt <= due) await this.#check(jobId).catch(() => undefined);
      }
    } finally {
      this.#sweeping = false;
    }
  }

  /** Stops waiting: calls waiting for their jobs reject with 'aborted' (the jobs stay queued). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.resolve();
    clearInterval(this.#checkTimer);
    for (const waiter of this.#waiting.values()) waiter.reject(aborted());
    this.#waiting.clear();
    this.#status.disconnect();
    const opened = this.#connections;
    if (opened === undefined) return;
    // Politely when Redis answers; cut off after CLOSE_WAIT_MS when it does not.
    const polite = Promise.allSettled([opened.events.close(), opened.queue.close()]);
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), CLOSE_WAIT_MS).unref());
    if ((await Promise.race([polite, timer])) === 'late') {
      await Promise.allSettled([opened.events.disconnect(), opened.queue.disconnect()]);
    }
  }
}

function withdrawn(): FindimageError {
  return new FindimageError('upload_withdrawn', 'Not indexed: its message, file or conversation was deleted before a worker stored it.');
}

function aborted(): FindimageError {
  return new FindimageError('aborted', 'Stopped before the fleet indexed this image; its job stays queued.');
}

/** A promise and the function that resolves it (Promise.withResolvers, which Node 20 lacks). */
function closingSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
