// The share-update jobs of the upload queue's SQLite file (deletions, edits, privacy changes),
// and the columns that let them meet the uploads of the same message, file or conversation. One
// sequence orders both: an update's seq, and for each upload the seq of the last update recorded
// before it (after_update) and of the pending update about it that it waits for (waits_for).
// Privacy changes do not order uploads: the latest flag of each conversation is kept
// (conversation_visibility), and an upload takes it when it is newer than the upload, or private.
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

/** The columns of an upload row that share updates are matched against. */
export interface UploadColumns {
  /** Tenant of the upload. */
  tenant: string | null;
  /** Conversation it was shared in. */
  conversation: string | null;
  /** Platform message id. */
  message_id: string | null;
  /** Platform file id. */
  file_id: string | null;
  /** Seq of the last share update recorded before it was queued. */
  after_update: number;
}

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
 * SQL, true when some share update `s` about upload row `u` meets `condition`. An update is about
 * an upload when they have the same tenant and the upload has every target field the update
 * names; targets have one of three shapes (ShareTarget), each looked up through an index, so the
 * cost per upload does not grow with the number of updates kept. Uploads without a message, file
 * or conversation (folder images) never meet one.
 */
function someUpdateAbout(condition: string): string {
  // INDEXED BY: left to itself, the planner may walk the pending updates by seq instead, which
  // costs as many rows as there are updates for every upload looked at.
  return `(EXISTS (SELECT 1 FROM share_updates s INDEXED BY share_updates_by_file
      WHERE s.tenant = u.tenant AND s.file_id = u.file_id AND (${condition}))
    OR EXISTS (SELECT 1 FROM share_updates s INDEXED BY share_updates_by_target
      WHERE s.tenant = u.tenant AND s.conversation = u.conversation AND s.message_id = u.message_id AND s.file_id IS NULL AND (${condition}))
    OR EXISTS (SELECT 1 FROM share_updates s INDEXED BY share_updates_by_target
      WHERE s.tenant = u.tenant AND s.conversation = u.conversation AND s.message_id IS NULL AND s.file_id IS NULL AND (${condition})))`;
}

/**
 * SQL, true for upload row `u` that is withdrawn without being indexed: an update about it came
 * after it was queued (the update takes it off anyway), or withdraws later uploads too.
 */
export const UPLOAD_WITHDRAWN_SQL = someUpdateAbout('s.orders_uploads = 1 AND (s.withdraws_later = 1 OR s.seq > u.after_update)');

/** SQL, true for upload row `u` when update `s` (bound by the caller) is about it. */
const UPDATE_IS_ABOUT = `s.tenant = u.tenant
  AND (s.conversation IS NULL OR s.conversation = u.conversation)
  AND (s.message_id IS NULL OR s.message_id = u.message_id)
  AND (s.file_id IS NULL OR s.file_id = u.file_id)`;

/**
 * SQL run by applied(), bound to RECENT_DELETIONS_KEPT: forgets applied updates recorded before
 * every upload still queued (the oldest after_update is read through uploads_after_update).
 */
export const FORGET_APPLIED_SQL = `DELETE FROM share_updates WHERE applied = 1
  AND seq <= COALESCE((SELECT MIN(after_update) FROM uploads), 9223372036854775807)
  AND seq NOT IN (SELECT seq FROM share_updates WHERE applied = 1 AND withdraws_later = 1 ORDER BY seq DESC LIMIT ?)`;

/** A conversation's latest recorded privacy flag. */
export interface RecordedVisibility {
  /** Whether the change made it public. */
  isPublic: boolean;
  /** Seq of the change that recorded it. */
  seq: number;
}

/**
 * SQL for the value of uploads.after_update when an upload is queued now: the last seq ever given
 * (AUTOINCREMENT's counter), not the largest one left, since applied() forgets updates; read from
 * the rows, an upload queued after a forgotten privacy change would count as queued before it.
 */
export const AFTER_UPDATE_NOW_SQL = "(SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'share_updates'), 0))";

/** Creates the tables, and the uploads' matching columns (filled in for rows queued before them). */
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
      orders_uploads INTEGER NOT NULL DEFAULT 1,
      applied INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    )`);
    // One index per target shape (see someUpdateAbout()).
    db.exec(`CREATE INDEX IF NOT EXISTS share_updates_by_file ON share_updates (tenant, file_id);
      CREATE INDEX IF NOT EXISTS share_updates_by_target ON share_updates (tenant, conversation, message_id);
      CREATE INDEX IF NOT EXISTS share_updates_pending ON share_updates (seq) WHERE applied = 0`);
    // A file written before privacy changes were jobs: every update in it orders uploads.
    const updateColumns = new Set((db.prepare('PRAGMA table_info(share_updates)').all() as Array<{ name: string }>).map((c) => c.name));
    if (!updateColumns.has('orders_uploads')) db.exec('ALTER TABLE share_updates ADD COLUMN orders_uploads INTEGER NOT NULL DEFAULT 1');
    // The latest privacy flag recorded per conversation, kept for good: an upload queued before a
    // change and written after it (even after a restart) takes it. One small row per conversation
    // whose privacy ever changed, so it grows with the tenant's conversations, not with events.
    db.exec(`CREATE TABLE IF NOT EXISTS conversation_visibility (
      tenant TEXT NOT NULL,
      conversation TEXT NOT NULL,
      is_public INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (tenant, conversation)
    ) WITHOUT ROWID`);
    const columns = new Set((db.prepare('PRAGMA table_info(uploads)').all() as Array<{ name: string }>).map((c) => c.name));
    if (!columns.has('after_update')) addUploadColumns(db);
    // Outside the migration, so that files migrated before it existed get it too: applied() asks
    // for the oldest after_update once per update, which without it reads every upload row (the
    // column sits after the image bytes, so each row's overflow pages too).
    db.exec('CREATE INDEX IF NOT EXISTS uploads_after_update ON uploads (after_update)');
  })();
}

/** Adds the uploads' matching columns to a file written before share updates were jobs. */
function addUploadColumns(db: Database.Database): void {
  db.exec(`ALTER TABLE uploads ADD COLUMN tenant TEXT;
    ALTER TABLE uploads ADD COLUMN conversation TEXT;
    ALTER TABLE uploads ADD COLUMN message_id TEXT;
    ALTER TABLE uploads ADD COLUMN file_id TEXT;
    ALTER TABLE uploads ADD COLUMN after_update INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE uploads ADD COLUMN waits_for INTEGER;
    CREATE INDEX uploads_waiting ON uploads (waits_for) WHERE waits_for IS NOT NULL`);
  // Rows queued by an earlier findimage: their share is in the metadata JSON (findimage 1 kept
  // it as flat fields). after_update stays 0 (every update is recorded after them), and they wait for none.
  db.exec(`UPDATE uploads SET
    tenant = json_extract(metadata, '$.tenant'),
    conversation = COALESCE(json_extract(metadata, '$.share.conversation'), json_extract(metadata, '$.channel')),
    message_id = COALESCE(json_extract(metadata, '$.share.messageId'), json_extract(metadata, '$.messageId')),
    file_id = COALESCE(json_extract(metadata, '$.share.fileId'), json_extract(metadata, '$.fileId'))
    WHERE json_valid(metadata)`);
}

/** The share-update rows of one queue file. */
export class ShareUpdateJobs {
  readonly #db: Database.Database;

  /** `db`: the queue's file, with createShareUpdateTables() done. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * Stores `update` durably (an fsynced commit) and returns its seq; a privacy change also becomes
   * its conversation's latest flag, in the same commit. Throws InvalidQueryError when it names an
   * empty tenant or target (recorded, it would read as "every share of the tenant"), or a privacy
   * change has no boolean flag.
   */
  record(update: ShareUpdate): number {
    const json = JSON.stringify(update);
    try {
      shareUpdateOf(json);
    } catch (error) {
      throw new InvalidQueryError('A share update named no tenant, message, file or conversation (or no privacy flag); nothing was recorded.', {
        cause: error,
        details: { update: json.slice(0, 500) },
      });
    }
    const { tenant, conversation, messageId, fileId } = targetOf(update);
    const rule = uploadRuleOf(update);
    return this.#db.transaction(() => {
      const result = this.#db
        .prepare('INSERT INTO share_updates (job, tenant, conversation, message_id, file_id, withdraws_later, orders_uploads) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(json, tenant, conversation ?? null, messageId ?? null, fileId ?? null, rule.withdrawsLaterUploads ? 1 : 0, rule.ordersUploads ? 1 : 0);
      const seq = Number(result.lastInsertRowid);
      if (update.kind === 'conversation_visibility_changed') {
        this.#db
          .prepare(
            `INSERT INTO conversation_visibility (tenant, conversation, is_public, seq) VALUES (?, ?, ?, ?)
             ON CONFLICT (tenant, conversation) DO UPDATE SET is_public = excluded.is_public, seq = excluded.seq`,
          )
          .run(update.tenant, update.conversation, update.isPublic ? 1 : 0, seq);
      }
      return seq;
    })();
  }

  /**
   * The latest privacy flag recorded for `conversation` of `tenant` and the seq of its change, or
   * undefined when none was (ShareUpdateRunner.withLatestVisibility() says when an upload takes it).
   */
  latestVisibility(tenant: string, conversation: string): RecordedVisibility | undefined {
    const row = this.#db.prepare('SELECT is_public AS isPublic, seq FROM conversation_visibility WHERE tenant = ? AND conversation = ?').get(tenant, conversation) as
      | { isPublic: number; seq: number }
      | undefined;
    return row === undefined ? undefined : { isPublic: row.isPublic === 1, seq: row.seq };
  }

  /** Updates not yet applied, and those of them failed `stuckAfter` times or more. */
  counts(stuckAfter: number): { pending: number; stuck: number } {
    return this.#db
      .prepare('SELECT COUNT(*) AS pending, COALESCE(SUM(attempts >= ?), 0) AS stuck FROM share_updates INDEXED BY share_updates_pending WHERE applied = 0')
      .get(stuckAfter) as { pending: number; stuck: number };
  }

  /** The oldest update not yet applied: updates are applied one at a time, in the order recorded. */
  head(): ShareUpdateJob | undefined {
    return this.#db
      .prepare('SELECT seq, job, attempts, next_attempt_at AS nextAttemptAt FROM share_updates WHERE applied = 0 ORDER BY seq LIMIT 1')
      .get() as ShareUpdateJob | undefined;
  }

  /**
   * Whether an upload with these columns is withdrawn (UPLOAD_WITHDRAWN_SQL): asked again when it
   * finished indexing, since a deletion may have come while it was being written.
   */
  withdraws(upload: UploadColumns): boolean {
    const row = this.#db
      .prepare(
        `SELECT ${UPLOAD_WITHDRAWN_SQL} AS withdrawn FROM (SELECT @tenant AS tenant, @conversation AS conversation,
          @message_id AS message_id, @file_id AS file_id, @after_update AS after_update) u`,
      )
      .get(upload) as { withdrawn: number };
    return row.withdrawn === 1;
  }

  /**
   * The newest update not yet applied about an upload of `target` (its tenant, conversation,
   * message and file, any of them absent) that orders uploads, or null: an upload queued now
   * waits for it. A privacy change is not waited for: the upload takes the latest flag anyway.
   */
  pendingAbout(target: { tenant: string; conversation?: string | undefined; messageId?: string | undefined; fileId?: string | undefined }): number | null {
    const row = this.#db
      .prepare(
        `SELECT MAX(seq) AS seq FROM (
          SELECT seq FROM share_updates INDEXED BY share_updates_by_file WHERE tenant = @tenant AND file_id = @fileId AND applied = 0 AND orders_uploads = 1
          UNION ALL SELECT seq FROM share_updates INDEXED BY share_updates_by_target
            WHERE tenant = @tenant AND conversation = @conversation AND message_id = @messageId AND file_id IS NULL AND applied = 0 AND orders_uploads = 1
          UNION ALL SELECT seq FROM share_updates INDEXED BY share_updates_by_target
            WHERE tenant = @tenant AND conversation = @conversation AND message_id IS NULL AND file_id IS NULL AND applied = 0 AND orders_uploads = 1)`,
      )
      .get({ tenant: target.tenant, conversation: target.conversation ?? null, messageId: target.messageId ?? null, fileId: target.fileId ?? null }) as {
      seq: number | null;
    };
    return row.seq;
  }

  /** Whether one of the uploads `running` (ids) is about update `seq`: the update waits for it. */
  meetsAny(seq: number, running: readonly string[]): boolean {
    if (running.length === 0) return false;
    const ids = running.map(() => '?').join(',');
    return (
      this.#db.prepare(`SELECT 1 FROM share_updates s JOIN uploads u ON ${UPDATE_IS_ABOUT} WHERE s.seq = ? AND u.id IN (${ids}) LIMIT 1`).get(seq, ...running) !==
      undefined
    );
  }

  /**
   * Marks `seq` applied, releases the uploads that waited for it (updates are applied in order,
   * so also those that waited for an earlier one), and forgets applied updates no longer needed:
   * those recorded before every upload still queued, beyond the RECENT_DELETIONS_KEPT newest
   * that withdraw later uploads.
   */
  applied(seq: number): void {
    this.#db.transaction(() => {
      this.#db.prepare('UPDATE share_updates SET applied = 1, last_error = NULL WHERE seq = ?').run(seq);
      this.#db.prepare('UPDATE uploads SET waits_for = NULL WHERE waits_for IS NOT NULL AND waits_for <= ?').run(seq);
      this.#db.prepare(FORGET_APPLIED_SQL).run(RECENT_DELETIONS_KEPT);
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
