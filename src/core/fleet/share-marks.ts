// The fleet's shared memory of share updates ("deleted while queued"): marks in Redis that say a
// message, file or conversation was deleted, or what privacy a conversation was last given. On
// one machine the durable upload queue orders share updates with the uploads of the same target;
// in a fleet, an upload received by replica B is indexed by a worker anywhere while replica A
// applies a deletion or privacy change. Each replica sets the mark just BEFORE it applies the
// update to the store, and a worker looks at the marks before indexing and again after its write:
// it either sees the mark (and withdraws or corrects its own write), or its write landed before
// the mark, hence before the apply, which then takes it off or gives it the flag.
import type { Redis } from 'ioredis';
import { shareUpdateOf, type ShareUpdate } from '../conversations/share-updates.js';
import { FindimageError, StoreError } from '../errors.js';
import type { ImageShare } from '../store/vector-store.js';
import { KEY_PREFIX } from './redis-connection.js';

/**
 * How long a mark is kept, in seconds: longer than any job can take to be run after the update.
 * A job is retried for about 6 hours while the store is down (MAX_TRANSIENT_TRIES), an upload
 * waits on its replica's disk for about as long while Redis is away, and a replica stopped with
 * uploads queued sends them when it starts again: a week covers a replica left down over a
 * weekend and more. A mark is some 200 bytes, so even 100,000 deletions a day keep under 150 MB.
 */
export const SHARE_MARK_TTL_SECONDS = 7 * 24 * 3600;

/** The removal mark of one message of a conversation. */
export function messageRemovedKey(tenant: string, conversation: string, messageId: string): string {
  return `${KEY_PREFIX}removed:${tenant}:msg:${conversation}:${messageId}`;
}

/** The removal mark of one file, wherever it was shared. */
export function fileRemovedKey(tenant: string, fileId: string): string {
  return `${KEY_PREFIX}removed:${tenant}:file:${fileId}`;
}

/** The removal mark of a whole conversation. */
export function conversationRemovedKey(tenant: string, conversation: string): string {
  return `${KEY_PREFIX}removed:${tenant}:conv:${conversation}`;
}

/** The mark of a conversation's latest privacy flag. */
export function visibilityKey(tenant: string, conversation: string): string {
  return `${KEY_PREFIX}visibility:${tenant}:${conversation}`;
}

/** A conversation's privacy as last marked. */
export interface MarkedVisibility {
  /** The flag the conversation was last given. */
  isPublic: boolean;
  /** When the mark was set (ms since the epoch, the marking replica's clock). */
  markedAt: number;
}

/** What the marks say about one image's share. */
export interface ShareMarksAbout {
  /** The deletion that took the share's message, file or conversation away, if one did. */
  removedBy?: ShareUpdate;
  /** The privacy last given to the share's conversation, if a change was marked. */
  visibility?: MarkedVisibility;
}

/** The image a lookup is about: its tenant and, for a chat upload, its share. */
export interface MarkedImage {
  /** The image's tenant. */
  tenant: string;
  /** Where it was shared; folder images have none and are never marked. */
  share?: Pick<ImageShare, 'conversation' | 'messageId' | 'fileId'> | undefined;
}

export interface ShareMarksOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  /** Defaults to SHARE_MARK_TTL_SECONDS; tests shorten it. */
  ttlSeconds?: number;
}

export class ShareMarks {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(options: ShareMarksOptions) {
    this.#redis = options.redis;
    this.#ttlSeconds = options.ttlSeconds ?? SHARE_MARK_TTL_SECONDS;
  }

  /**
   * Marks `update` for the whole fleet. Call it before applying the update to the store, and
   * again on each retry (setting a mark twice is harmless). A deletion marks its target as
   * removed; a privacy change sets its conversation's flag (the latest set wins, as the latest
   * applied wins in the store). An edit (message_replaced) sets nothing: the uploads of the
   * edited message sent after it must be indexed, so cross-replica edits rely on the replica
   * that got the edit (its own queue orders them with its uploads). Throws StoreError
   * 'store_unavailable' (transient) when Redis does not take it.
   */
  async record(update: ShareUpdate): Promise<void> {
    const key = markKeyOf(update);
    if (key === undefined) return;
    const value =
      update.kind === 'conversation_visibility_changed'
        ? JSON.stringify({ isPublic: update.isPublic, markedAt: Date.now() } satisfies MarkedVisibility)
        : JSON.stringify(update);
    try {
      await this.#redis.set(key, value, 'EX', this.#ttlSeconds);
    } catch (error) {
      throw unavailable('could not mark a share update for the fleet', error);
    }
  }

  /**
   * What the marks say about `image`'s share (one round trip): whether its message, file or
   * conversation was deleted, and its conversation's latest privacy. An image without a share
   * (a folder image) is never marked. Throws StoreError 'store_unavailable' while Redis is away.
   */
  async about(image: MarkedImage): Promise<ShareMarksAbout> {
    const { tenant, share } = image;
    if (share === undefined) return {};
    const removalKeys = [conversationRemovedKey(tenant, share.conversation)];
    if (share.messageId !== undefined) removalKeys.push(messageRemovedKey(tenant, share.conversation, share.messageId));
    if (share.fileId !== undefined) removalKeys.push(fileRemovedKey(tenant, share.fileId));
    let values: Array<string | null>;
    try {
      values = await this.#redis.mget(visibilityKey(tenant, share.conversation), ...removalKeys);
    } catch (error) {
      throw unavailable('could not read the fleet\'s share marks', error);
    }
    const [visibility, ...removals] = values;
    const about: ShareMarksAbout = {};
    const removal = removals.find((value): value is string => value !== null);
    if (removal !== undefined) about.removedBy = markOf(removal, shareUpdateOf);
    if (visibility !== null && visibility !== undefined) about.visibility = markOf(visibility, visibilityOf);
    return about;
  }
}

/** A marked privacy as stored; throws on anything else. */
function visibilityOf(json: string): MarkedVisibility {
  const marked = JSON.parse(json) as Partial<MarkedVisibility> | null;
  if (typeof marked?.isPublic !== 'boolean' || typeof marked.markedAt !== 'number') throw new Error(`not a marked privacy: ${json.slice(0, 200)}`);
  return { isPublic: marked.isPublic, markedAt: marked.markedAt };
}

/**
 * A mark read back with `read`. One that does not read (findimage writes every mark, so someone
 * else wrote it) fails the lookup rather than count as no mark: the job is not indexed past what
 * may be a deletion, and the failure names the mark.
 */
function markOf<T>(json: string, read: (json: string) => T): T {
  try {
    return read(json);
  } catch (error) {
    throw new FindimageError('internal', `A share mark in Redis cannot be read: ${json.slice(0, 200)}. Delete that key, or look for a program other than findimage writing findimage:* keys.`, { cause: error });
  }
}

/** The key an update's mark goes to; none for an edit. */
function markKeyOf(update: ShareUpdate): string | undefined {
  switch (update.kind) {
    case 'message_deleted':
      return messageRemovedKey(update.tenant, update.conversation, update.messageId);
    case 'file_deleted':
      return fileRemovedKey(update.tenant, update.fileId);
    case 'conversation_deleted':
      return conversationRemovedKey(update.tenant, update.conversation);
    case 'conversation_visibility_changed':
      return visibilityKey(update.tenant, update.conversation);
    case 'message_replaced':
      return undefined;
  }
}

/**
 * The flag a share should be written with, given its conversation's marked privacy: a marked
 * "private" always wins (fails closed: a lookup made just before the change may be stale); a
 * marked "public" only when marked after the job was added (`since`), since a job added later
 * carries a lookup made after it, and an old "public" mark must never make a private upload
 * public (a "made private" event may have been missed). As the local queue does it
 * (ShareUpdateRunner.withLatestVisibility()), with the job's time standing in for the queue's seq.
 */
export function flagWithMarks(isPublic: boolean, visibility: MarkedVisibility | undefined, since: number): boolean {
  if (visibility === undefined || visibility.isPublic === isPublic) return isPublic;
  if (!visibility.isPublic) return false;
  return visibility.markedAt > since;
}

function unavailable(what: string, cause: unknown): StoreError {
  const text = cause instanceof Error ? cause.message : String(cause);
  return new StoreError('store_unavailable', `Redis (REDIS_URL) did not answer, so findimage ${what} (${text}); it is tried again.`, { cause });
}
