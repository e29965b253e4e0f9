// The durable LabelStore: one SQLite file under FINDIMAGE_DATA holding the query log, the map
// from posted messages to the (query, image) results they show, and the labels given on them.
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { FindimageError, StoreError } from '../errors.js';
import { openDatabase } from '../sqlite/open-database.js';
import type {
  Label,
  LabelFilter,
  LabelKey,
  LabelStore,
  LabelStoreContents,
  QueryRecord,
  ResultMessage,
} from './label-store.js';
import { queryFromJson, queryToJson } from './query-record-json.js';

export interface SqliteLabelStoreOptions {
  /** Path of the database file; its folder is created if missing. */
  path: string;
  /** Where open and failure messages go. */
  logger: Logger;
}

/**
 * Version of the layout below, kept in PRAGMA user_version. 1 (files from before the version was
 * kept read 0): one result per message. 2: one row per (message, image), with who posted the
 * message, and the model id on labels.
 */
const SCHEMA_VERSION = 2;

const RESULT_MESSAGES_TABLE = `
CREATE TABLE IF NOT EXISTS result_messages (
  tenant TEXT NOT NULL,
  conversation TEXT NOT NULL,
  message_id TEXT NOT NULL,
  image_id TEXT NOT NULL,
  query_id TEXT NOT NULL,
  rank INTEGER NOT NULL,
  score REAL NOT NULL,
  posted_by TEXT,
  PRIMARY KEY (tenant, conversation, message_id, image_id)
);
CREATE INDEX IF NOT EXISTS result_messages_by_query ON result_messages (tenant, query_id, rank);
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queries (
  tenant TEXT NOT NULL,
  query_id TEXT NOT NULL,
  record TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, query_id)
);
${RESULT_MESSAGES_TABLE}
CREATE TABLE IF NOT EXISTS labels (
  tenant TEXT NOT NULL,
  query_id TEXT NOT NULL,
  image_id TEXT NOT NULL,
  user TEXT NOT NULL,
  value INTEGER NOT NULL,
  query_text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  model_id TEXT,
  PRIMARY KEY (tenant, query_id, image_id, user, value)
);
CREATE INDEX IF NOT EXISTS labels_by_image ON labels (tenant, image_id);
`;

/** File system errors that mean the folder cannot hold the store (EEXIST: a file is in the way). */
const UNWRITABLE_FS_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST']);

interface LabelRow {
  tenant: string;
  query_id: string;
  image_id: string;
  user: string;
  value: number;
  query_text: string;
  created_at: number;
  model_id: string | null;
}

interface ResultRow {
  tenant: string;
  conversation: string;
  message_id: string;
  query_id: string;
  image_id: string;
  rank: number;
  score: number;
  posted_by: string | null;
}

/** Opens (creating if needed) the label store at `options.path`. */
export async function openSqliteLabelStore(options: SqliteLabelStoreOptions): Promise<SqliteLabelStore> {
  return new SqliteLabelStore(options);
}

export class SqliteLabelStore implements LabelStore {
  /** Absolute path of the database file. */
  readonly path: string;
  readonly #db: Database.Database;
  readonly #logger: Logger;

  constructor(options: SqliteLabelStoreOptions) {
    this.path = resolve(options.path);
    this.#logger = options.logger;
    try {
      // WAL with FULL sync (set by the opener): a label acknowledged to the user survives a
      // crash or kill -9.
      this.#db = openDatabase(this.path, { what: 'label store' });
      prepareSchema(this.#db, this.path);
    } catch (error) {
      throw this.#failure('opening', error);
    }
    this.#logger.debug({ path: this.path }, 'label store open');
  }

  async recordQuery(query: QueryRecord): Promise<void> {
    this.#run('saving a query', () =>
      this.#db
        .prepare('INSERT OR REPLACE INTO queries (tenant, query_id, record, created_at) VALUES (?, ?, ?, ?)')
        .run(query.tenant, query.queryId, queryToJson(query), query.createdAt.getTime()),
    );
  }

  async getQuery(tenant: string, queryId: string): Promise<QueryRecord | undefined> {
    const row = this.#run('reading a query', () =>
      this.#db.prepare('SELECT record FROM queries WHERE tenant = ? AND query_id = ?').get(tenant, queryId),
    ) as { record: string } | undefined;
    return row === undefined ? undefined : queryFromJson(row.record);
  }

  async recordResultMessage(message: ResultMessage): Promise<void> {
    this.#run('saving a result message', () =>
      this.#db.transaction(() => {
        const other = this.#db
          .prepare(
            'SELECT query_id FROM result_messages WHERE tenant = ? AND conversation = ? AND message_id = ? AND query_id <> ? LIMIT 1',
          )
          .get(message.tenant, message.conversation, message.messageId, message.queryId) as Pick<ResultRow, 'query_id'> | undefined;
        if (other !== undefined) throw anotherQueryError(message);
        this.#db
          .prepare(
            `INSERT OR IGNORE INTO result_messages (tenant, conversation, message_id, image_id, query_id, rank, score, posted_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            message.tenant,
            message.conversation,
            message.messageId,
            message.imageId,
            message.queryId,
            message.rank,
            message.score,
            message.postedBy ?? null,
          );
      }).immediate(),
    );
  }

  async findResultMessages(tenant: string, conversation: string, messageId: string): Promise<ResultMessage[]> {
    const rows = this.#run('reading a result message', () =>
      this.#db
        .prepare('SELECT * FROM result_messages WHERE tenant = ? AND conversation = ? AND message_id = ? ORDER BY rank, image_id')
        .all(tenant, conversation, messageId),
    ) as ResultRow[];
    return rows.map(resultFromRow);
  }

  async resultMessagesForQuery(tenant: string, queryId: string): Promise<ResultMessage[]> {
    const rows = this.#run('reading result messages', () =>
      this.#db
        .prepare('SELECT * FROM result_messages WHERE tenant = ? AND query_id = ? ORDER BY rank, message_id, image_id')
        .all(tenant, queryId),
    ) as ResultRow[];
    return rows.map(resultFromRow);
  }

  async addLabel(label: Omit<Label, 'createdAt'> & { createdAt?: Date }): Promise<Label> {
    const createdAt = label.createdAt ?? new Date();
    const row = this.#run('saving a label', () => {
      this.#db
        .prepare(
          `INSERT OR IGNORE INTO labels (tenant, query_id, image_id, user, value, query_text, created_at, model_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          label.tenant,
          label.queryId,
          label.imageId,
          label.user,
          label.value,
          label.queryText,
          createdAt.getTime(),
          label.modelId ?? null,
        );
      return this.#db
        .prepare('SELECT * FROM labels WHERE tenant = ? AND query_id = ? AND image_id = ? AND user = ? AND value = ?')
        .get(label.tenant, label.queryId, label.imageId, label.user, label.value);
    }) as LabelRow;
    return labelFromRow(row);
  }

  async removeLabel(key: LabelKey): Promise<boolean> {
    const result = this.#run('removing a label', () =>
      this.#db
        .prepare('DELETE FROM labels WHERE tenant = ? AND query_id = ? AND image_id = ? AND user = ? AND value = ?')
        .run(key.tenant, key.queryId, key.imageId, key.user, key.value),
    );
    return result.changes > 0;
  }

  async listLabels(filter: LabelFilter): Promise<Label[]> {
    const clauses = ['tenant = ?'];
    const params: string[] = [filter.tenant];
    if (filter.queryId !== undefined) {
      clauses.push('query_id = ?');
      params.push(filter.queryId);
    }
    if (filter.imageId !== undefined) {
      clauses.push('image_id = ?');
      params.push(filter.imageId);
    }
    if (filter.user !== undefined) {
      clauses.push('user = ?');
      params.push(filter.user);
    }
    const rows = this.#run('listing labels', () =>
      this.#db
        .prepare(`SELECT * FROM labels WHERE ${clauses.join(' AND ')} ORDER BY created_at, rowid`)
        .all(...params),
    ) as LabelRow[];
    return rows.map(labelFromRow);
  }

  async exportAll(): Promise<LabelStoreContents> {
    return this.#run('exporting labels', () => ({
      queries: (this.#db.prepare('SELECT record FROM queries ORDER BY created_at, tenant, query_id').all() as Array<{ record: string }>).map(
        (row) => queryFromJson(row.record),
      ),
      resultMessages: (
        this.#db
          .prepare('SELECT * FROM result_messages ORDER BY tenant, query_id, rank, message_id, image_id')
          .all() as ResultRow[]
      ).map(resultFromRow),
      labels: (this.#db.prepare('SELECT * FROM labels ORDER BY created_at, rowid').all() as LabelRow[]).map(labelFromRow),
    }));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #run<T>(doing: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw this.#failure(doing, error);
    }
  }

  #failure(doing: string, error: unknown): FindimageError {
    if (error instanceof FindimageError) return error;
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
    const reason = error instanceof Error ? error.message : String(error);
    const unwritable =
      code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || UNWRITABLE_FS_CODES.has(code);
    this.#logger.error({ path: this.path, code, doing }, 'label store failed');
    if (unwritable) {
      return new StoreError(
        'store_unwritable',
        `findimage cannot write its label store ${this.path} (${reason}). Set FINDIMAGE_DATA to a folder findimage can write to.`,
        { cause: error, details: { path: this.path, code } },
      );
    }
    return new StoreError('store_failed', `The label store ${this.path} failed while ${doing}: ${reason}`, {
      cause: error,
      details: { path: this.path, code },
    });
  }
}

/**
 * Brings the file to SCHEMA_VERSION in one transaction, so a crash leaves either the old layout
 * or the new one. IMMEDIATE: a second process opening the file at the same time waits, then
 * finds it already upgraded.
 */
function prepareSchema(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        'store_schema_mismatch',
        `The label store ${path} was written by a newer findimage (layout ${version}). ` +
          'Upgrade findimage, or set FINDIMAGE_DATA to another folder.',
        { details: { path, version } },
      );
    }
    if (version < 2) upgradeToVersion2(db);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Layout 1 keyed result_messages by message alone (one result per message), and labels had no
 * model id. SQLite cannot change a primary key in place, so the table is rebuilt: renamed,
 * recreated, refilled and dropped. A new, empty file has no tables and needs nothing.
 */
function upgradeToVersion2(db: Database.Database): void {
  const hasTable = (name: string): boolean =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const hasColumn = (table: string, column: string): boolean =>
    (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).some((c) => c.name === column);
  if (hasTable('result_messages') && !hasColumn('result_messages', 'posted_by')) {
    db.exec(`
      ALTER TABLE result_messages RENAME TO result_messages_v1;
      DROP INDEX IF EXISTS result_messages_by_query;
      ${RESULT_MESSAGES_TABLE}
      INSERT INTO result_messages (tenant, conversation, message_id, image_id, query_id, rank, score, posted_by)
        SELECT tenant, conversation, message_id, image_id, query_id, rank, score, NULL FROM result_messages_v1 ORDER BY rowid;
      DROP TABLE result_messages_v1;
    `);
  }
  if (hasTable('labels') && !hasColumn('labels', 'model_id')) db.exec('ALTER TABLE labels ADD COLUMN model_id TEXT');
}

function anotherQueryError(message: ResultMessage): FindimageError {
  return new FindimageError(
    'internal',
    `Message ${message.messageId} already shows the results of another query; one message answers one query.`,
    { details: { conversation: message.conversation, messageId: message.messageId, queryId: message.queryId } },
  );
}

function resultFromRow(row: ResultRow): ResultMessage {
  const message: ResultMessage = {
    tenant: row.tenant,
    conversation: row.conversation,
    messageId: row.message_id,
    queryId: row.query_id,
    imageId: row.image_id,
    rank: row.rank,
    score: row.score,
  };
  if (row.posted_by !== null) message.postedBy = row.posted_by;
  return message;
}

function labelFromRow(row: LabelRow): Label {
  return {
    tenant: row.tenant,
    queryId: row.query_id,
    queryText: row.query_text,
    imageId: row.image_id,
    user: row.user,
    value: row.value === 1 ? 1 : -1,
    createdAt: new Date(row.created_at),
    ...(row.model_id === null ? {} : { modelId: row.model_id }),
  };
}
