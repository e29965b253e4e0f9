// Where a channel's history backfill got to (Slack or Discord), saved after each page so that a
// backfill stopped by a crash, a restart or an API error resumes from its last page. One process
// keeps it in SQLite under FINDIMAGE_DATA; a fleet keeps it in Redis (src/core/fleet), where a
// lease also keeps two replicas from walking one channel at once.
import type Database from 'better-sqlite3';
import { FindimageError, StoreError } from '../errors.js';
import { openDatabase } from '../sqlite/open-database.js';

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

/** The right to walk one channel's history now, held by one process of the fleet. */
export interface BackfillLease {
  /** Gives the channel up (the walk finished or stopped). Never throws. */
  release(): Promise<void>;
}

/** The saved state of every channel's backfill, and who walks which channel now. */
export interface BackfillProgressStore {
  /** The state of a channel's backfill, or undefined if it never ran. Throws StoreError if unreachable. */
  get(tenant: string, channel: string): Promise<BackfillState | undefined>;
  /** Saves a state durably (before the next page is fetched). Throws StoreError if unreachable. */
  save(state: BackfillState): Promise<void>;
  /**
   * Takes the walk of the channel for this process, or returns undefined when another process
   * walks it now (it is then walked there; the caller says so and does not walk). Walks within
   * one process are the caller's to keep apart.
   */
  lease(tenant: string, channel: string): Promise<BackfillLease | undefined>;
  /** True when another process walks the channel now (checked before a walk is announced). */
  walkedElsewhere(tenant: string, channel: string): Promise<boolean>;
  /** Stops the store (closes its file; leases still held are left to expire). */
  close(): void;
}

/** The lease of a store that needs none (one process walks its own data folder). */
const LOCAL_LEASE: BackfillLease = { release: async () => undefined };

/** Backfill progress in a SQLite file under FINDIMAGE_DATA, for a single process. */
export class SqliteBackfillProgressStore implements BackfillProgressStore {
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

  async get(tenant: string, channel: string): Promise<BackfillState | undefined> {
    const row = this.#db.prepare('SELECT state FROM backfills WHERE tenant = ? AND channel = ?').get(tenant, channel) as
      | { state: string }
      | undefined;
    return row === undefined ? undefined : (JSON.parse(row.state) as BackfillState);
  }

  async save(state: BackfillState): Promise<void> {
    this.#db
      .prepare('INSERT OR REPLACE INTO backfills (tenant, channel, state, updated_at) VALUES (?, ?, ?, ?)')
      .run(state.tenant, state.channel, JSON.stringify(state), Date.now());
  }

  /** Always granted: walks within this process are kept apart by the bot itself, as before fleets. */
  async lease(): Promise<BackfillLease> {
    return LOCAL_LEASE;
  }

  async walkedElsewhere(): Promise<boolean> {
    return false;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
