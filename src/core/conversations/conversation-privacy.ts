// Keeps whether a conversation's images count as public in step with its platform: when a chat
// platform says a conversation was made private (or public), every share in it gets the new
// flag, so the images stop (or start) showing in the tenant's other conversations. Platform-free:
// the bots translate their events (a Slack channel converted, a Discord overwrite or role
// changed) into one call here. Each change is a job of the durable upload queue, recorded before
// the call returns and applied in order, retried while the store is down, across restarts; an
// upload queued before the change and written after it takes the new flag, and a recorded
// "private" wins over a later upload looked up as public (share-update-runner.ts).
import type { ShareUpdateJournal } from './share-deletions.js';

export interface ConversationPrivacyOptions {
  /** The durable queue that applies the changes (UploadQueue.recordShareUpdate). */
  queue: ShareUpdateJournal;
}

export class ConversationPrivacy {
  readonly #queue: ShareUpdateJournal;

  constructor(options: ConversationPrivacyOptions) {
    this.#queue = options.queue;
  }

  /**
   * The platform says `conversation` of `tenant` is now public (every member of the tenant can
   * read it) or not: every share in it takes that flag. Returns once the change is on disk, so the
   * platform's event can be acknowledged then; the queue applies it after the changes recorded
   * before it, so two quick changes (private, then public again) end in the last one. Throws only
   * when it could not be recorded (the adapter logs that).
   */
  visibilityChanged(tenant: string, conversation: string, isPublic: boolean): void {
    this.#queue.recordShareUpdate({ kind: 'conversation_visibility_changed', tenant, conversation, isPublic });
  }
}
