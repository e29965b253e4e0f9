// Applies the upload queue's share updates (deletions, edits, privacy changes) to the store, one
// at a time in the order recorded, each once the uploads of its target that started before it was
// recorded are written; retries while the store is down, says loudly when one keeps failing (every
// later update waits for it), and gives an upload its conversation's privacy changed since it was
// queued. The rows themselves are in share-update-jobs.ts; UploadQueue runs this beside its uploads.
import type { Logger } from 'pino';
import { applyShareUpdate, describeShareUpdate, shareUpdateOf, type ShareUpdate, type ShareUpdateStore } from '../conversations/share-updates.js';
import { asFindimageError, isTransient, type FindimageError } from '../errors.js';
import type { QueuedImage } from './queued-image.js';
import type { ShareUpdateJob, ShareUpdateJobs, UploadColumns } from './share-update-jobs.js';

/**
 * Failed tries after which an update counts as stuck: logged at error (code share_update_stuck)
 * on every further try and counted by stats(). With the default 1 s delay doubling to 5 min, that
 * is about 10 minutes of failing: longer than a store restart, short enough that deletions held
 * behind it are noticed the same hour.
 */
export const STUCK_AFTER_ATTEMPTS = 10;

/** Log code of an update that failed STUCK_AFTER_ATTEMPTS times or more. */
export const SHARE_UPDATE_STUCK = 'share_update_stuck';

/** Log code of an update whose outcome could not be written to the queue file (disk full, say). */
export const SHARE_UPDATE_UNRECORDED = 'share_update_unrecorded';

/** The share updates waiting, for an operator (/metrics). */
export interface ShareUpdateStats {
  /** Recorded and not yet applied. */
  pending: number;
  /** Of those, the ones failed STUCK_AFTER_ATTEMPTS times or more (0 or 1: the head holds the rest). */
  stuck: number;
}

export interface ShareUpdateRunnerOptions {
  /** The queue file's share-update rows. */
  updates: ShareUpdateJobs;
  /** The store updates are applied to; without it, none is started. */
  store: ShareUpdateStore | undefined;
  /** Where applied, retried, stuck and dropped updates are logged. */
  logger: Logger;
  /** First retry delay; doubles each attempt up to maxRetryDelayMs. */
  retryDelayMs: number;
  /** Longest delay between two tries of one update. */
  maxRetryDelayMs: number;
  /** Called when an update is done with (applied, retried later, or failed): the queue pumps again. */
  onSettled: () => void;
  /**
   * Awaited just before each try at applying an update (UploadQueueOptions.beforeShareUpdate).
   * When it fails the update is applied anyway but counts as a failed try, retried (hook, then
   * apply) with the same backoff whatever the error: it is never set aside for it.
   */
  beforeApply?: ((update: ShareUpdate) => Promise<void>) | undefined;
}

export class ShareUpdateRunner {
  readonly #updates: ShareUpdateJobs;
  readonly #store: ShareUpdateStore | undefined;
  readonly #logger: Logger;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #onSettled: () => void;
  readonly #beforeApply: ((update: ShareUpdate) => Promise<void>) | undefined;
  /** Whether an update is being applied (one at a time, in order). */
  #updating = false;
  /** Failures to write an outcome in a row: the pause before the next try doubles with them. */
  #unrecorded = 0;
  /** No update starts before this (ms since the epoch) after an outcome could not be written. */
  #pausedUntil = 0;

  constructor(options: ShareUpdateRunnerOptions) {
    this.#updates = options.updates;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#retryDelayMs = options.retryDelayMs;
    this.#maxRetryDelayMs = options.maxRetryDelayMs;
    this.#onSettled = options.onSettled;
    this.#beforeApply = options.beforeApply;
  }

  /** Whether an update is being applied now. */
  get updating(): boolean {
    return this.#updating;
  }

  /**
   * When the next update may start (ms since the epoch), or null when none waits or one is being
   * applied (its end pumps the queue again).
   */
  nextDueAt(): number | null {
    if (this.#updating) return null;
    const due = this.#updates.nextDueAt();
    return due === null ? null : Math.max(due, this.#pausedUntil);
  }

  /** Counts for an operator: pending updates, and the stuck ones among them. */
  stats(): ShareUpdateStats {
    return this.#updates.counts(STUCK_AFTER_ATTEMPTS);
  }

  /**
   * Starts applying the oldest share update when it is due and none is being applied, once no
   * upload of its target that started before it was recorded is still being indexed (that write
   * must land first, so that the update takes it off or changes its flag). `running`: the uploads
   * being indexed, each with the newest update seq when it was picked. Uploads picked after the
   * update was recorded are not waited for: they were withdrawn, or took the new flag, when picked;
   * waiting for them would hold the update (and every later one) for the target's whole backlog.
   */
  startIfDue(running: ReadonlyMap<string, number>): void {
    const store = this.#store;
    if (this.#updating || store === undefined || this.#pausedUntil > Date.now()) return;
    const head = this.#updates.head();
    if (head === undefined || head.nextAttemptAt > Date.now()) return;
    const startedBefore = [...running].filter(([, seqAtPick]) => seqAtPick < head.seq).map(([id]) => id);
    if (this.#updates.meetsAny(head.seq, startedBefore)) {
      this.#logger.debug({ seq: head.seq }, 'share update waits for an upload of its target being indexed');
      return;
    }
    this.#updating = true;
    this.#apply(head, store)
      .then(() => {
        this.#unrecorded = 0;
      })
      .catch((error: unknown) => {
        // The queue file refused the outcome (disk full, say): the update stays pending and is
        // tried again after a pause, so nothing is lost and the process does not die of an
        // unhandled rejection.
        this.#unrecorded++;
        const pauseMs = Math.min(this.#retryDelayMs * 2 ** Math.min(this.#unrecorded - 1, 30), this.#maxRetryDelayMs);
        this.#pausedUntil = Date.now() + pauseMs;
        this.#logger.error({ err: error, seq: head.seq, code: SHARE_UPDATE_UNRECORDED, retryInMs: pauseMs }, 'could not write a share update\'s outcome to the upload queue; it stays pending and is tried again');
      })
      .finally(() => {
        this.#updating = false;
        this.#onSettled();
      });
  }

  /**
   * Gives the upload's share its conversation's recorded privacy flag when that is newer than the
   * upload, or private. A change recorded after the upload was queued is news the upload's own
   * flag lacks (one recorded later still waits for this upload's write, since it started before).
   * A change recorded before it is not: the platform answered the upload's lookup afterwards, so
   * an old "public" record must not make a private upload public. A "private" record wins anyway
   * (fails closed): a lookup made just before a change was recorded may be stale.
   */
  withLatestVisibility(row: UploadColumns & { id: string }, image: QueuedImage): void {
    const { share } = image;
    if (share === undefined) return;
    const latest = this.#updates.latestVisibility(image.tenant, share.conversation);
    if (latest === undefined || latest.isPublic === share.isPublic) return;
    if (latest.isPublic && latest.seq <= row.after_update) return;
    image.share = { ...share, isPublic: latest.isPublic };
    this.#logger.debug({ jobId: row.id, conversation: share.conversation, isPublic: latest.isPublic }, 'upload takes its conversation\'s recorded privacy');
  }

  /** Applies `job`; throws only when its outcome cannot be written to the queue file. */
  async #apply(job: ShareUpdateJob, store: ShareUpdateStore): Promise<void> {
    let update: ShareUpdate;
    try {
      update = shareUpdateOf(job.job);
    } catch (error) {
      // A row no findimage could have written: applied as it stands it might remove far more than
      // meant, so it is logged in full and set aside (marked applied), never retried.
      this.#logger.error({ err: error, seq: job.seq, job: job.job.slice(0, 500) }, 'dropped a recorded share update that cannot be read');
      this.#updates.applied(job.seq);
      return;
    }
    let outcome: Awaited<ReturnType<typeof applyShareUpdate>>;
    try {
      // In a fleet: the update is marked in Redis before the store changes, so a worker that
      // misses the mark wrote before this apply (see src/core/fleet/share-marks.ts).
      await this.#beforeApply?.(update);
    } catch (thrown) {
      // Redis away, say. Applied all the same, so that a deleted or now private image stops
      // showing during the outage, but not done with: tried again whole (mark, then apply) until
      // the mark is set, whatever the error, since only an apply after the mark makes sure that
      // no worker's write outlives the update. One that keeps failing is logged as stuck.
      await applyShareUpdate(store, update).catch(() => undefined);
      this.#failed(job, update, asFindimageError(thrown), { mayBeSetAside: false });
      return;
    }
    try {
      outcome = await applyShareUpdate(store, update);
    } catch (thrown) {
      this.#failed(job, update, asFindimageError(thrown));
      return;
    }
    this.#updates.applied(job.seq);
    const fields = { ...update, seq: job.seq, ...outcome.counts };
    if (outcome.worthInfo) this.#logger.info(fields, outcome.message);
    else this.#logger.debug(fields, outcome.message);
  }

  #failed(job: ShareUpdateJob, update: ShareUpdate, error: FindimageError, options: { mayBeSetAside: boolean } = { mayBeSetAside: true }): void {
    const attempts = job.attempts + 1;
    // `aborted` (the store closing under it) is retried too, stopping or not: set aside, a
    // deletion would be lost; a stuck retry is logged at error instead.
    if (options.mayBeSetAside && !isTransient(error) && error.code !== 'aborted') {
      // The store refused it for good (its collection deleted, say): what it would change is
      // not there to find. Marked applied, so later uploads of a deleted message are still withdrawn.
      this.#updates.applied(job.seq);
      this.#logger.error({ err: error, seq: job.seq, ...update }, `${describeShareUpdate(update)}; the store refused the change, so it was set aside`);
      return;
    }
    // No attempt limit: an update is kept for as long as the store may come back, since giving up
    // would leave a deleted image findable, or a private one shown elsewhere. The delay stops
    // growing at the maximum; past STUCK_AFTER_ATTEMPTS each try is logged at error.
    const delay = Math.min(this.#retryDelayMs * 2 ** Math.min(attempts - 1, 30), this.#maxRetryDelayMs);
    this.#updates.retryAt(job.seq, attempts, Date.now() + delay, error.message);
    const fields = { seq: job.seq, kind: update.kind, errorCode: error.code, attempts, retryInMs: delay };
    if (attempts >= STUCK_AFTER_ATTEMPTS) {
      this.#logger.error(
        { ...fields, code: SHARE_UPDATE_STUCK, err: error },
        `${describeShareUpdate(update)}; keeps failing, and every deletion and privacy change recorded after it waits for it`,
      );
    } else {
      this.#logger.warn({ ...fields, code: error.code }, 'share update will be retried');
    }
  }
}
