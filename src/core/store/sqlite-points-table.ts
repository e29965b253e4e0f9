// The on-disk layout of the embedded store: one table of points with the filter fields in
// indexed columns, the payload as JSON and the vector as a float32 BLOB, and the statements on it.
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

/** Version of the table layout below, kept in PRAGMA user_version. */
const SCHEMA_VERSION = 1;

/**
 * How long a write waits for another process (say `findimage index` beside the bot) to finish
 * its transaction before giving up with store_unavailable. Batches commit in milliseconds.
 */
const BUSY_TIMEOUT_MS = 5_000;

/** SQLite page size for new files; see prepareFile(). */
const PAGE_SIZE_BYTES = 8_192;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS points (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    model_id TEXT NOT NULL,
    channel TEXT,
    channel_is_public INTEGER NOT NULL,
    uploader TEXT,
    message_id TEXT,
    file_id TEXT,
    created_at INTEGER NOT NULL, -- epoch milliseconds
    payload TEXT NOT NULL,       -- the ImagePayload as JSON
    vector BLOB NOT NULL         -- dimension x float32, little-endian
  );
  CREATE INDEX IF NOT EXISTS points_tenant_channel ON points (tenant, channel);
  CREATE INDEX IF NOT EXISTS points_tenant_uploader ON points (tenant, uploader);
  CREATE INDEX IF NOT EXISTS points_tenant_source ON points (tenant, source);
  CREATE INDEX IF NOT EXISTS points_tenant_message ON points (tenant, message_id);
  CREATE INDEX IF NOT EXISTS points_tenant_file ON points (tenant, file_id);
  CREATE INDEX IF NOT EXISTS points_tenant_created ON points (tenant, created_at);
`;

/** Sets the journal, durability and schema of a freshly opened file, and checks its dimension. */
export function prepareFile(db: Database.Database, path: string, dimension: number): void {
  // A point is about 2.5 KB (a 2 KB vector at 512-d plus its payload): 4 KB pages hold one row
  // each and waste a third of the file; 8 KB pages hold three (100k points: 427 MB -> 289 MB).
  // Takes effect only on a new, empty file.
  db.pragma(`page_size = ${PAGE_SIZE_BYTES}`);
  const journal = db.pragma('journal_mode = WAL', { simple: true });
  if (journal !== 'wal') {
    throw new StoreError(
      'store_failed',
      `SQLite could not use write-ahead logging for ${path} (it reported "${String(journal)}"). ` +
        'Put FINDIMAGE_DATA on a local disk rather than a network share.',
    );
  }
  // FULL: every commit fsyncs the WAL before it returns, so an acknowledged upsert survives a
  // power cut as well as kill -9. NORMAL would also survive kill -9 (committed WAL frames sit in
  // the OS page cache, which outlives the process) but may lose the last commits on power loss.
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'store_schema_mismatch',
      `The vector store ${path} was written by a newer findimage (layout ${version}). ` +
        'Upgrade findimage, or set FINDIMAGE_DATA to another folder.',
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const stored = db
      .prepare(`SELECT value FROM store_meta WHERE key = 'dimension'`)
      .pluck()
      .get() as string | undefined;
    if (stored === undefined) {
      db.prepare(`INSERT INTO store_meta (key, value) VALUES ('dimension', ?)`).run(
        String(dimension),
      );
    } else if (Number(stored) !== dimension) {
      throw new StoreError(
        'store_schema_mismatch',
        `The vector store ${path} holds ${stored}-dimension vectors but the model makes ` +
          `${dimension}-dimension ones. Use the model the store was made with, or set ` +
          'FINDIMAGE_DATA to another folder and index again.',
        { details: { stored: Number(stored), dimension } },
      );
    }
  }).immediate();
}

export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT OR REPLACE INTO points (id, tenant, source, model_id, channel, channel_is_public,
         uploader, message_id, file_id, created_at, payload, vector)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteOne: db.prepare('DELETE FROM points WHERE id = ?'),
    // json_each turns one JSON array parameter into rows: one statement serves any number of ids.
    get: db.prepare('SELECT id, payload FROM points WHERE id IN (SELECT value FROM json_each(?))'),
    getWithVector: db.prepare(
      'SELECT id, payload, vector FROM points WHERE id IN (SELECT value FROM json_each(?))',
    ),
    scroll: db.prepare('SELECT id, payload, vector FROM points WHERE id > ? ORDER BY id LIMIT ?'),
    loadAll: db
      .prepare(
        `SELECT id, tenant, source, channel, channel_is_public, uploader, message_id, file_id,
           created_at, vector FROM points`,
      )
      .raw(),
    countAll: db.prepare('SELECT count(*) FROM points').pluck(),
    countBySource: db.prepare('SELECT source, count(*) FROM points GROUP BY source').raw(),
    countByModel: db.prepare('SELECT model_id, count(*) FROM points GROUP BY model_id').raw(),
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
  };
}

/** The prepared statements SqliteVectorStore runs. */
export type PointStatements = ReturnType<typeof prepareStatements>;
