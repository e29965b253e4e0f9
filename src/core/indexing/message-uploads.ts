// The uploads of one chat message, answered once: a bot queues each image of a message, and
// when the last of them has an outcome the adapter hears, once, every failure (at intake or in
// the queue) and whether anything was indexed, to post one reply and one reaction. Platform-free:
// the Slack and Discord intakes render and post; this keeps the count.
import type { Logger } from 'pino';
import type { FindimageError } from '../errors.js';
import type { UploadOutcome, UploadQueue } from './upload-queue.js';

/** One file of a message that will not be indexed. */
export interface UploadFailure {
  /** File name as uploaded. */
  filename: string;
  /** Why; its public message is what the uploader reads. */
  error: FindimageError;
}

/** What became of a message's files, once every one of them is done. */
export interface MessageSettlement {
  /** Files refused at intake or rejected by the queue, in the order they were refused. */
  failures: UploadFailure[];
  /** Whether any file was indexed (or was already indexed) and its message still stands. */
  indexed: boolean;
}

/** Told once per message, when it is settled; the adapter replies and reacts. */
export type SettlementListener = (settlement: MessageSettlement) => Promise<void>;

/**
 * One live message being taken in. Its intake reports each file (queued or refused) and then
 * closes it; the message is settled when it is closed and every queued job has an outcome.
 */
export class LiveMessage {
  readonly #onSettled: SettlementListener;
  readonly #onQueued: (jobId: string) => void;
  readonly #pending = new Set<string>();
  readonly #failures: UploadFailure[] = [];
  #indexed = false;
  #closed = false;
  #settled = false;

  /** Use MessageUploads.open(); `onQueued` maps each job to this message there. */
  constructor(onSettled: SettlementListener, onQueued: (jobId: string) => void) {
    this.#onSettled = onSettled;
    this.#onQueued = onQueued;
  }

  /**
   * A file was queued as `jobId`; its outcome counts toward this message. Call it right after
   * enqueueing, before any await, so a quick outcome is not missed.
   */
  queued(jobId: string): void {
    this.#pending.add(jobId);
    this.#onQueued(jobId);
  }

  /** A file was refused before it was queued (not downloadable, too large...). */
  refused(filename: string, error: FindimageError): void {
    this.#failures.push({ filename, error });
  }

  /**
   * Every file of the message has been reported: settles now when no job is pending, else when
   * the last one finishes. An outcome that came before this (a quick job while the next file was
   * still downloading) therefore never answers the message early or twice.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#settleIfDone();
  }

  /**
   * Called by MessageUploads with a queued job's outcome. A withdrawn job (its message deleted
   * or edited meanwhile) counts neither as indexed nor as a failure: there is nothing to tell.
   */
  async finished(outcome: UploadOutcome): Promise<void> {
    if (!this.#pending.delete(outcome.jobId)) return;
    if (outcome.status === 'rejected') this.#failures.push({ filename: outcome.image.filename, error: outcome.error });
    else if (outcome.status !== 'withdrawn') this.#indexed = true;
    await this.#settleIfDone();
  }

  async #settleIfDone(): Promise<void> {
    if (!this.#closed || this.#pending.size > 0 || this.#settled) return;
    this.#settled = true;
    await this.#onSettled({ failures: [...this.#failures], indexed: this.#indexed });
  }
}

export interface MessageUploadsOptions {
  /** The queue whose outcomes are followed. */
  uploads: Pick<UploadQueue, 'onOutcome'>;
  logger: Logger;
}

/**
 * A platform's live messages and tracked jobs, by job id. Live messages are those shared while
 * the bot runs; after a restart, outcomes of jobs queued before it are only logged.
 */
export class MessageUploads {
  readonly #uploads: Pick<UploadQueue, 'onOutcome'>;
  readonly #logger: Logger;
  readonly #live = new Map<string, LiveMessage>();
  readonly #waiters = new Map<string, (outcome: UploadOutcome) => void>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: MessageUploadsOptions) {
    this.#uploads = options.uploads;
    this.#logger = options.logger;
  }

  /** Starts following the queue's outcomes. */
  start(): void {
    this.#unsubscribe ??= this.#uploads.onOutcome((outcome) => void this.receive(outcome));
  }

  /** Stops following; queued uploads stay queued. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** A new live message; `onSettled` is called once, when it is closed and all its jobs are done. */
  open(onSettled: SettlementListener): LiveMessage {
    const message: LiveMessage = new LiveMessage(onSettled, (jobId) => this.#live.set(jobId, message));
    return message;
  }

  /** The outcome of `jobId`, for a caller that waits for it (a backfill's summary). Call before any await after queueing. */
  outcomeOf(jobId: string): Promise<UploadOutcome> {
    return new Promise<UploadOutcome>((resolve) => this.#waiters.set(jobId, resolve));
  }

  /** Handles one queue outcome (what start() subscribes); never throws. */
  async receive(outcome: UploadOutcome): Promise<void> {
    const waiter = this.#waiters.get(outcome.jobId);
    this.#waiters.delete(outcome.jobId);
    waiter?.(outcome);
    const live = this.#live.get(outcome.jobId);
    this.#live.delete(outcome.jobId);
    try {
      if (live === undefined) {
        this.#logger.info({ jobId: outcome.jobId, status: outcome.status, filename: outcome.image.filename }, 'queued upload finished');
        return;
      }
      await live.finished(outcome);
    } catch (error) {
      this.#logger.error({ err: error, jobId: outcome.jobId }, 'could not report an upload outcome');
    }
  }
}
