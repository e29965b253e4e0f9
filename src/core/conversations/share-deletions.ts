// Keeps the index in step with deletions on a chat platform: a deleted message, file or
// conversation takes its shares off the images it shared, and an image goes when its last share
// goes. Uploads still waiting in the queue at the time are caught when they finish.
import type { Logger } from 'pino';
import type { ShareFilter, SharesRemoved, VectorStore } from '../store/vector-store.js';

/** What a queued upload knew about where it came from (enough to tell if it was deleted). */
export interface UploadOrigin {
  /** Tenant of the upload. */
  tenant: string;
  /** Conversation the file was shared in. */
  conversation?: string;
  /** Platform message id of the share. */
  messageId?: string;
  /** Platform file or attachment id. */
  fileId?: string;
}

export interface ShareDeletionsOptions {
  store: Pick<VectorStore, 'removeShares'>;
  logger: Logger;
}

/**
 * Deletions remembered for uploads still in the queue. The queue normally drains in seconds to
 * minutes, so the last thousand deletions cover any burst between a delete and its indexing.
 */
export const RECENT_DELETIONS_KEPT = 1_000;

export class ShareDeletions {
  readonly #store: Pick<VectorStore, 'removeShares'>;
  readonly #logger: Logger;
  /** Keys of recent deletions, oldest first (a Set keeps insertion order). */
  readonly #recent = new Set<string>();

  constructor(options: ShareDeletionsOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
  }

  /** A message was deleted (or lost its attachments): its shares leave the index. */
  async messageDeleted(tenant: string, conversation: string, messageId: string): Promise<SharesRemoved> {
    this.#remember(messageKey(tenant, conversation, messageId));
    return this.#remove(tenant, { conversations: [conversation], messageId }, 'message deleted');
  }

  /**
   * A message's shares are about to be replaced (an edit whose previous attachments are unknown):
   * its shares leave the index, but the message is not remembered as deleted, so the uploads
   * queued again for it stay indexed when they finish.
   */
  async messageReplaced(tenant: string, conversation: string, messageId: string): Promise<SharesRemoved> {
    return this.#remove(tenant, { conversations: [conversation], messageId }, 'message edited');
  }

  /** A file was deleted: its shares leave the index, wherever it was shared. */
  async fileDeleted(tenant: string, fileId: string): Promise<SharesRemoved> {
    this.#remember(fileKey(tenant, fileId));
    return this.#remove(tenant, { fileId }, 'file deleted');
  }

  /** A conversation was deleted: every share in it leaves the index. */
  async conversationDeleted(tenant: string, conversation: string): Promise<SharesRemoved> {
    this.#remember(conversationKey(tenant, conversation));
    return this.#remove(tenant, { conversations: [conversation] }, 'conversation deleted');
  }

  /**
   * Called when an upload finished indexing: if its message, file or conversation was deleted
   * meanwhile, the share is taken off again. Resolves to whether it was.
   */
  async recheck(origin: UploadOrigin): Promise<boolean> {
    const { tenant, conversation, messageId, fileId } = origin;
    const filters: ShareFilter[] = [];
    if (conversation !== undefined && messageId !== undefined && this.#recent.has(messageKey(tenant, conversation, messageId))) {
      filters.push({ conversations: [conversation], messageId });
    }
    if (conversation !== undefined && this.#recent.has(conversationKey(tenant, conversation))) filters.push({ conversations: [conversation] });
    if (fileId !== undefined && this.#recent.has(fileKey(tenant, fileId))) filters.push({ fileId });
    if (filters.length === 0) return false;
    for (const share of filters) await this.#store.removeShares({ tenant, share });
    this.#logger.info({ ...origin }, 'an upload finished after its message, file or conversation was deleted; removed it again');
    return true;
  }

  async #remove(tenant: string, share: ShareFilter, what: string): Promise<SharesRemoved> {
    const removed = await this.#store.removeShares({ tenant, share });
    this.#logger.info({ tenant, ...share, sharesRemoved: removed.shares, imagesRemoved: removed.points }, `${what}; its shares left the index`);
    return removed;
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

function messageKey(tenant: string, conversation: string, messageId: string): string {
  return JSON.stringify(['m', tenant, conversation, messageId]);
}

function fileKey(tenant: string, fileId: string): string {
  return JSON.stringify(['f', tenant, fileId]);
}

function conversationKey(tenant: string, conversation: string): string {
  return JSON.stringify(['c', tenant, conversation]);
}
