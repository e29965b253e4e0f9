// Where a channel's history backfill got to (Slack or Discord), kept in SQLite under FINDIMAGE_DATA so that a
// backfill stopped by a crash, a restart or an API error resumes from its last page.
import type Database from 'better-sqlite3';
import { FindimageError, StoreError } from '../core/errors.js';
import { openDatabase } from '../core/sqlite/open-database.js';

/** The state of one channel's backfill. */
export interface BackfillState {
  /** Team id. */
  tenant: string;
  /** Channel being walked. */
  channel: string;
  /** "running": stopped or in progress, resume from `cursor`; "done": walked to the start. */
  status: 'running' | 'done';
  /** conversations.history cursor of the next page; undefined for the first page. */
  cursor?: string;
  /** Only messages newer than this ts are walked (set when an earlier backfill finished). */
  oldest?: string;
  /** Newest message ts seen; the next backfill after this one finishes starts there. */
  newestTs?: string;
  /** Messages read so far in this backfill. */
  messagesSeen: number;
  /** Image files queued so far in this backfill. */
  filesQueued: number;
}

export class BackfillProgressStore {
  readonly #db: Database.Database;

  constructor(path: string) {
    try {
      this.#db = openDatabase(path, { what: 'Slack backfill progress file' });
      this.#db.exec(`CREATE TABLE IF NOT EXISTS backfills (
        tenant TEXT NOT NULL,
        channel TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, channel)
      )`);
    } catch (error) {
      if (error instanceof FindimageError) throw error;
      throw new StoreError(
        'store_unwritable',
        `Cannot open the Slack backfill progress file ${path}. Set FINDIMAGE_DATA to a folder findimage can write to.`,
        { cause: error },
      );
    }
  }

  /** The state of a channel's backfill, or undefined if it never ran. */
  get(tenant: string, channel: string): BackfillState | undefined {
    const row = this.#db.prepare('SELECT state FROM backfills WHERE tenant = ? AND channel = ?').get(tenant, channel) as
      | { state: string }
      | undefined;
    return row === undefined ? undefined : (JSON.parse(row.state) as BackfillState);
  }

  /** Saves a state durably (before the next page is fetched). */
  save(state: BackfillState): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO backfills (tenant, channel, state, updated_at) VALUES (?, ?, ?, ?)')
      .run(state.tenant, state.channel, JSON.stringify(state), Date.now());
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
