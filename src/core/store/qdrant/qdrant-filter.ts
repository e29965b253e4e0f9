// PointFilter -> Qdrant filter. Tenant, sources and the createdAt range test the point, in
// `must`; everything about shares (the scope's conversations OR public, and the user's in:,
// from:, message and file) is ONE `nested` condition on "shares", so a single share has to meet
// all of it, as PointFilter requires; excluded ids are has_id in `must_not` (Qdrant allows no
// has_id inside a nested filter). An empty list can match nothing, which is said, not sent.
// shareMatcher() is the same share-level test in code, for removeShares().
import type { Schemas } from '@qdrant/js-client-rest';
import type { ImageShare, PointFilter } from '../vector-store.js';
import { PAYLOAD_KEY, SHARE_KEY, toQdrantId } from './qdrant-point.js';

type Condition = Schemas['Condition'];

function anyOf(key: string, values: readonly string[]): Condition {
  return { key, match: { any: [...values] } };
}

/**
 * The conditions one share must meet (keys relative to the share), [] when the filter says
 * nothing about shares, or null when no share can match (an empty list was given).
 */
function shareConditions(filter: PointFilter): Condition[] | null {
  const must: Condition[] = [];
  const { scope, share } = filter;
  if (scope !== undefined) {
    const inScope = scope.conversations.length > 0 ? anyOf(SHARE_KEY.conversation, scope.conversations) : null;
    const isPublic: Condition = { key: SHARE_KEY.isPublic, match: { value: true } };
    if (scope.includePublic) must.push(inScope === null ? isPublic : { should: [inScope, isPublic] });
    else if (inScope === null) return null;
    else must.push(inScope);
  }
  if (share !== undefined) {
    for (const [values, key] of [
      [share.conversations, SHARE_KEY.conversation],
      [share.uploaders, SHARE_KEY.uploader],
    ] as const) {
      if (values === undefined) continue;
      if (values.length === 0) return null;
      must.push(anyOf(key, values));
    }
    if (share.messageId !== undefined) must.push({ key: SHARE_KEY.messageId, match: { value: share.messageId } });
    if (share.fileId !== undefined) must.push({ key: SHARE_KEY.fileId, match: { value: share.fileId } });
  }
  return must;
}

/**
 * The Qdrant filter for a PointFilter, or null when no point can match (an empty list in the
 * scope, the share filter or `sources`): callers then answer without asking Qdrant. With
 * `amongIds`, only those point ids match (has_id), for reads and deletes by id.
 */
export function toQdrantFilter(filter: PointFilter, amongIds?: readonly string[]): Schemas['Filter'] | null {
  const must: Condition[] = [{ key: PAYLOAD_KEY.tenant, match: { value: filter.tenant } }];
  if (amongIds !== undefined) {
    if (amongIds.length === 0) return null;
    must.push({ has_id: amongIds.map(toQdrantId) });
  }
  const mustNot: Condition[] = [];

  if (filter.scope !== undefined || filter.share !== undefined) {
    const shareMust = shareConditions(filter);
    if (shareMust === null) return null;
    if (shareMust.length > 0) {
      must.push({ nested: { key: PAYLOAD_KEY.shares, filter: { must: shareMust } } });
    } else {
      // An empty share filter still asks for a share: a point with none (a folder image) fails.
      mustNot.push({ is_empty: { key: PAYLOAD_KEY.shares } });
    }
  }
  if (filter.sources !== undefined) {
    if (filter.sources.length === 0) return null;
    must.push(anyOf(PAYLOAD_KEY.source, filter.sources));
  }
  if (filter.after !== undefined || filter.before !== undefined) {
    const range: Schemas['DatetimeRange'] = {};
    if (filter.after !== undefined) range.gte = filter.after.toISOString();
    if (filter.before !== undefined) range.lt = filter.before.toISOString();
    must.push({ key: PAYLOAD_KEY.createdAt, range });
  }
  if (filter.excludeIds !== undefined && filter.excludeIds.length > 0) {
    mustNot.push({ has_id: filter.excludeIds.map(toQdrantId) });
  }
  const result: Schemas['Filter'] = { must };
  if (mustNot.length > 0) result.must_not = mustNot;
  return result;
}

/**
 * The points of `tenant` with a share in `conversation` whose public flag is not yet `isPublic`:
 * the ones setSharesPublic() must rewrite. Asking only for those keeps a repeated change (or a
 * re-evaluation that changes nothing) to one empty scroll.
 */
export function privacyChangeFilter(tenant: string, conversation: string, isPublic: boolean): Schemas['Filter'] {
  return {
    must: [
      { key: PAYLOAD_KEY.tenant, match: { value: tenant } },
      {
        nested: {
          key: PAYLOAD_KEY.shares,
          filter: {
            must: [
              { key: SHARE_KEY.conversation, match: { value: conversation } },
              { key: SHARE_KEY.isPublic, match: { value: !isPublic } },
            ],
          },
        },
      },
    ],
  };
}

/**
 * Whether one share meets the filter's scope and share fields: the test the nested condition
 * makes in Qdrant, for deciding which shares removeShares() takes off a point it matched.
 */
export function shareMatcher(filter: PointFilter): (share: ImageShare) => boolean {
  const { scope, share } = filter;
  const inScope = scope === undefined ? null : new Set(scope.conversations);
  const conversations = share?.conversations === undefined ? null : new Set(share.conversations);
  const uploaders = share?.uploaders === undefined ? null : new Set(share.uploaders);
  return (s) =>
    (inScope === null || inScope.has(s.conversation) || (scope?.includePublic === true && s.isPublic)) &&
    (conversations === null || conversations.has(s.conversation)) &&
    (uploaders === null || (s.uploader !== undefined && uploaders.has(s.uploader))) &&
    (share?.messageId === undefined || s.messageId === share.messageId) &&
    (share?.fileId === undefined || s.fileId === share.fileId);
}
