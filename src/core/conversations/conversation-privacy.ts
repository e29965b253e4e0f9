// Keeps whether a conversation's images count as public in step with its platform: when a chat
// platform says a conversation was made private (or public), every share in it gets the new
// flag, so the images stop (or start) showing in the tenant's other conversations. Platform-free:
// the bots translate their events (a Slack channel converted, a Discord overwrite or role
// changed) into one call here.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { asFindimageError, isTransient } from '../errors.js';
import type { UploadOutcome, UploadQueue } from '../indexing/upload-queue.js';
import type { VectorStore } from '../store/vector-store.js';

/**
 * Tries in all for one change while the store fails transiently (Qdrant restarting, the
 * embedded store busy). With PRIVACY_RETRY_DELAY_MS doubling, the waits add up to 31 s: the
 * change still lands within the minute a privacy change must take, and a longer outage is
 * logged as an error rather than retried for ever in memory.
 */
export const PRIVACY_ATTEMPTS = 6;

/** First wait before retrying a transient failure; doubled after each try. */
export const PRIVACY_RETRY_DELAY_MS = 1_000;

/**
 * Changes remembered for uploads still in the queue, which carry the flag their conversation had
 * when they were shared. The queue drains in seconds to minutes, so the last thousand changes
 * cover any burst between a change and the indexing of what was shared just before it.
 */
export const RECENT_CHANGES_KEPT = 1_000;

export interface ConversationPrivacyOptions {
  /** Where the shares' flags are changed. */
  store: Pick<VectorStore, 'setSharesPublic'>;
  /** Where each change that changed shares, each retry and each give-up is logged. */
  logger: Logger;
  /** Tries in all while the store fails transiently (default PRIVACY_ATTEMPTS). */
  attempts?: number;
  /** First wait between tries, doubled each time (default PRIVACY_RETRY_DELAY_MS). */
  retryDelayMs?: number;
}

export class ConversationPrivacy {
  readonly #store: Pick<VectorStore, 'setSharesPublic'>;
  readonly #logger: Logger;
  readonly #attempts: number;
  readonly #retryDelayMs: number;
  /** The latest flag the platform gave each recently changed conversation, oldest first. */
  readonly #latest = new Map<string, boolean>();
  /** The change in flight per conversation: changes of one conversation apply one after another. */
  readonly #running = new Map<string, Promise<number>>();
  /** Aborted by close(): waits between retries end, and no further try is made. */
  readonly #closing = new AbortController();

  constructor(options: ConversationPrivacyOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#attempts = options.attempts ?? PRIVACY_ATTEMPTS;
    this.#retryDelayMs = options.retryDelayMs ?? PRIVACY_RETRY_DELAY_MS;
  }

  /**
   * The platform says `conversation` of `tenant` is now public (every member of the tenant can
   * read it) or not: every share in it takes that flag. Resolves to how many shares changed.
   * Transient store failures are retried (PRIVACY_ATTEMPTS); a later change of the same
   * conversation waits for this one, and each try applies the latest flag heard, so two quick
   * changes (private, then public again) end in the last one whatever the store did meanwhile.
   * Rejects with the store's error once the tries run out or the error is not transient.
   */
  async visibilityChanged(tenant: string, conversation: string, isPublic: boolean): Promise<number> {
    const key = conversationKey(tenant, conversation);
    this.#remember(key, isPublic);
    const before = this.#running.get(key) ?? Promise.resolve(0);
    const run = before.catch(() => 0).then(() => this.#apply(tenant, conversation, key));
    this.#running.set(key, run);
    try {
      return await run;
    } finally {
      if (this.#running.get(key) === run) this.#running.delete(key);
    }
  }

  /**
   * Follows the upload queue: an upload shared before its conversation changed, and indexed
   * after, carries the old flag; its conversation's latest flag is applied again. Returns the
   * unsubscribe function.
   */
  follow(uploads: Pick<UploadQueue, 'onOutcome'>): () => void {
    return uploads.onOutcome((outcome) => void this.recheck(outcome));
  }

  /**
   * Applies a conversation's latest flag again when an upload finished with another one (see
   * follow()). Resolves to whether it did; never rejects (a failure is logged).
   */
  async recheck(outcome: UploadOutcome): Promise<boolean> {
    if (outcome.status === 'rejected') return false;
    const { tenant, share } = outcome.image;
    if (share === undefined) return false;
    const latest = this.#latest.get(conversationKey(tenant, share.conversation));
    if (latest === undefined || latest === share.isPublic) return false;
    try {
      await this.visibilityChanged(tenant, share.conversation, latest);
      this.#logger.info({ tenant, conversation: share.conversation, isPublic: latest, jobId: outcome.jobId }, 'an upload finished after its conversation changed privacy; applied the change again');
      return true;
    } catch (error) {
      this.#logger.error({ err: error, tenant, conversation: share.conversation, jobId: outcome.jobId }, 'could not apply a privacy change to an upload that finished after it');
      return false;
    }
  }

  /**
   * Stops retrying: a change waiting between tries rejects with its last failure at once, so
   * shutting down is not held up for the rest of the retry schedule (the store is about to close).
   */
  close(): void {
    this.#closing.abort();
  }

  async #apply(tenant: string, conversation: string, key: string): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const isPublic = this.#latest.get(key) ?? false;
      try {
        const changed = await this.#store.setSharesPublic(tenant, conversation, isPublic);
        if (changed > 0) {
          this.#logger.info({ tenant, conversation, isPublic, sharesChanged: changed }, isPublic ? 'conversation made public; its images show in other conversations' : 'conversation made private; its images show only inside it');
        } else {
          // A re-evaluation (a role change walks every channel) mostly finds nothing to change.
          this.#logger.debug({ tenant, conversation, isPublic, sharesChanged: 0 }, 'conversation privacy checked; no share needed changing');
        }
        return changed;
      } catch (error) {
        const failure = asFindimageError(error);
        if (!isTransient(failure) || attempt >= this.#attempts) throw failure;
        if (this.#closing.signal.aborted) throw failure;
        const delayMs = this.#retryDelayMs * 2 ** (attempt - 1);
        this.#logger.warn({ tenant, conversation, isPublic, attempt, delayMs, code: failure.code }, 'could not change whether a conversation is public yet; retrying');
        try {
          await sleep(delayMs, undefined, { signal: this.#closing.signal });
        } catch {
          this.#logger.warn({ tenant, conversation, isPublic, attempt, code: failure.code }, 'shutting down: a privacy change that could not be applied yet is not retried');
          throw failure;
        }
      }
    }
  }

  #remember(key: string, isPublic: boolean): void {
    this.#latest.delete(key);
    this.#latest.set(key, isPublic);
    if (this.#latest.size > RECENT_CHANGES_KEPT) {
      const oldest = this.#latest.keys().next().value;
      if (oldest !== undefined) this.#latest.delete(oldest);
    }
  }
}

function conversationKey(tenant: string, conversation: string): string {
  return JSON.stringify([tenant, conversation]);
}
