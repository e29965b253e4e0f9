// FleetWorker: takes jobs from the model's index queue in Redis and indexes them here (decode,
// embed, write to Qdrant) with this process's ImageIndexer, whose content claims (in Redis) keep
// two machines from embedding one image twice. A job holds a lease that this process renews; if
// the process is killed, the lease runs out and another worker takes the job again, so nothing
// is lost and, since an image's point id is its content's, nothing is stored twice. A chat
// upload's job carries the platform's file reference: the worker downloads it first, with the
// bot token of its own environment (RemoteFiles). With the fleet's share marks, a job whose
// message, file or conversation another replica deleted is withdrawn, and one whose
// conversation was made private is written private (share-marks.ts).
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { applyShareUpdate, type ShareUpdateStore } from '../conversations/share-updates.js';
import { FindimageError, asFindimageError, isTransient, publicMessageOf } from '../errors.js';
import type { ImageIndexing, ImageToIndex } from '../indexing/image-indexer.js';
import { errorOfFailedJob, imageOfJob, reasonOf, type IndexJobData, type IndexJobResult } from './index-job.js';
import { QUEUE_PREFIX, indexQueueName } from './index-queue-names.js';
import { queueConnection } from './redis-connection.js';
import { withBytes, type RemoteFiles } from './remote-file.js';
import { flagWithMarks, type ShareMarks } from './share-marks.js';

/**
 * Times a job may lose its worker (killed, cut off) and be taken again before it counts as
 * failed: an image that crashes every worker that takes it must not take the fleet down forever.
 */
export const MAX_STALLS = 3;

/**
 * Failures that may pass (the store unreachable) retried per job, spending no attempt: with the
 * delay doubling from 1 s to 5 minutes, about 6 hours of an unreachable store, as the local
 * upload queue allows.
 */
export const MAX_TRANSIENT_TRIES = 80;
const TRANSIENT_DELAY_MS = 1_000;
const MAX_TRANSIENT_DELAY_MS = 5 * 60_000;

/** How one job ended, for metrics and the worker registry. */
export interface JobEnd {
  /** "withdrawn": its message, file or conversation was deleted, so nothing of it stays stored. */
  outcome: 'indexed' | 'duplicate' | 'withdrawn' | 'retried' | 'failed';
  /** From taking the job to its end, in ms. */
  ms: number;
  /** From adding the job to its end, in ms (its time waiting in the queue included). */
  sinceAddedMs: number;
}

export interface FleetWorkerOptions {
  /** REDIS_URL. */
  redisUrl: string;
  /** The model this worker embeds with: it takes that model's queue only. */
  modelId: string;
  /** Indexes a job's image here (ImageIndexer with Redis claims). */
  indexer: ImageIndexing;
  /** Jobs worked on at once; their images share the indexer's batches. */
  concurrency: number;
  /** FINDIMAGE_FLEET_LEASE_MS: a job whose worker stopped renewing for this long is taken again. */
  leaseMs: number;
  logger: Logger;
  /** Told as each job ends (metrics, the worker registry). */
  onJobEnd?: (end: JobEnd) => void;
  /** Delay before retrying a failure that may pass (default 1 s, doubling); tests shorten it. */
  transientDelayMs?: number;
  /**
   * Downloads chat uploads queued by reference, with this process's bot tokens. Without it (or
   * without a platform's token) such a job fails, saying which token this worker lacks.
   */
  remoteFiles?: RemoteFiles;
  /**
   * The fleet's marks of deleted messages, files and conversations and of privacy changes,
   * looked at before and after each chat upload's write. Without them jobs are indexed as sent.
   */
  marks?: ShareMarks;
  /** Where a mark seen after a write is applied (the indexer's store); required with `marks`. */
  store?: ShareUpdateStore;
}

export class FleetWorker {
  readonly #worker: Worker<IndexJobData, IndexJobResult>;
  readonly #indexer: ImageIndexing;
  readonly #logger: Logger;
  readonly #onJobEnd: ((end: JobEnd) => void) | undefined;
  readonly #transientDelayMs: number;
  readonly #remoteFiles: RemoteFiles | undefined;
  readonly #leaseMs: number;
  /** Whether a failure that may pass was logged as a warning since the last job that went through. */
  #outageLogged = false;
  readonly #marks: { marks: ShareMarks; store: ShareUpdateStore } | undefined;

  constructor(options: FleetWorkerOptions) {
    if (options.marks !== undefined && options.store === undefined) {
      throw new FindimageError('internal', 'A fleet worker given share marks needs the store to apply them to.');
    }
    this.#marks = options.marks === undefined || options.store === undefined ? undefined : { marks: options.marks, store: options.store };
    this.#indexer = options.indexer;
    this.#logger = options.logger;
    this.#onJobEnd = options.onJobEnd;
    this.#transientDelayMs = options.transientDelayMs ?? TRANSIENT_DELAY_MS;
    this.#remoteFiles = options.remoteFiles;
    this.#leaseMs = options.leaseMs;
    this.#worker = new Worker<IndexJobData, IndexJobResult>(indexQueueName(options.modelId), (job, token) => this.#process(job, token), {
      connection: queueConnection(options.redisUrl),
      prefix: QUEUE_PREFIX,
      concurrency: options.concurrency,
      autorun: false,
      lockDuration: options.leaseMs,
      // Looked for by every worker; a killed worker's jobs come back within about 1.5 leases.
      stalledInterval: Math.max(500, Math.floor(options.leaseMs / 2)),
      maxStalledCount: MAX_STALLS,
    });
    this.#worker.on('error', (error) => this.#logger.debug({ err: error }, 'index worker connection error'));
    this.#worker.on('failed', (job, error) => {
      if (job === undefined || error instanceof DelayedError || error.name === 'DelayedError') return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      this.#logger.warn({ jobId: job.id, filename: job.data.image.filename, attempt: job.attemptsMade, reason: error.message, final }, final ? 'index job failed for good' : 'index job failed; it will be tried again');
    });
    this.#worker.on('stalled', (jobId) => this.#logger.warn({ jobId }, 'an index job lost its worker; it is back in the queue'));
  }

  /** Starts taking jobs (resolves at once; the worker runs until close()). */
  start(): void {
    void this.#worker.run().catch((error: unknown) => this.#logger.error({ err: error }, 'the index worker stopped'));
  }

  /** Resolves once the worker's connection is ready. */
  async ready(): Promise<void> {
    await this.#worker.waitUntilReady();
  }

  /**
   * Takes no new job, finishes those it holds, and disconnects. A job that cannot finish within
   * one lease (Redis away, so its end cannot be written) is let go: the fleet takes it back once
   * its lease runs out anyway, and its image is found stored if it was.
   */
  async close(): Promise<void> {
    const polite = this.#worker.close();
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), this.#leaseMs).unref());
    if ((await Promise.race([polite, late])) === 'late') {
      this.#logger.warn('the jobs in hand could not be finished within a lease (is Redis reachable?); leaving them to the fleet');
      // close(true) would only return the close already waiting: cut the connections instead,
      // which ends that close (the jobs fail to report, and the fleet takes them back).
      await this.#worker.disconnect().catch(() => undefined);
      await Promise.race([polite, new Promise((resolve) => setTimeout(resolve, this.#leaseMs).unref())]);
    }
  }

  async #process(job: Job<IndexJobData, IndexJobResult>, token: string | undefined): Promise<IndexJobResult> {
    const started = Date.now();
    const ended = (outcome: JobEnd['outcome']) =>
      this.#onJobEnd?.({ outcome, ms: Date.now() - started, sinceAddedMs: Date.now() - job.timestamp });
    // Run before, and stored, by a worker that died between storing the result and finishing.
    if (job.data.result !== undefined) {
      ended(job.data.result.status);
      return job.data.result;
    }
    // Its last attempt failed and dropped the bytes, and its worker died before saying so.
    const { failure } = job.data;
    if (failure !== undefined && job.data.bytes === '' && job.data.file === undefined) {
      ended('failed');
      throw new Error(reasonOf(errorOfFailedJob(job.data, undefined)));
    }
    try {
      const result = await this.#indexWithMarks(imageOfJob(job.data), job);
      // A finished job is kept a day (a replica sending an upload again finds it), without its
      // bytes: with them, Redis would hold every image indexed that day. The result stays, so a
      // run again (this worker killed before it finished the job) answers without the bytes.
      await job.updateData({ image: job.data.image, bytes: '', result });
      this.#outageLogged = false;
      ended(result.status);
      return result;
    } catch (thrown) {
      const error = asFindimageError(thrown);
      const tries = job.data.transientTries ?? 0;
      if (isTransient(error) && tries < MAX_TRANSIENT_TRIES && token !== undefined) {
        // The store or the workers will be back: wait and try again, spending no attempt.
        const delay = Math.min(this.#transientDelayMs * 2 ** tries, MAX_TRANSIENT_DELAY_MS);
        await job.updateData({ ...job.data, transientTries: tries + 1 });
        await job.moveToDelayed(Date.now() + delay, token);
        // One warning per outage: every job waiting out the same outage says the same thing.
        const line = { jobId: job.id, code: error.code, reason: error.message, retryInMs: delay };
        if (this.#outageLogged) this.#logger.debug(line, 'index job will be retried');
        else this.#logger.warn(line, 'index jobs will be retried while this lasts (more at debug level)');
        this.#outageLogged = true;
        ended('retried');
        throw new DelayedError();
      }
      // Recorded before the failure, so whoever waits for the job reads both of its messages. A
      // last attempt drops the bytes and a chat file's link: a failed job is kept a week for
      // `fleet status`, and a Discord link lets whoever holds it download the file.
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const recorded = { code: error.code, message: error.message, ...(error.publicMessage === undefined ? {} : { publicMessage: publicMessageOf(error) }) };
      const { file: _file, ...withoutFile } = job.data;
      await job.updateData(last ? { ...withoutFile, bytes: '', failure: recorded } : { ...job.data, failure: recorded }).catch(() => undefined);
      // A job failed once, not once per attempt, for the registry's and the metrics' counts.
      ended(last ? 'failed' : 'retried');
      throw new Error(reasonOf(error));
    }
  }

  /**
   * Downloads (a chat upload queued by reference) and indexes a job's image, as the fleet's
   * share marks say (see share-marks.ts): not at all when its message, file or conversation was
   * deleted, and with its conversation's marked privacy. Looked at again after the write: a
   * replica marks an update before applying it, so an update not seen then was applied after
   * this write, and one seen is applied here too (applying it twice changes nothing), so a
   * deleted image never comes back and a private one never shows elsewhere. A Redis or store
   * failure throws a transient error: the job is tried again.
   */
  async #indexWithMarks(queued: ImageToIndex, job: Job<IndexJobData, IndexJobResult>): Promise<IndexJobResult> {
    const { share } = queued;
    // A failed download fails the job like a bad image: its reason reaches the uploader.
    if (this.#marks === undefined || share === undefined) return this.#indexer.index(await withBytes(queued, this.#remoteFiles));
    const { marks, store } = this.#marks;
    const fields = { jobId: job.id, filename: queued.filename, conversation: share.conversation };
    const before = await marks.about(queued);
    if (before.removedBy !== undefined) {
      // Applied here too: an earlier run of this job (its worker killed after its write, before
      // its second look) may have written the image after the replica applied the deletion.
      await applyShareUpdate(store, before.removedBy);
      this.#logger.info({ ...fields, removedBy: before.removedBy.kind }, 'index job withdrawn: its message, file or conversation was deleted');
      return { status: 'withdrawn' };
    }
    // The job's time stands in for when the upload's privacy was looked up (flagWithMarks()).
    const isPublic = flagWithMarks(share.isPublic, before.visibility, job.timestamp);
    const image = await withBytes(isPublic === share.isPublic ? queued : { ...queued, share: { ...share, isPublic } }, this.#remoteFiles);
    const result = await this.#indexer.index(image);
    const after = await marks.about(queued);
    if (after.removedBy !== undefined) {
      await applyShareUpdate(store, after.removedBy);
      this.#logger.info({ ...fields, removedBy: after.removedBy.kind }, 'index job withdrawn: its message, file or conversation was deleted while it was written');
      return { status: 'withdrawn' };
    }
    const nowPublic = flagWithMarks(isPublic, after.visibility, job.timestamp);
    if (nowPublic !== isPublic) {
      await applyShareUpdate(store, { kind: 'conversation_visibility_changed', tenant: queued.tenant, conversation: share.conversation, isPublic: nowPublic });
      this.#logger.info({ ...fields, isPublic: nowPublic }, 'conversation privacy changed while an image of it was written; applied again');
    }
    return result;
  }
}
