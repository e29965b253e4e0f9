// Share updates: changes a chat platform makes to where images were shared (a message, file or
// conversation deleted, a message's attachments replaced, a conversation made private or public)
// that the index must follow. Each one
// is a job of the durable upload queue, applied in order with the uploads of the same target;
// this file says what each kind targets, how it treats those uploads, and how it is applied.
import type { ShareFilter, VectorStore } from '../store/vector-store.js';

/**
 * One change to follow, as recorded in the queue (its JSON form is stored, so fields are only
 * ever added). A new kind is a new member here, with its rule in uploadRuleOf() and its effect in
 * applyShareUpdate().
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
  | { kind: 'conversation_deleted'; tenant: string; conversation: string }
  /**
   * A conversation was made public (every member of the tenant can read it) or private: every
   * share in it takes that flag, so its images show (or stop showing) in the tenant's other
   * conversations.
   */
  | { kind: 'conversation_visibility_changed'; tenant: string; conversation: string; isPublic: boolean };

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
    case 'conversation_visibility_changed':
      return { tenant: update.tenant, conversation: update.conversation };
  }
}

/**
 * What the queue does with uploads of an update's target. The update always waits for those
 * that started being indexed before it was recorded, so none of them can land after it with what
 * it changes undone; those started later were withdrawn or given its flag when they started.
 */
export interface UploadRule {
  /**
   * True: uploads of the target queued before the update and not yet started are withdrawn (the
   * update would take them off anyway), and those queued after it are withdrawn or wait for it
   * (withdrawsLaterUploads). False: uploads pass it, neither withdrawn nor held; those queued
   * before it are written with what it says instead (a privacy change's flag; a recorded
   * "private" also wins over later uploads looked up as public: ShareUpdateRunner.withLatestVisibility()).
   */
  ordersUploads: boolean;
  /**
   * Uploads of the target queued after the update: true, withdrawn (what they were shared in is
   * gone for good, so an upload still downloading when it went is never indexed); false, they
   * wait until the update is applied and are then indexed (the attachments of an edited message).
   */
  withdrawsLaterUploads: boolean;
}

/**
 * How `update` treats the uploads of its target: an edit lets later uploads through, and a
 * privacy change lets every upload through (it only changes their flag).
 */
export function uploadRuleOf(update: ShareUpdate): UploadRule {
  if (update.kind === 'conversation_visibility_changed') return { ordersUploads: false, withdrawsLaterUploads: false };
  return { ordersUploads: true, withdrawsLaterUploads: update.kind !== 'message_replaced' };
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
    case 'conversation_visibility_changed':
      return update.isPublic ? 'conversation made public' : 'conversation made private';
  }
}

/** The store calls share updates make. */
export type ShareUpdateStore = Pick<VectorStore, 'removeShares' | 'setSharesPublic'>;

/** What applying one update did, for the log. */
export interface AppliedShareUpdate {
  /** Log message. */
  message: string;
  /** Counts for the log line (shares removed or changed, images removed). */
  counts: Record<string, number>;
  /**
   * Whether to log it at info: a deletion always is; a privacy change that changed no share (a
   * role change re-evaluating every channel, say) is logged at debug, not as news.
   */
  worthInfo: boolean;
}

/**
 * Applies `update` to the store now: a deletion takes the target's shares off (and images whose
 * last share went); a privacy change gives every share of the conversation the new flag.
 */
export async function applyShareUpdate(store: ShareUpdateStore, update: ShareUpdate): Promise<AppliedShareUpdate> {
  if (update.kind === 'conversation_visibility_changed') {
    const changed = await store.setSharesPublic(update.tenant, update.conversation, update.isPublic);
    return {
      message:
        changed === 0
          ? 'conversation privacy change applied; no share in it had another flag'
          : update.isPublic
            ? 'conversation made public; its images show in other conversations'
            : 'conversation made private; its images show only inside it',
      counts: { sharesChanged: changed },
      worthInfo: changed > 0,
    };
  }
  const { tenant, conversation, messageId, fileId } = targetOf(update);
  const share: ShareFilter = {
    ...(conversation === undefined ? {} : { conversations: [conversation] }),
    ...(messageId === undefined ? {} : { messageId }),
    ...(fileId === undefined ? {} : { fileId }),
  };
  const removed = await store.removeShares({ tenant, share });
  return {
    message: `${describeShareUpdate(update)}; its shares left the index`,
    counts: { sharesRemoved: removed.shares, imagesRemoved: removed.points },
    worthInfo: true,
  };
}

/** The target fields each kind must name, so that no update ever reads as "every share of a tenant". */
const REQUIRED_FIELDS: Record<ShareUpdate['kind'], ReadonlyArray<'conversation' | 'messageId' | 'fileId'>> = {
  message_deleted: ['conversation', 'messageId'],
  message_replaced: ['conversation', 'messageId'],
  file_deleted: ['fileId'],
  conversation_deleted: ['conversation'],
  conversation_visibility_changed: ['conversation'],
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
  // A flag read as anything but a boolean could make a private conversation public.
  if (kind === 'conversation_visibility_changed' && typeof update.isPublic !== 'boolean') {
    throw new Error(`a privacy change without its flag: ${json.slice(0, 200)}`);
  }
  return update as unknown as ShareUpdate;
}
