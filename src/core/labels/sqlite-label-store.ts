// The durable LabelStore: one SQLite file under FINDIMAGE_DATA holding the query log, the map
// from posted result messages to (query, image) pairs, and the labels given on them.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { FindimageError, StoreError } from '../errors.js';
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queries (
  tenant TEXT NOT NULL,
  query_id TEXT NOT NULL,
  record TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, query_id)
);
CREATE TABLE IF NOT EXISTS result_messages (
  tenant TEXT NOT NULL,
  conversation TEXT NOT NULL,
  message_id TEXT NOT NULL,
  query_id TEXT NOT NULL,
  image_id TEXT NOT NULL,
  rank INTEGER NOT NULL,
  score REAL NOT NULL,
  PRIMARY KEY (tenant, conversation, message_id)
);
CREATE INDEX IF NOT EXISTS result_messages_by_query ON result_messages (tenant, query_id, rank);
CREATE TABLE IF NOT EXISTS labels (
  tenant TEXT NOT NULL,
  query_id TEXT NOT NULL,
  image_id TEXT NOT NULL,
  user TEXT NOT NULL,
  value INTEGER NOT NULL,
  query_text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
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
}

interface ResultRow {
  tenant: string;
  conversation: string;
  message_id: string;
  query_id: string;
  image_id: string;
  rank: number;
  score: number;
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
      mkdirSync(dirname(this.path), { recursive: true });
      this.#db = new Database(this.path);
      // WAL with FULL sync: a label acknowledged to the user survives a crash or kill -9.
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('busy_timeout = 5000');
      this.#db.exec(SCHEMA);
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
        const existing = this.#db
          .prepare('SELECT query_id, image_id FROM result_messages WHERE tenant = ? AND conversation = ? AND message_id = ?')
          .get(message.tenant, message.conversation, message.messageId) as Pick<ResultRow, 'query_id' | 'image_id'> | undefined;
        if (existing !== undefined) {
          if (existing.query_id === message.queryId && existing.image_id === message.imageId) return;
          throw new FindimageError(
            'internal',
            `Message ${message.messageId} already shows another result; one message must show exactly one result.`,
            { details: { conversation: message.conversation, messageId: message.messageId } },
          );
        }
        this.#db
          .prepare(
            'INSERT INTO result_messages (tenant, conversation, message_id, query_id, image_id, rank, score) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(message.tenant, message.conversation, message.messageId, message.queryId, message.imageId, message.rank, message.score);
      })(),
    );
  }

  async findResultMessage(tenant: string, conversation: string, messageId: string): Promise<ResultMessage | undefined> {
    const row = this.#run('reading a result message', () =>
      this.#db
        .prepare('SELECT * FROM result_messages WHERE tenant = ? AND conversation = ? AND message_id = ?')
        .get(tenant, conversation, messageId),
    ) as ResultRow | undefined;
    return row === undefined ? undefined : resultFromRow(row);
  }

  async resultMessagesForQuery(tenant: string, queryId: string): Promise<ResultMessage[]> {
    const rows = this.#run('reading result messages', () =>
      this.#db
        .prepare('SELECT * FROM result_messages WHERE tenant = ? AND query_id = ? ORDER BY rank, message_id')
        .all(tenant, queryId),
    ) as ResultRow[];
    return rows.map(resultFromRow);
  }

  async addLabel(label: Omit<Label, 'createdAt'> & { createdAt?: Date }): Promise<Label> {
    const createdAt = label.createdAt ?? new Date();
    const row = this.#run('saving a label', () => {
      this.#db
        .prepare(
          'INSERT OR IGNORE INTO labels (tenant, query_id, image_id, user, value, query_text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(label.tenant, label.queryId, label.imageId, label.user, label.value, label.queryText, createdAt.getTime());
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
      queries: (this.#db.prepare('SELECT record FROM queries ORDER BY created_at, rowid').all() as Array<{ record: string }>).map(
        (row) => queryFromJson(row.record),
      ),
      resultMessages: (this.#db.prepare('SELECT * FROM result_messages ORDER BY rowid').all() as ResultRow[]).map(resultFromRow),
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

function resultFromRow(row: ResultRow): ResultMessage {
  return {
    tenant: row.tenant,
    conversation: row.conversation,
    messageId: row.message_id,
    queryId: row.query_id,
    imageId: row.image_id,
    rank: row.rank,
    score: row.score,
  };
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
  };
}
