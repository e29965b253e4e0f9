// PointFilter -> Qdrant filter, clause for clause: tenant always in `must`; channels OR public
// as a `should` inside `must`; lists as match-any; dates as a datetime range (gte, lt); excluded
// ids as has_id in `must_not`. An empty list can match nothing, which is said, not sent.
import type { Schemas } from '@qdrant/js-client-rest';
import type { PointFilter } from '../vector-store.js';
import { PAYLOAD_KEY, toQdrantId } from './qdrant-point.js';

type Condition = Schemas['Condition'];

function anyOf(key: string, values: readonly string[]): Condition {
  return { key, match: { any: [...values] } };
}

/**
 * The Qdrant filter for a scope, or null when no point can match (an empty `channels`,
 * `uploaders` or `sources` list): callers then answer without asking Qdrant.
 */
export function toQdrantFilter(filter: PointFilter): Schemas['Filter'] | null {
  const must: Condition[] = [{ key: PAYLOAD_KEY.tenant, match: { value: filter.tenant } }];

  if (filter.channels !== undefined) {
    const inChannels = filter.channels.length > 0 ? anyOf(PAYLOAD_KEY.channel, filter.channels) : null;
    const isPublic: Condition = { key: PAYLOAD_KEY.channelIsPublic, match: { value: true } };
    if (filter.includePublic === true) {
      must.push(inChannels === null ? isPublic : { should: [inChannels, isPublic] });
    } else if (inChannels === null) {
      return null;
    } else {
      must.push(inChannels);
    }
  }
  for (const [values, key] of [
    [filter.uploaders, PAYLOAD_KEY.uploader],
    [filter.sources, PAYLOAD_KEY.source],
  ] as const) {
    if (values === undefined) continue;
    if (values.length === 0) return null;
    must.push(anyOf(key, values));
  }
  if (filter.messageId !== undefined) must.push({ key: PAYLOAD_KEY.messageId, match: { value: filter.messageId } });
  if (filter.fileId !== undefined) must.push({ key: PAYLOAD_KEY.fileId, match: { value: filter.fileId } });
  if (filter.after !== undefined || filter.before !== undefined) {
    const range: Schemas['DatetimeRange'] = {};
    if (filter.after !== undefined) range.gte = filter.after.toISOString();
    if (filter.before !== undefined) range.lt = filter.before.toISOString();
    must.push({ key: PAYLOAD_KEY.createdAt, range });
  }
  const result: Schemas['Filter'] = { must };
  if (filter.excludeIds !== undefined && filter.excludeIds.length > 0) {
    result.must_not = [{ has_id: filter.excludeIds.map(toQdrantId) }];
  }
  return result;
}
