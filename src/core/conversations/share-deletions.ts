// Keeps the index in step with deletions on a chat platform: a deleted message, file or
// conversation takes its shares off the images it shared, and an image goes when its last share
// goes. Each deletion is recorded in the durable upload queue before the call returns, and the
// queue applies it, in order with the uploads of the same message, file or conversation, once
// the store can take it: also after an outage and a restart (see share-updates.ts).
import type { ShareUpdate } from './share-updates.js';

/** Where deletions are recorded: the upload queue (UploadQueue.recordShareUpdate). */
export interface ShareUpdateJournal {
  /** Stores `update` durably and schedules it; returns once it is on disk. */
  recordShareUpdate(update: ShareUpdate): void;
}

export interface ShareDeletionsOptions {
  /** The durable queue that applies the deletions. */
  queue: ShareUpdateJournal;
}

/**
 * The deletions a chat adapter reports. Each method returns once the deletion is on disk, so the
 * platform's event can be acknowledged then; it throws only when it could not be recorded (the
 * adapter logs that). Uploads of the deleted thing still queued, or queued later (a download
 * that was under way), are withdrawn by the queue rather than indexed.
 */
export class ShareDeletions {
  readonly #queue: ShareUpdateJournal;

  constructor(options: ShareDeletionsOptions) {
    this.#queue = options.queue;
  }

  /** A message was deleted (or lost its attachments): its shares leave the index. */
  messageDeleted(tenant: string, conversation: string, messageId: string): void {
    this.#record({ kind: 'message_deleted', tenant, conversation, messageId });
  }

  /**
   * A message's shares are about to be replaced (an edit whose previous attachments are unknown):
   * its shares leave the index, and the uploads queued for it after this call are indexed after
   * that, so they stay.
   */
  messageReplaced(tenant: string, conversation: string, messageId: string): void {
    this.#record({ kind: 'message_replaced', tenant, conversation, messageId });
  }

  /** A file was deleted: its shares leave the index, wherever it was shared. */
  fileDeleted(tenant: string, fileId: string): void {
    this.#record({ kind: 'file_deleted', tenant, fileId });
  }

  /** A conversation was deleted: every share in it leaves the index. */
  conversationDeleted(tenant: string, conversation: string): void {
    this.#record({ kind: 'conversation_deleted', tenant, conversation });
  }

  #record(update: ShareUpdate): void {
    this.#queue.recordShareUpdate(update);
  }
}
