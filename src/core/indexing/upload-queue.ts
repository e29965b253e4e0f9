// UploadQueue: nothing a user shared is lost, and nothing deleted comes back. An upload is
// written to a local SQLite queue before it is acknowledged, then indexed in the background;
// transient failures (store down, worker crashed) are retried with backoff, permanent ones (not
// an image) are reported once. Many uploads are handed to the indexer at once, so their store
// lookups and writes go in batches; an upload leaves the queue only once its batch is
// acknowledged. Share updates (deletions, edits, privacy changes) are jobs of the same file,
// applied one at a time in the order recorded, retried while the store is down, and ordered with
// the uploads of the same message, file or conversation (share-update-runner.ts applies them).
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { describeShareUpdate, type ShareUpdate, type ShareUpdateStore } from '../conversations/share-updates.js';
import { FindimageError, StoreError, asFindimageError, isTransient } from '../errors.js';
import { openDatabase } from '../sqlite/open-database.js';
import { EmbedSlots } from './embed-slots.js';
import type { ImageIndexing, ImageToIndex, IndexResult } from './image-indexer.js';
import { queuedImageOf, type QueuedImage } from './queued-image.js';
import {
  AFTER_UPDATE_NOW_SQL,
  ShareUpdateJobs,
  UPLOAD_WITHDRAWN_SQL,
  createShareUpdateTables,
  type UploadColumns,
} from './share-update-jobs.js';
import { ShareUpdateRunner, type ShareUpdateStats } from './share-update-runner.js';

/** What became of one queued upload. */
export type UploadOutcome =
  | { status: 'indexed' | 'duplicate'; jobId: string; image: QueuedImage; result: IndexResult }
  /** Will never be indexed (bad image, or retries exhausted); `error.message` says why. */
  | { status: 'rejected'; jobId: string; image: QueuedImage; error: FindimageError }
  /** Not indexed: its message, file or conversation was deleted (or the message edited) after it was queued. */
  | { status: 'withdrawn'; jobId: string; image: QueuedImage };

export type { QueuedImage } from './queued-image.js';

export interface UploadQueueOptions {
  /** SQLite file of the queue (under FINDIMAGE_DATA). */
  path: string;
  /** Decodes, embeds and writes each upload (in batches): ImageIndexer here, or the fleet's queue. */
  indexer: ImageIndexing;
  /** The store share updates are applied to; without it, recordShareUpdate() throws. */
  store?: ShareUpdateStore;
  /** Where retried, rejected and withdrawn uploads and applied share updates are logged. */
  logger: Logger;
  /** First retry delay (uploads and share updates); doubles each attempt up to maxRetryDelayMs. */
  retryDelayMs?: number;
  /** Longest delay between two tries. Default 5 minutes. */
  maxRetryDelayMs?: number;
  /** Attempts before a transient failure becomes a rejection. */
  maxAttempts?: number;
  /** Uploads decoded and embedded at once (decoding overlaps inference). */
  concurrency?: number;
  /**
   * Uploads handed to the indexer at once, their bytes in memory: those being decoded and
   * embedded, those waiting for that, and those whose batch write is on its way. Default: the
   * indexer's batch size times its batches in flight, plus `concurrency`, so that batches fill.
   */
  held?: number;
  /**
   * Awaited just before each try at applying a share update to the store. A fleet marks the
   * update in Redis here, so that workers on other machines withdraw or correct uploads of its
   * target. When it fails (Redis away) the update is applied all the same and then tried again,
   * hook first, with backoff, until the hook succeeds.
   */
  beforeShareUpdate?: (update: ShareUpdate) => Promise<void>;
}

/** Default attempts: with 1 s doubling to 5 min, about 6 hours of an unreachable store. */
const DEFAULT_MAX_ATTEMPTS = 80;
const DEFAULT_RETRY_DELAY_MS = 1_000;
const DEFAULT_MAX_RETRY_DELAY_MS = 5 * 60_000;
const DEFAULT_CONCURRENCY = 4;

interface JobRow extends UploadColumns {
  id: string;
  metadata: string;
  bytes: Buffer;
  attempts: number;
  /** 1 when a share update recorded after it (or withdrawing later uploads) is about it. */
  withdrawn: number;
}

/**
 * The durable queue of uploads and share updates of one model's index (see the top of this file).
 * Open one per queue file; stop() before closing the store it writes to.
 */
export class UploadQueue {
  readonly #db: Database.Database;
  readonly #indexer: ImageIndexing;
  readonly #store: ShareUpdateStore | undefined;
  readonly #updates: ShareUpdateJobs;
  readonly #runner: ShareUpdateRunner;
  readonly #logger: Logger;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #maxAttempts: number;
  readonly #held: number;
  readonly #embedSlots: EmbedSlots;
  readonly #listeners = new Set<(outcome: UploadOutcome) => void>();
  /** Uploads being indexed, each with the newest share-update seq when it was picked. */
  readonly #running = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];
  /** stop() calls waiting for the running uploads and share update to end. */
  #stopWaiters: Array<() => void> = [];
  /** Uploads stored whose rows are deleted together at the end of this event loop turn. */
  #finishing: string[] = [];
  #finished: Promise<void> = Promise.resolve();

  constructor(options: UploadQueueOptions) {
    try {
      this.#db = openDatabase(options.path, { what: 'upload queue' });
    } catch (error) {
      if (error instanceof FindimageError) throw error;
      throw new StoreError(
        'store_unwritable',
        `Cannot open the upload queue at ${options.path}. Set FINDIMAGE_DATA to a folder findimage can write to.`,
        { cause: error },
      );
    }
    this.#db.exec(`CREATE TABLE IF NOT EXISTS uploads (
      id TEXT PRIMARY KEY,
      metadata TEXT NOT NULL,
      bytes BLOB NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      last_error TEXT
    )`);
    createShareUpdateTables(this.#db);
    this.#updates = new ShareUpdateJobs(this.#db);
    this.#store = options.store;
    this.#indexer = options.indexer;
    this.#logger = options.logger;
    this.#retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#embedSlots = new EmbedSlots(concurrency);
    const { size, inFlight } = options.indexer.batching;
    this.#held = options.held ?? size * inFlight + concurrency;
    this.#runner = new ShareUpdateRunner({
      updates: this.#updates,
      store: this.#store,
      logger: this.#logger,
      retryDelayMs: this.#retryDelayMs,
      maxRetryDelayMs: this.#maxRetryDelayMs,
      onSettled: () => this.#ended(undefined),
      beforeApply: options.beforeShareUpdate,
    });
  }

  /** Calls `listener` with every outcome; returns a function that unsubscribes. */
  onOutcome(listener: (outcome: UploadOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Stores the upload durably and schedules it. Returns the job id once the upload is on disk
   * (the insert is synchronous): from then on it survives a crash and is indexed or reported.
   */
  enqueue(image: ImageToIndex): string {
    const { bytes, ...metadata } = image;
    const id = crypto.randomUUID();
    const stored = { ...metadata, createdAt: (image.createdAt ?? new Date()).toISOString() };
    const { share } = image;
    // An edit of this message still to be applied goes first: this upload waits for it.
    const waitsFor = this.#updates.pendingAbout({ tenant: image.tenant, conversation: share?.conversation, messageId: share?.messageId, fileId: share?.fileId });
    this.#db
      .prepare(
        `INSERT INTO uploads (id, metadata, bytes, next_attempt_at, tenant, conversation, message_id, file_id, after_update, waits_for)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${AFTER_UPDATE_NOW_SQL}, ?)`,
      )
      .run(
        id,
        JSON.stringify(stored),
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        0,
        image.tenant,
        share?.conversation ?? null,
        share?.messageId ?? null,
        share?.fileId ?? null,
        waitsFor,
      );
    this.#schedule(0);
    return id;
  }

  /**
   * Stores a share update (a deletion, an edit, a privacy change) durably and schedules it;
   * returns once it is on disk, so a platform event can be acknowledged then. It is applied after
   * the updates recorded before it, once no upload it is about that started before it is still
   * being indexed (ShareUpdateRunner.startIfDue()), and retried for
   * as long as the store is down, across restarts. Uploads it is about that were queued before it
   * are withdrawn, and those queued after it withdrawn or held, as its kind says (uploadRuleOf());
   * a privacy change holds none back: uploads of its conversation queued before it are written
   * with its flag (ShareUpdateRunner.withLatestVisibility()).
   */
  recordShareUpdate(update: ShareUpdate): void {
    if (this.#store === undefined) throw new FindimageError('internal', 'This upload queue was opened without a store, so it cannot apply deletions.');
    const seq = this.#updates.record(update);
    this.#logger.info({ seq, ...update }, `${describeShareUpdate(update)}; recorded, to be applied to the index`);
    this.#schedule(0);
  }

  /** Share updates recorded and not yet applied. */
  pendingShareUpdates(): number {
    return this.#runner.stats().pending;
  }

  /** Share updates pending, and stuck (failing for long, holding every later one), for /metrics. */
  shareUpdateStats(): ShareUpdateStats {
    return this.#runner.stats();
  }

  /** Uploads waiting or being indexed. */
  pending(): number {
    const row = this.#db.prepare('SELECT COUNT(*) AS n FROM uploads').get() as { n: number };
    return row.n;
  }

  /** Starts processing what an earlier run left in the queue. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Resolves when nothing is due now and nothing is running (used by tests and the CLI). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Nothing running (no upload, no share update being applied) and nothing due now. */
  #isIdle(): boolean {
    return this.#running.size === 0 && !this.#runner.updating && !this.#hasDueJobs();
  }

  /**
   * Stops scheduling; uploads being decoded or written finish, those still waiting to be decoded
   * are given up on (not waited for), and every upload not stored stays on disk for the next start.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#embedSlots.close(new FindimageError('aborted', 'The upload queue stopped before this upload was indexed; it stays queued.'));
    if (this.#running.size > 0 || this.#runner.updating) await new Promise<void>((resolve) => this.#stopWaiters.push(resolve));
    this.#db.close();
  }

  /** An upload (`id`) or the share update being applied (undefined) is done with: pump, or let stop() close. */
  #ended(id: string | undefined): void {
    if (id !== undefined) this.#running.delete(id);
    if (!this.#stopped) {
      this.#schedule(0);
      return;
    }
    if (this.#running.size > 0 || this.#runner.updating) return;
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #hasDueJobs(): boolean {
    const now = Date.now();
    const update = this.#runner.nextDueAt();
    if (update !== null && update <= now) return true;
    return this.#db.prepare('SELECT 1 FROM uploads WHERE next_attempt_at <= ? AND waits_for IS NULL LIMIT 1').get(now) !== undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#pump(), delayMs);
    this.#timer.unref();
  }

  #pump(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    this.#runner.startIfDue(this.#running);
    const free = this.#held - this.#running.size;
    if (free > 0) {
      // Read in the same synchronous turn as the pick: an update recorded later than this seq
      // does not wait for these uploads (they saw it when picked).
      const seqAtPick = (this.#db.prepare(`SELECT ${AFTER_UPDATE_NOW_SQL} AS seq`).get() as { seq: number }).seq;
      const placeholders = [...this.#running.keys()].map(() => '?').join(',');
      const notRunning = placeholders === '' ? '' : `AND id NOT IN (${placeholders})`;
      // Whether an upload is withdrawn is asked of the rows picked only (the outer query), not of
      // every row the inner one sorts.
      const rows = this.#db
        .prepare(
          `SELECT id, metadata, bytes, attempts, tenant, conversation, message_id, file_id, after_update, ${UPLOAD_WITHDRAWN_SQL} AS withdrawn FROM (
             SELECT id, metadata, bytes, attempts, tenant, conversation, message_id, file_id, after_update FROM uploads
             WHERE next_attempt_at <= ? AND waits_for IS NULL ${notRunning} ORDER BY next_attempt_at, rowid LIMIT ?) u`,
        )
        .all(Date.now(), ...this.#running.keys(), free) as JobRow[];
      for (const row of rows) void this.#run(row, seqAtPick);
    }
    this.#scheduleNextDue();
    this.#notifyIfIdle();
  }

  #scheduleNextDue(): void {
    const next = this.#db.prepare('SELECT MIN(next_attempt_at) AS at FROM uploads WHERE waits_for IS NULL').get() as { at: number | null };
    const upload = this.#running.size < this.#held ? next.at : null;
    // An update waiting for uploads being indexed is started when they finish, not polled.
    const update = this.#runner.nextDueAt();
    const at = upload === null ? update : update === null ? upload : Math.min(upload, update);
    if (at !== null) this.#schedule(Math.max(0, at - Date.now()));
  }

  async #run(row: JobRow, seqAtPick: number): Promise<void> {
    this.#running.set(row.id, seqAtPick);
    let image: QueuedImage;
    try {
      image = queuedImageOf(row.metadata);
    } catch (error) {
      // A row no findimage could have written (edited by hand, a damaged file): it names no
      // upload to report to, so it is logged in full and dropped, never retried on every start.
      this.#logger.error({ err: error, jobId: row.id, metadata: row.metadata.slice(0, 500) }, 'dropped a queued upload whose record cannot be read');
      this.#finish(row.id);
      this.#ended(row.id);
      return;
    }
    this.#runner.withLatestVisibility(row, image);
    if (row.withdrawn === 1) {
      this.#finish(row.id);
      this.#logger.info({ jobId: row.id, filename: image.filename }, 'upload withdrawn: its message, file or conversation was deleted or edited after it was queued');
      this.#emit({ status: 'withdrawn', jobId: row.id, image });
      this.#ended(row.id);
      return;
    }
    try {
      // Resolves only once the upload's batch is acknowledged by the store: until then its row
      // stays on disk, so a crash or an outage mid-batch loses nothing.
      const result = await this.#indexer.index({ ...image, bytes: new Uint8Array(row.bytes) }, { embedSlots: this.#embedSlots, jobId: row.id });
      await this.#finishWithBatch(row.id);
      if (this.#updates.withdraws(row)) {
        // A deletion came while it was being written: it waited for this write and takes the
        // image off next, so the uploader is not told it was indexed.
        this.#logger.info({ jobId: row.id, filename: image.filename }, 'upload withdrawn: its message, file or conversation was deleted while it was being indexed');
        this.#emit({ status: 'withdrawn', jobId: row.id, image });
      } else {
        this.#emit({ status: result.status, jobId: row.id, image, result });
      }
    } catch (thrown) {
      const error = asFindimageError(thrown);
      if (error.code === 'upload_withdrawn') {
        // A fleet worker found its message, file or conversation deleted by another replica.
        this.#finish(row.id);
        this.#logger.info({ jobId: row.id, filename: image.filename }, 'upload withdrawn: its message, file or conversation was deleted before it was indexed');
        this.#emit({ status: 'withdrawn', jobId: row.id, image });
        return;
      }
      const attempts = row.attempts + 1;
      // A failure that may pass keeps the upload queued, also when it came from stopping (the
      // store or the workers closing under it): the next start retries it.
      const mayPass = isTransient(error) || (this.#stopped && error.code === 'aborted');
      if (mayPass && (attempts < this.#maxAttempts || this.#stopped)) {
        const delay = Math.min(this.#retryDelayMs * 2 ** (attempts - 1), this.#maxRetryDelayMs);
        this.#db
          .prepare('UPDATE uploads SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?')
          .run(attempts, Date.now() + delay, error.message, row.id);
        this.#logger.warn({ jobId: row.id, code: error.code, attempts, retryInMs: delay }, 'upload will be retried');
      } else {
        this.#finish(row.id);
        this.#logger.info({ jobId: row.id, code: error.code, filename: image.filename }, 'upload rejected');
        this.#emit({ status: 'rejected', jobId: row.id, image, error });
      }
    } finally {
      this.#ended(row.id);
    }
  }

  /**
   * Deletes the row of an upload now stored, together with those of every other upload whose
   * batch was acknowledged in the same turn of the event loop: one transaction, one fsync, for
   * a whole batch. Resolves once the rows are gone; the job is still running until then.
   */
  #finishWithBatch(id: string): Promise<void> {
    this.#finishing.push(id);
    if (this.#finishing.length === 1) {
      this.#finished = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          const ids = this.#finishing;
          this.#finishing = [];
          try {
            this.#deleteRows(ids);
            resolve();
          } catch (error) {
            reject(error);
          }
        });
      });
    }
    return this.#finished;
  }

  /** stop() waits for running jobs before closing the database, so it is open here. */
  #finish(id: string): void {
    this.#db.prepare('DELETE FROM uploads WHERE id = ?').run(id);
  }

  #deleteRows(ids: readonly string[]): void {
    const remove = this.#db.prepare('DELETE FROM uploads WHERE id = ?');
    this.#db.transaction(() => {
      for (const id of ids) remove.run(id);
    })();
  }

  #emit(outcome: UploadOutcome): void {
    for (const listener of this.#listeners) {
      try {
        listener(outcome);
      } catch (error) {
        this.#logger.error({ err: error }, 'upload outcome listener failed');
      }
    }
  }

  #notifyIfIdle(): void {
    // A share update being applied is not due (nextDueAt() is null meanwhile): idle waits for it too.
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
