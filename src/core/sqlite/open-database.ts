// The one way findimage opens a SQLite file (vector store, labels, upload queue, backfill
// progress): the folder is created, and write-ahead logging, FULL sync and the busy timeout are
// set here, so that every file is as durable and as patient with other processes as the others.
// It also keeps a list of the connections it opened, so that a test can read the settings each
// open file really runs with (openConnections) rather than trust what was asked for.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

/**
 * How long a statement waits for another process (say `findimage index` beside the bot) to
 * finish its transaction before failing with SQLITE_BUSY. Writes commit in milliseconds.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** What a file opened by openDatabase() reports for the three settings it makes. */
export const SQLITE_SETTINGS = {
  /** PRAGMA journal_mode. */
  journalMode: 'wal',
  /** PRAGMA synchronous: 2 is FULL. */
  synchronous: 2,
  /** PRAGMA busy_timeout, in milliseconds. */
  busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
} as const;

/** What a live connection reports for the settings that decide how much of a commit survives. */
export interface ConnectionDurability {
  /** PRAGMA journal_mode: 'wal' keeps the file whole through kill -9 and power cuts alike. */
  journalMode: string;
  /** PRAGMA synchronous: 0 OFF, 1 NORMAL (no fsync per commit), 2 FULL, 3 EXTRA. */
  synchronous: number;
  /** PRAGMA busy_timeout, in milliseconds. */
  busyTimeoutMs: number;
}

/** A connection openDatabase() opened that is still open, with its settings read from it now. */
export interface OpenConnection {
  /** Absolute path of the file. */
  path: string;
  /** What the file is, as its opener named it ("label store"). */
  what: string;
  /** The settings the connection reports at the time of the call. */
  durability: ConnectionDurability;
}

/** Reads the durability settings off a live connection (not what was asked for: what it runs with). */
export function durabilityOf(db: Database.Database): ConnectionDurability {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
    busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
  };
}

/** Every connection openDatabase() returned; closed ones are dropped at the next open or list. */
const opened = new Set<{ path: string; what: string; db: Database.Database }>();

function forgetClosed(): void {
  for (const entry of opened) if (!entry.db.open) opened.delete(entry);
}

/**
 * The connections openDatabase() opened in this thread that are still open, each with the
 * settings it reports now: what a test reads to prove that every file a running findimage has
 * open is as durable as its role needs, whatever was passed or changed after opening. The
 * handles themselves are not handed out.
 */
export function openConnections(): OpenConnection[] {
  forgetClosed();
  return [...opened].map(({ path, what, db }) => ({ path, what, durability: durabilityOf(db) }));
}

export interface OpenDatabaseOptions {
  /** What the file is, for messages: "vector store", "label store", "upload queue". */
  what: string;
  /**
   * Page size for a new, empty file, in bytes. It must be set before write-ahead logging is
   * turned on, which is why the opener takes it; an existing file keeps its own.
   */
  pageSizeBytes?: number;
  /**
   * 'full' (the default): every commit is fsynced, for what a user gave. 'rebuildable': for a
   * file whose loss on a power cut costs only work done again (the content claims), commits are
   * not fsynced one by one; write-ahead logging still keeps the file whole, and kill -9 loses
   * nothing committed.
   */
  durability?: 'full' | 'rebuildable';
}

/** The `code` of a Node system error or a better-sqlite3 SqliteError, if it has one. */
function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return String((error as { code: unknown }).code);
  }
  return '';
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Codes that mean "this place cannot be written", from SQLite or from the file system. */
function isUnwritable(code: string): boolean {
  return (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_PERM' ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'EROFS' ||
    code === 'ENOTDIR' ||
    code === 'EEXIST'
  );
}

function unwritable(what: string, place: string, error: unknown): StoreError {
  return new StoreError(
    'store_unwritable',
    `findimage cannot write its ${what} in the folder ${place} (${reasonOf(error)}). ` +
      'Set FINDIMAGE_DATA to a folder findimage can write to, or fix the permissions of this one.',
    { cause: error, details: { folder: place, code: codeOf(error) } },
  );
}

/**
 * Opens (creating if needed) the SQLite file at `path` with write-ahead logging, synchronous =
 * FULL and a busy timeout of SQLITE_BUSY_TIMEOUT_MS.
 *
 * Throws a StoreError `store_unwritable` naming the folder and FINDIMAGE_DATA when the folder
 * cannot be made or written, and `store_failed` when the file system refuses write-ahead
 * logging. Any other SQLite error (a file that is not a database, say) is thrown as it came, for
 * the caller to word; the handle is closed first.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions): Database.Database {
  const file = resolve(path);
  const folder = dirname(file);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw unwritable(options.what, folder, error);
  }
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw isUnwritable(codeOf(error)) ? unwritable(options.what, folder, error) : error;
  }
  try {
    if (options.pageSizeBytes !== undefined) db.pragma(`page_size = ${options.pageSizeBytes}`);
    const journal = db.pragma('journal_mode = WAL', { simple: true });
    if (journal !== SQLITE_SETTINGS.journalMode) {
      throw new StoreError(
        'store_failed',
        `SQLite could not use write-ahead logging for the ${options.what} ${file} ` +
          `(it reported "${String(journal)}"). Put FINDIMAGE_DATA on a local disk rather than a network share.`,
        { details: { path: file, journal } },
      );
    }
    // FULL: every commit fsyncs the WAL before it returns, so what was acknowledged survives a
    // power cut as well as kill -9. NORMAL would survive kill -9 (committed WAL frames sit in the
    // OS page cache, which outlives the process) but may lose the last commits on power loss.
    db.pragma(options.durability === 'rebuildable' ? 'synchronous = NORMAL' : 'synchronous = FULL');
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    forgetClosed();
    opened.add({ path: file, what: options.what, db });
    return db;
  } catch (error) {
    db.close();
    throw isUnwritable(codeOf(error)) ? unwritable(options.what, folder, error) : error;
  }
}

/**
 * Opens an existing SQLite file read-only, for a look that must change nothing (the doctor's
 * integrity check beside a running server). It sets only the busy timeout, which a reader needs
 * while a writer checkpoints; the file's journal mode is its own and durability settings do not
 * apply to a connection that never writes. Throws as better-sqlite3 does (a missing file, or one
 * that is not a database), for the caller to word.
 */
export function openReadOnlyDatabase(path: string): Database.Database {
  const db = new Database(resolve(path), { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
