// Rewrites points of the first payload layout (a flat channel, channel_is_public, uploader,
// message_id, file_id and permalink) into the shares layout, in place, when a collection is
// opened. Reading converts old points on the fly, but Qdrant filters on the stored payload: an
// old point would never match a nested filter on "shares", so it would vanish from every
// scoped search until rewritten.
import type { Schemas } from '@qdrant/js-client-rest';
import type { Logger } from '../../../logger.js';
import type { QdrantConnection } from './qdrant-connection.js';
import { MalformedResponseError } from './qdrant-failure.js';
import { fromQdrantPayload, LEGACY_KEY, PAYLOAD_KEY, toQdrantPayload } from './qdrant-point.js';

/**
 * Points read and rewritten per round trip. Each rewrite carries one payload (about 1 KB), so a
 * batch request stays near 256 KB, and a failure repeats little work.
 */
export const UPGRADE_PAGE_SIZE = 256;

/**
 * Old points that still need rewriting: no `shares` yet, and a channel. Old folder images (no
 * channel) read as no shares and match no share filter either way, so they are left as they are.
 */
export const LEGACY_POINTS_FILTER: Schemas['Filter'] = {
  must: [{ is_empty: { key: PAYLOAD_KEY.shares } }],
  must_not: [{ is_empty: { key: LEGACY_KEY.channel } }],
};

/**
 * Rewrites every old-layout point of `collection` into the shares layout; resolves to how many
 * it rewrote. Safe to run again, and beside other writers: each rewrite is an overwrite_payload
 * whose filter also requires that the point still has no `shares`, so a point another process
 * deleted, or has meanwhile given shares (addShares), is left alone rather than clobbered.
 */
export async function upgradeLegacyPayloads(
  connection: QdrantConnection,
  collection: string,
  logger: Logger,
  pageSize = UPGRADE_PAGE_SIZE,
): Promise<number> {
  const pending = await connection.call(`count old-layout points in ${collection}`, (c) =>
    c.count(collection, { exact: true, filter: LEGACY_POINTS_FILTER }),
  );
  if (typeof pending?.count !== 'number') throw new MalformedResponseError('the count has no "count"');
  if (pending.count === 0) return 0;
  logger.info({ collection, points: pending.count }, 'rewriting points of the old payload layout into shares');

  let rewritten = 0;
  let offset: Schemas['ExtendedPointId'] | undefined;
  for (;;) {
    const page = await connection.call(`read old-layout points of ${collection}`, (c) =>
      c.scroll(collection, {
        limit: pageSize,
        filter: LEGACY_POINTS_FILTER,
        with_payload: true,
        with_vector: false,
        ...(offset === undefined ? {} : { offset }),
      }),
    );
    if (!Array.isArray(page?.points)) throw new MalformedResponseError('the scroll has no "points" list');
    const operations: Schemas['UpdateOperation'][] = page.points.map((record) => {
      const { id, payload } = fromQdrantPayload(record.id, record.payload, collection);
      return {
        overwrite_payload: {
          payload: toQdrantPayload(id, payload),
          filter: { must: [{ has_id: [record.id] }, { is_empty: { key: PAYLOAD_KEY.shares } }] },
        },
      };
    });
    if (operations.length > 0) {
      await connection.call(`rewrite ${operations.length} old-layout points of ${collection}`, (c) =>
        c.batchUpdate(collection, { wait: true, operations }),
      );
      rewritten += operations.length;
      logger.debug({ collection, rewritten, of: pending.count }, 'old-layout points rewritten');
    }
    const next = page.next_page_offset;
    if (next === undefined || next === null) break;
    if (typeof next !== 'string' && typeof next !== 'number') throw new MalformedResponseError('the next page offset is not a point id');
    offset = next;
  }
  logger.info({ collection, points: rewritten }, 'old payload layout rewritten into shares');
  return rewritten;
}
