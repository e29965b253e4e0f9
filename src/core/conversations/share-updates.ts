// Share updates: changes a chat platform makes to where images were shared (a message, file or
// conversation deleted, a message's attachments replaced) that the index must follow. Each one
// is a job of the durable upload queue, applied in order with the uploads of the same target;
// this file says what each kind targets, how it treats those uploads, and how it is applied.
import type { ShareFilter, SharesRemoved, VectorStore } from '../store/vector-store.js';

/**
 * One change to follow, as recorded in the queue (its JSON form is stored, so fields are only
 * ever added). A new kind (say a conversation's privacy changing) is a new member here, with its
 * rule in uploadRuleOf() and its effect in applyShareUpdate().
 */
export type ShareUpdate =
  /** A message was deleted (or lost all its attachments): its shares go, for good. */
  | { kind: 'message_deleted'; tenant: string; conversation: string; messageId: string }
  /**
   * A message's attachments are being taken in again (an edit whose previous attachments are
   * unknown): its shares go, and the uploads queued for it afterwards are indexed after that.
   */
  | { kind: 'message_replaced'; tenant: string; conversation: string; messageId: string }
  /** A file was deleted: its shares go, wherever it was shared. */
  | { kind: 'file_deleted'; tenant: string; fileId: string }
  /** A conversation (channel, thread) was deleted: every share in it goes. */
  | { kind: 'conversation_deleted'; tenant: string; conversation: string };

/**
 * The shares an update is about: those of the tenant meeting every field given. There are three
 * shapes, and only three: the queue looks each one up through its own index (share-update-jobs.ts),
 * and none may read as "every share of the tenant".
 */
export type ShareTarget =
  /** One file, wherever it was shared. */
  | { tenant: string; fileId: string; conversation?: undefined; messageId?: undefined }
  /** One message of a conversation. */
  | { tenant: string; conversation: string; messageId: string; fileId?: undefined }
  /** A whole conversation. */
  | { tenant: string; conversation: string; messageId?: undefined; fileId?: undefined };

/** The shares `update` is about. */
export function targetOf(update: ShareUpdate): ShareTarget {
  switch (update.kind) {
    case 'message_deleted':
    case 'message_replaced':
      return { tenant: update.tenant, conversation: update.conversation, messageId: update.messageId };
    case 'file_deleted':
      return { tenant: update.tenant, fileId: update.fileId };
    case 'conversation_deleted':
      return { tenant: update.tenant, conversation: update.conversation };
  }
}

/**
 * What the queue does with uploads of an update's target. Uploads queued before the update and
 * not yet started are always withdrawn (the update would take them off anyway), and the update
 * waits for those already being indexed, so none of them can land after it.
 */
export interface UploadRule {
  /**
   * Uploads of the target queued after the update: true, withdrawn (what they were shared in is
   * gone for good, so an upload still downloading when it went is never indexed); false, they
   * wait until the update is applied and are then indexed (the attachments of an edited message).
   */
  withdrawsLaterUploads: boolean;
}

/** How `update` treats the uploads of its target: only an edit lets later uploads through. */
export function uploadRuleOf(update: ShareUpdate): UploadRule {
  return { withdrawsLaterUploads: update.kind !== 'message_replaced' };
}

/** Words for logs: "message deleted", "file deleted"... */
export function describeShareUpdate(update: ShareUpdate): string {
  switch (update.kind) {
    case 'message_deleted':
      return 'message deleted';
    case 'message_replaced':
      return 'message edited';
    case 'file_deleted':
      return 'file deleted';
    case 'conversation_deleted':
      return 'conversation deleted';
  }
}

/** Applies `update` to the store now: the target's shares leave, and images whose last share went. */
export async function applyShareUpdate(store: Pick<VectorStore, 'removeShares'>, update: ShareUpdate): Promise<SharesRemoved> {
  const { tenant, conversation, messageId, fileId } = targetOf(update);
  const share: ShareFilter = {
    ...(conversation === undefined ? {} : { conversations: [conversation] }),
    ...(messageId === undefined ? {} : { messageId }),
    ...(fileId === undefined ? {} : { fileId }),
  };
  return store.removeShares({ tenant, share });
}

/** The target fields each kind must name, so that no update ever reads as "every share of a tenant". */
const REQUIRED_FIELDS: Record<ShareUpdate['kind'], ReadonlyArray<'conversation' | 'messageId' | 'fileId'>> = {
  message_deleted: ['conversation', 'messageId'],
  message_replaced: ['conversation', 'messageId'],
  file_deleted: ['fileId'],
  conversation_deleted: ['conversation'],
};

/**
 * The update a queue row's JSON holds. Throws on a row no findimage wrote (an unknown kind, an
 * empty tenant or target field): applied as it stands, it could remove far more than meant.
 */
export function shareUpdateOf(json: string): ShareUpdate {
  const update = JSON.parse(json) as Record<string, unknown> | null;
  const kind = update?.kind;
  if (update === null || typeof update !== 'object' || typeof kind !== 'string' || !Object.hasOwn(REQUIRED_FIELDS, kind)) {
    throw new Error(`not a share update: ${json.slice(0, 200)}`);
  }
  for (const field of ['tenant', ...REQUIRED_FIELDS[kind as ShareUpdate['kind']]]) {
    const value = update[field];
    if (typeof value !== 'string' || value === '') throw new Error(`a share update without its ${field}: ${json.slice(0, 200)}`);
  }
  return update as unknown as ShareUpdate;
}
