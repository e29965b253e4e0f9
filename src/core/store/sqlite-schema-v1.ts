// Upgrades an embedded store file from layout 1 (one share per point, in flat channel, uploader,
// message and file columns and payload fields) to layout 2 (payload.shares), in place.
import type Database from 'better-sqlite3';
import { shareFromFlatFields, type FlatShareFields } from './image-shares.js';
import type { ImagePayload } from './vector-store.js';

/** Rows converted per read: bounds memory at a few MB of vectors whatever the file's size. */
const MIGRATION_PAGE_ROWS = 500;

/** A layout-1 payload: today's fields less shares, plus the flat share fields. */
type PayloadV1 = Omit<ImagePayload, 'shares'> & FlatShareFields;

/** One layout-1 row as the migration reads it. */
interface RowV1 {
  id: string;
  tenant: string;
  source: string;
  model_id: string;
  channel: string | null;
  channel_is_public: number;
  uploader: string | null;
  message_id: string | null;
  file_id: string | null;
  created_at: number;
  payload: string;
  vector: Buffer;
}

/** The layout-2 payload of a layout-1 row: its channel becomes one share, or none. */
function payloadFromVersion1(row: RowV1): ImagePayload {
  const {
    channel,
    channelIsPublic,
    uploader,
    messageId,
    fileId,
    permalink,
    ...rest
  } = JSON.parse(row.payload) as PayloadV1;
  // The columns were written from the same payload; they are the fallback if a field is missing.
  const share = shareFromFlatFields(
    {
      channel: channel ?? row.channel,
      channelIsPublic: channelIsPublic ?? row.channel_is_public === 1,
      uploader: uploader ?? row.uploader,
      messageId: messageId ?? row.message_id,
      fileId: fileId ?? row.file_id,
      permalink,
    },
    rest.createdAt,
  );
  return { ...rest, shares: share === undefined ? [] : [share] };
}

/**
 * Rewrites every point into a layout-2 table, made by `createTableSql` under the name
 * points_v2, and swaps it in. Must run inside the caller's write transaction, so that a crash
 * or a failure leaves the file at layout 1, untouched.
 */
export function migrateFromVersion1(db: Database.Database, createTableSql: string): void {
  db.exec(createTableSql);
  const page = db.prepare(
    `SELECT id, tenant, source, model_id, channel, channel_is_public, uploader, message_id,
       file_id, created_at, payload, vector FROM points WHERE id > ? ORDER BY id LIMIT ?`,
  );
  const insert = db.prepare(
    `INSERT INTO points_v2 (id, tenant, source, model_id, created_at, payload, vector)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  let after = '';
  for (;;) {
    const rows = page.all(after, MIGRATION_PAGE_ROWS) as RowV1[];
    for (const row of rows) {
      const payload = payloadFromVersion1(row);
      insert.run(
        row.id,
        row.tenant,
        row.source,
        row.model_id,
        row.created_at,
        JSON.stringify(payload),
        row.vector,
      );
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < MIGRATION_PAGE_ROWS) break;
    after = last.id;
  }
  // Dropping the table drops its layout-1 indexes too; prepareFile() creates the new ones.
  db.exec('DROP TABLE points; ALTER TABLE points_v2 RENAME TO points;');
}
