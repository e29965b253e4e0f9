// The on-disk layout of the embedded store: one table of points with the point-level fields in
// columns, the payload (shares included) as JSON and the vector as a float32 BLOB, and the
// statements on it. Filtering happens in memory (vector-matrix.ts), so no share has a column.
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { ShareFields } from './share-arena.js';
import { migrateFromVersion1 } from './sqlite-schema-v1.js';
import type { RowFields, RowRef } from './vector-matrix.js';

/**
 * Version of the table layout below, kept in PRAGMA user_version. 1: one share per point in
 * flat columns (channel, uploader, ...). 2: payload.shares, a list, in the payload JSON only.
 */
export const SCHEMA_VERSION = 2;

/**
 * SQLite page size for new files. A point is about 2.5 KB (a 2 KB vector at 512-d plus its
 * payload): 4 KB pages hold one row each and waste a third of the file; 8 KB pages hold three
 * (100k points: 427 MB -> 289 MB). Takes effect only on a new, empty file, so the opener sets it
 * before write-ahead logging.
 */
export const PAGE_SIZE_BYTES = 8_192;

/** The points table of layout 2, under a given name (the migration builds it beside the old). */
function pointsTableSql(name: string): string {
  return `
    CREATE TABLE IF NOT EXISTS ${name} (
      id TEXT PRIMARY KEY NOT NULL,
      tenant TEXT NOT NULL,
      source TEXT NOT NULL,
      model_id TEXT NOT NULL,
      created_at INTEGER NOT NULL, -- epoch milliseconds
      payload TEXT NOT NULL,       -- the ImagePayload as JSON, shares included
      vector BLOB NOT NULL         -- dimension x float32, little-endian
    );`;
}

/**
 * Indexes earlier versions made on points and no statement reads: every filter runs in memory
 * (vector-matrix.ts), and points are found by id or rowid. Dropped on open: at 1M points they
 * took 45 MiB of the file and a B-tree update per index on every write.
 */
const UNUSED_INDEXES = ['points_tenant_source', 'points_tenant_created'];

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
  ${pointsTableSql('points')}
  ${UNUSED_INDEXES.map((name) => `DROP INDEX IF EXISTS ${name};`).join('\n  ')}
`;

/**
 * Sets the schema of a file opened by openDatabase() (which sets the journal, durability and
 * busy timeout), migrating an older layout, and checks its dimension.
 */
export function prepareFile(db: Database.Database, path: string, dimension: number): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'store_schema_mismatch',
      `The vector store ${path} was written by a newer findimage (layout ${version}). ` +
        'Upgrade findimage, or set FINDIMAGE_DATA to another folder.',
    );
  }
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated the file meanwhile.
    if ((db.pragma('user_version', { simple: true }) as number) === 1) {
      migrateFromVersion1(db, pointsTableSql('points_v2'));
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    // The saved index (store-snapshot.ts) is used only for this database at this generation.
    db.prepare(
      `INSERT OR IGNORE INTO store_meta (key, value) VALUES ('store_id', ?), ('generation', '0')`,
    ).run(randomUUID());
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
      `INSERT OR REPLACE INTO points (id, tenant, source, model_id, created_at, payload, vector)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** Rewrites the payload of one point (its shares changed); the other columns stay. */
    updatePayload: db.prepare('UPDATE points SET payload = ? WHERE id = ?'),
    /** The payload of one point, for a read-modify-write inside a write transaction. */
    payloadOf: db.prepare('SELECT payload FROM points WHERE id = ?').pluck(),
    deleteOne: db.prepare('DELETE FROM points WHERE id = ?'),
    // json_each turns one JSON array parameter into rows: one statement serves any number of ids.
    get: db.prepare('SELECT id, payload FROM points WHERE id IN (SELECT value FROM json_each(?))'),
    getWithVector: db.prepare(
      'SELECT id, payload, vector FROM points WHERE id IN (SELECT value FROM json_each(?))',
    ),
    scroll: db.prepare('SELECT id, payload, vector FROM points WHERE id > ? ORDER BY id LIMIT ?'),
    /**
     * Vectors by rowid, for re-scoring search candidates; the id guards against a moved row.
     * The payload comes along: it sits in the same row, so the hits among the candidates need
     * no second lookup (through the id index, a page miss per hit) for their payloads.
     */
    vectorsByRowid: db
      .prepare(
        'SELECT id, vector, payload FROM points WHERE rowid IN (SELECT value FROM json_each(?))',
      )
      .raw(),
    /** Vectors (and payloads) by id, for a candidate whose rowid is unknown or has changed. */
    vectorsById: db
      .prepare(
        'SELECT id, vector, payload FROM points WHERE id IN (SELECT value FROM json_each(?))',
      )
      .raw(),
    // One row per share (one row with NULL share fields for a point without shares); a point's
    // rows come together and in array order, since json_each depends on the point's row and so
    // is the inner loop, and it walks an array in order.
    // SQLite's JSON reader does the parsing, which keeps a 100k-point load fast.
    loadAll: db
      .prepare(
        `SELECT p.id, p.tenant, p.source, p.created_at, p.vector, p.rowid,
           s.value ->> 'conversation', s.value ->> 'isPublic', s.value ->> 'uploader',
           s.value ->> 'messageId', s.value ->> 'fileId'
         FROM points AS p LEFT JOIN json_each(p.payload, '$.shares') AS s`,
      )
      .raw(),
    countAll: db.prepare('SELECT count(*) FROM points').pluck(),
    /**
     * Run in every write transaction: the saved index records the generation it matches, so a
     * write it has not seen, by this process or another, makes it stale.
     */
    bumpGeneration: db.prepare(
      `UPDATE store_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'`,
    ),
    generation: db
      .prepare(`SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = 'generation'`)
      .pluck(),
    storeId: db.prepare(`SELECT value FROM store_meta WHERE key = 'store_id'`).pluck(),
    countBySource: db.prepare('SELECT source, count(*) FROM points GROUP BY source').raw(),
    countByModel: db.prepare('SELECT model_id, count(*) FROM points GROUP BY model_id').raw(),
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
  };
}

/** The prepared statements SqliteVectorStore runs. */
export type PointStatements = ReturnType<typeof prepareStatements>;

/** One row of loadAll (raw mode, in SELECT order): a point with one of its shares, or none. */
type LoadedRow = [
  id: string,
  tenant: string,
  source: string,
  createdAt: number,
  vector: Buffer,
  rowid: number,
  conversation: string | null,
  isPublic: number | null,
  uploader: string | null,
  messageId: string | null,
  fileId: string | null,
];

/** A point as the loader hands it over: its filter fields and its vector bytes. */
export interface LoadedPoint {
  /** Point id. */
  id: string;
  /** The fields the in-memory filter needs, shares in payload order. */
  fields: RowFields;
  /** The vector BLOB (its length is checked by the caller). */
  vector: Buffer;
  /** The point's SQLite rowid. */
  rowid: number;
}

/**
 * Walks every point of the file once, gathering the one-row-per-share result of loadAll back
 * into one point with its shares. A point's rows arrive together (see loadAll).
 */
export function* loadPoints(statements: PointStatements): Generator<LoadedPoint> {
  let current: LoadedPoint | undefined;
  let shares: ShareFields[] = [];
  for (const row of statements.loadAll.iterate() as IterableIterator<LoadedRow>) {
    const [id, tenant, source, createdAt, vector, rowid, conversation, isPublic] = row;
    if (current?.id !== id) {
      if (current !== undefined) yield current;
      shares = [];
      current = { id, fields: { tenant, source, createdAtMs: createdAt, shares }, vector, rowid };
    }
    if (conversation === null) continue;
    const [, , , , , , , , uploader, messageId, fileId] = row;
    shares.push({
      conversation,
      isPublic: isPublic === 1,
      uploader: uploader ?? undefined,
      messageId: messageId ?? undefined,
      fileId: fileId ?? undefined,
    });
  }
  if (current !== undefined) yield current;
}

/** A copy of a stored BLOB as a Float32Array (copied, since a Buffer may be misaligned). */
export function vectorOf(blob: Buffer): Float32Array {
  const vector = new Float32Array(blob.length / 4);
  new Uint8Array(vector.buffer).set(blob);
  return vector;
}

/**
 * The float32 vectors of search candidates, by rowid, in the order given; a point whose rowid
 * moved (replaced by another process since) is read again by id; undefined for one that is gone
 * or not of `dimension`. Each candidate's payload JSON, read in the same statement, is put in
 * `payloads` by id.
 */
export function readVectors(
  statements: PointStatements,
  refs: readonly RowRef[],
  dimension: number,
  payloads: Map<string, string>,
): (Float32Array | undefined)[] {
  const { vectorsByRowid, vectorsById } = statements;
  const rows = vectorsByRowid.all(JSON.stringify(refs.map((ref) => ref.rowid))) as [
    string,
    Buffer,
    string,
  ][];
  const bytes = dimension * 4;
  const found = new Map<string, Float32Array | undefined>();
  for (const [id, blob, payload] of rows) {
    found.set(id, blob.length === bytes ? floatsOf(blob) : undefined);
    payloads.set(id, payload);
  }
  const missing = refs.filter((ref) => !found.has(ref.id)).map((ref) => ref.id);
  if (missing.length > 0) {
    const byId = vectorsById.all(JSON.stringify(missing)) as [string, Buffer, string][];
    for (const [id, blob, payload] of byId) {
      found.set(id, blob.length === bytes ? floatsOf(blob) : undefined);
      payloads.set(id, payload);
    }
  }
  return refs.map((ref) => found.get(ref.id));
}

/**
 * A BLOB read for one search as floats: a view when its bytes are 4-byte aligned (better-sqlite3
 * gives each BLOB a Buffer of its own, so they are), else a copy. The re-rank only reads it;
 * copying 15 vectors a query cost about a tenth of a one-channel search's SQLite reads.
 */
function floatsOf(blob: Buffer): Float32Array {
  return blob.byteOffset % 4 === 0
    ? new Float32Array(blob.buffer, blob.byteOffset, blob.length / 4)
    : vectorOf(blob);
}
