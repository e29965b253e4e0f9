// The rules on an image's list of shares that every VectorStore applies the same way: when two
// shares are the same share, how addShares() merges, which shares a filter picks out, and
// which points a get() or delete() by id may touch.
import type { ImagePayload, ImageShare, PointFilter, PointScope } from './vector-store.js';

/** Whether two shares are the same share: same conversation, messageId and fileId. */
export function sameShare(a: ImageShare, b: ImageShare): boolean {
  return a.conversation === b.conversation && a.messageId === b.messageId && a.fileId === b.fileId;
}

/**
 * `existing` with `added` merged in, as addShares() stores it: a share equal to one already
 * there replaces it in its place (say isPublic changed), any other is appended in the order
 * given. Returns a new list; neither argument is changed.
 */
export function mergeShares(
  existing: readonly ImageShare[],
  added: readonly ImageShare[],
): ImageShare[] {
  const merged = [...existing];
  for (const share of added) {
    const at = merged.findIndex((kept) => sameShare(kept, share));
    if (at === -1) merged.push(share);
    else merged[at] = share;
  }
  return merged;
}

/**
 * `shares` with `isPublic` set on those in `conversation`, and how many of them changed; the
 * same list (not a copy) with 0 when none did, so callers can skip the write.
 */
export function withConversationPublic(
  shares: readonly ImageShare[],
  conversation: string,
  isPublic: boolean,
): { shares: readonly ImageShare[]; changed: number } {
  let changed = 0;
  const updated = shares.map((share) => {
    if (share.conversation !== conversation || share.isPublic === isPublic) return share;
    changed++;
    return { ...share, isPublic };
  });
  return changed === 0 ? { shares, changed } : { shares: updated, changed };
}

/**
 * Whether one share meets the share part of `filter`: its scope (in one of the conversations, or
 * public when includePublic) AND every field of `filter.share`. Point-level fields (tenant,
 * dates, sources, excluded ids) are not looked at. With neither scope nor share, every share
 * meets it. removeShares() takes off exactly the shares this picks.
 */
export function shareMeets(
  share: Pick<ImageShare, 'conversation' | 'isPublic' | 'uploader' | 'messageId' | 'fileId'>,
  filter: PointFilter,
): boolean {
  const { scope, share: wanted } = filter;
  if (
    scope !== undefined &&
    !scope.conversations.includes(share.conversation) &&
    !(scope.includePublic && share.isPublic)
  ) {
    return false;
  }
  if (wanted === undefined) return true;
  if (wanted.conversations !== undefined && !wanted.conversations.includes(share.conversation))
    return false;
  if (
    wanted.uploaders !== undefined &&
    (share.uploader === undefined || !wanted.uploaders.includes(share.uploader))
  )
    return false;
  if (wanted.messageId !== undefined && share.messageId !== wanted.messageId) return false;
  if (wanted.fileId !== undefined && share.fileId !== wanted.fileId) return false;
  return true;
}

/**
 * Whether a point with this payload may be read or deleted by id under `scope`: it is the
 * scope's tenant's, and, when a share scope is given, one of its shares is visible in it (so a
 * folder image, which has none, is not). The test query() makes, for one stored payload.
 */
export function inPointScope(payload: Pick<ImagePayload, 'tenant' | 'shares'>, scope: PointScope): boolean {
  if (payload.tenant !== scope.tenant) return false;
  if (scope.scope === undefined) return true;
  const filter: PointFilter = { tenant: scope.tenant, scope: scope.scope };
  return payload.shares.some((share) => shareMeets(share, filter));
}

/**
 * The flat fields with which findimage 1 recorded an image's single share, in a store payload
 * or an upload-queue row. Any of them may be missing or null.
 */
export interface FlatShareFields {
  /** Channel or conversation id; none for a folder image. */
  channel?: string | null;
  /** Whether the channel was public. */
  channelIsPublic?: boolean | null;
  /** User id of whoever shared it. */
  uploader?: string | null;
  /** Platform message id. */
  messageId?: string | null;
  /** Platform file id. */
  fileId?: string | null;
  /** Link to the original. */
  permalink?: string | null;
}

/**
 * The share a findimage-1 record stands for, shared at `sharedAt`; undefined when it has no
 * channel (a folder image). Absent fields stay absent rather than becoming null.
 */
export function shareFromFlatFields(
  flat: FlatShareFields,
  sharedAt: string,
): ImageShare | undefined {
  if (typeof flat.channel !== 'string' || flat.channel === '') return undefined;
  const share: ImageShare = {
    conversation: flat.channel,
    isPublic: flat.channelIsPublic === true,
    sharedAt,
  };
  for (const key of ['messageId', 'fileId', 'uploader', 'permalink'] as const) {
    const value = flat[key];
    if (typeof value === 'string') share[key] = value;
  }
  return share;
}
