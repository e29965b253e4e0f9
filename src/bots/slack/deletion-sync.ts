// Keeps the index in step with deletions in Slack: a deleted message or file takes its images
// out of the index, even when the upload was still waiting in the queue at the time.
import type { Logger } from 'pino';
import type { VectorStore } from '../../core/store/vector-store.js';

/** What a queued upload knew about where it came from (enough to tell if it was deleted). */
export interface UploadOrigin {
  /** Team id. */
  tenant: string;
  /** Channel the file was shared in. */
  channel?: string;
  /** ts of the message that shared it. */
  messageId?: string;
  /** Slack file id. */
  fileId?: string;
}

export interface DeletionSyncOptions {
  store: Pick<VectorStore, 'deleteByFilter'>;
  logger: Logger;
}

/**
 * Deletions remembered for uploads still in the queue. The queue normally drains in seconds to
 * minutes, so the last thousand deletions cover any burst between a delete and its indexing.
 */
export const RECENT_DELETIONS_KEPT = 1_000;

export class DeletionSync {
  readonly #store: Pick<VectorStore, 'deleteByFilter'>;
  readonly #logger: Logger;
  /** Keys of recent deletions, oldest first (a Set keeps insertion order). */
  readonly #recent = new Set<string>();

  constructor(options: DeletionSyncOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
  }

  /** A message was deleted: removes the images it shared. Resolves to how many were removed. */
  async messageDeleted(tenant: string, channel: string, ts: string): Promise<number> {
    this.#remember(`m:${tenant}:${channel}:${ts}`);
    const removed = await this.#store.deleteByFilter({ tenant, channels: [channel], messageId: ts });
    this.#logger.info({ tenant, channel, ts, removed }, 'message deleted; its images left the index');
    return removed;
  }

  /** A file was deleted: removes its image. Resolves to how many were removed. */
  async fileDeleted(tenant: string, fileId: string): Promise<number> {
    this.#remember(`f:${tenant}:${fileId}`);
    const removed = await this.#store.deleteByFilter({ tenant, fileId });
    this.#logger.info({ tenant, fileId, removed }, 'file deleted; its image left the index');
    return removed;
  }

  /**
   * Called when an upload finished indexing: if its message or file was deleted meanwhile, the
   * new point is removed again. Resolves to whether it was.
   */
  async recheck(origin: UploadOrigin): Promise<boolean> {
    const byMessage =
      origin.channel !== undefined && origin.messageId !== undefined
        ? this.#recent.has(`m:${origin.tenant}:${origin.channel}:${origin.messageId}`)
        : false;
    const byFile = origin.fileId !== undefined && this.#recent.has(`f:${origin.tenant}:${origin.fileId}`);
    if (!byMessage && !byFile) return false;
    if (byFile && origin.fileId !== undefined) await this.#store.deleteByFilter({ tenant: origin.tenant, fileId: origin.fileId });
    if (byMessage && origin.channel !== undefined && origin.messageId !== undefined) {
      await this.#store.deleteByFilter({ tenant: origin.tenant, channels: [origin.channel], messageId: origin.messageId });
    }
    this.#logger.info({ ...origin }, 'an upload finished after its message or file was deleted; removed it again');
    return true;
  }

  #remember(key: string): void {
    this.#recent.delete(key);
    this.#recent.add(key);
    if (this.#recent.size > RECENT_DELETIONS_KEPT) {
      const oldest = this.#recent.values().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }
}
