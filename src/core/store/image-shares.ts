// The rules on an image's list of shares that every VectorStore applies the same way: when two
// shares are the same share, how addShares() merges, and which shares a filter picks out.
import type { ImageShare, PointFilter } from './vector-store.js';

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
 * Whether one share meets the share part of `filter`: its scope (in one of the conversations, or
 * public when includePublic) AND every field of `filter.share`. Point-level fields (tenant,
 * dates, sources, excluded ids) are not looked at. With neither scope nor share, every share
 * meets it. removeShares() takes off exactly the shares this picks.
 */
export function shareMeets(share: ImageShare, filter: PointFilter): boolean {
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
