// The share-update jobs of the upload queue's SQLite file (deletions, edits), and the columns
// that let them meet the uploads of the same message, file or conversation. One sequence orders
// both: an update's seq, and for each upload the seq of the last update recorded before it.
import type Database from 'better-sqlite3';
import { InvalidQueryError } from '../errors.js';
import { shareUpdateOf, targetOf, uploadRuleOf, type ShareUpdate } from '../conversations/share-updates.js';

/**
 * Applied deletions kept to withdraw uploads of the same message, file or conversation queued
 * after them: an upload still downloading when its message was deleted, say. Downloads take
 * seconds to minutes, so the last ten thousand deletions cover any burst; a row is some hundred
 * bytes. Updates that uploads still in the queue were recorded before are kept beyond that.
 */
export const RECENT_DELETIONS_KEPT = 10_000;

/** A share-update row due to be applied. */
export interface ShareUpdateJob {
  /** Its place in the queue's one sequence. */
  seq: number;
  /** The update's JSON as stored (read with shareUpdateOf()). */
  job: string;
  /** Failed tries so far. */
  attempts: number;
  /** When it may be tried, in ms since the epoch. */
  nextAttemptAt: number;
}

/**
 * Whether share update `s` is about upload `u`: same tenant, and every target field the update
 * names equals the upload's. Uploads without a message, file or conversation (folder images)
 * never meet one, as every update names at least one of them.
 */
const MEETS = `s.tenant = u.tenant
  AND (s.conversation IS NULL OR s.conversation = u.conversation)
  AND (s.message_id IS NULL OR s.message_id = u.message_id)
  AND (s.file_id IS NULL OR s.file_id = u.file_id)`;

/**
 * SQL, true for upload row `u` that is withdrawn without being indexed: an update about it came
 * after it was queued (the update takes it off anyway), or withdraws later uploads too.
 */
export const UPLOAD_WITHDRAWN_SQL = `EXISTS (SELECT 1 FROM share_updates s WHERE ${MEETS}
  AND (s.withdraws_later = 1 OR s.seq > u.after_update))`;

/** SQL, true for upload row `u` that must wait: an update about it, recorded before it, is not applied yet. */
export const UPLOAD_WAITS_SQL = `EXISTS (SELECT 1 FROM share_updates s WHERE ${MEETS}
  AND s.applied = 0 AND s.seq <= u.after_update)`;

/** SQL for the value of uploads.after_update when an upload is queued now. */
export const AFTER_UPDATE_NOW_SQL = '(SELECT COALESCE(MAX(seq), 0) FROM share_updates)';

/** Creates the table, and the uploads' matching columns (filled in for rows queued before them). */
export function createShareUpdateTables(db: Database.Database): void {
  db.transaction(() => {
    // AUTOINCREMENT: a seq is never given twice, even after the newest rows are trimmed, so an
    // upload's after_update never compares as "after" an update recorded later.
    db.exec(`CREATE TABLE IF NOT EXISTS share_updates (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      job TEXT NOT NULL,
      tenant TEXT NOT NULL,
      conversation TEXT,
      message_id TEXT,
      file_id TEXT,
      withdraws_later INTEGER NOT NULL,
      applied INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    )`);
    db.exec('CREATE INDEX IF NOT EXISTS share_updates_by_tenant ON share_updates (tenant, applied)');
    const columns = new Set((db.prepare('PRAGMA table_info(uploads)').all() as Array<{ name: string }>).map((c) => c.name));
    if (columns.has('after_update')) return;
    db.exec(`ALTER TABLE uploads ADD COLUMN tenant TEXT;
      ALTER TABLE uploads ADD COLUMN conversation TEXT;
      ALTER TABLE uploads ADD COLUMN message_id TEXT;
      ALTER TABLE uploads ADD COLUMN file_id TEXT;
      ALTER TABLE uploads ADD COLUMN after_update INTEGER NOT NULL DEFAULT 0`);
    // Rows queued by an earlier findimage: their share is in the metadata JSON (findimage 1 kept
    // it as flat fields). after_update stays 0: every update is recorded after them.
    db.exec(`UPDATE uploads SET
      tenant = json_extract(metadata, '$.tenant'),
      conversation = COALESCE(json_extract(metadata, '$.share.conversation'), json_extract(metadata, '$.channel')),
      message_id = COALESCE(json_extract(metadata, '$.share.messageId'), json_extract(metadata, '$.messageId')),
      file_id = COALESCE(json_extract(metadata, '$.share.fileId'), json_extract(metadata, '$.fileId'))
      WHERE json_valid(metadata)`);
  })();
}

/** The share-update rows of one queue file. */
export class ShareUpdateJobs {
  readonly #db: Database.Database;

  /** `db`: the queue's file, with createShareUpdateTables() done. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * Stores `update` durably (an fsynced commit) and returns its seq. Throws InvalidQueryError when it
   * names an empty tenant or target: recorded, it would read as "every share of the tenant".
   */
  record(update: ShareUpdate): number {
    const json = JSON.stringify(update);
    try {
      shareUpdateOf(json);
    } catch (error) {
      throw new InvalidQueryError('A deletion named no tenant, message, file or conversation; nothing was recorded.', { cause: error, details: { update: json.slice(0, 500) } });
    }
    const { tenant, conversation, messageId, fileId } = targetOf(update);
    const result = this.#db
      .prepare('INSERT INTO share_updates (job, tenant, conversation, message_id, file_id, withdraws_later) VALUES (?, ?, ?, ?, ?, ?)')
      .run(json, tenant, conversation ?? null, messageId ?? null, fileId ?? null, uploadRuleOf(update).withdrawsLaterUploads ? 1 : 0);
    return Number(result.lastInsertRowid);
  }

  /** The oldest update not yet applied: updates are applied one at a time, in the order recorded. */
  head(): ShareUpdateJob | undefined {
    return this.#db
      .prepare('SELECT seq, job, attempts, next_attempt_at AS nextAttemptAt FROM share_updates WHERE applied = 0 ORDER BY seq LIMIT 1')
      .get() as ShareUpdateJob | undefined;
  }

  /** Whether any update is waiting to be applied. */
  anyPending(): boolean {
    return this.#db.prepare('SELECT 1 FROM share_updates WHERE applied = 0 LIMIT 1').get() !== undefined;
  }

  /** Whether one of the uploads `running` (ids) is about update `seq`: the update waits for it. */
  meetsAny(seq: number, running: readonly string[]): boolean {
    if (running.length === 0) return false;
    const ids = running.map(() => '?').join(',');
    return (
      this.#db.prepare(`SELECT 1 FROM share_updates s JOIN uploads u ON ${MEETS} WHERE s.seq = ? AND u.id IN (${ids}) LIMIT 1`).get(seq, ...running) !==
      undefined
    );
  }

  /**
   * Marks `seq` applied, and forgets applied updates no longer needed: those recorded before
   * every upload still queued, beyond the RECENT_DELETIONS_KEPT newest that withdraw later uploads.
   */
  applied(seq: number): void {
    this.#db.transaction(() => {
      this.#db.prepare('UPDATE share_updates SET applied = 1, last_error = NULL WHERE seq = ?').run(seq);
      this.#db
        .prepare(
          `DELETE FROM share_updates WHERE applied = 1
            AND seq <= COALESCE((SELECT MIN(after_update) FROM uploads), 9223372036854775807)
            AND seq NOT IN (SELECT seq FROM share_updates WHERE applied = 1 AND withdraws_later = 1 ORDER BY seq DESC LIMIT ?)`,
        )
        .run(RECENT_DELETIONS_KEPT);
    })();
  }

  /** Keeps `seq` for another try at `at`. */
  retryAt(seq: number, attempts: number, at: number, error: string): void {
    this.#db.prepare('UPDATE share_updates SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?').run(attempts, at, error, seq);
  }

  /**
   * When the next update may be tried (ms since the epoch), or null when none waits. Updates go
   * in order, so that is when the oldest one may: those behind it wait for it, whenever they are due.
   */
  nextDueAt(): number | null {
    return this.head()?.nextAttemptAt ?? null;
  }
}
