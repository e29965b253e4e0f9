// Turns what better-sqlite3 throws into StoreErrors a user can act on: a file that cannot be
// written, a file that is not a store, a full disk, a lock held too long. (A folder that cannot
// be written is worded by src/core/sqlite/open-database.ts.)
import { StoreError } from '../errors.js';

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

/**
 * A failure of SQLite while opening or using the store at `path`. `doing` says what was going
 * on, for the message ("opening", "writing points").
 */
export function sqliteFailure(path: string, doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = codeOf(error);
  const details = { path, code };
  if (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_PERM'
  ) {
    return new StoreError(
      'store_unwritable',
      `findimage cannot write its vector store ${path} (${reasonOf(error)}). ` +
        'Set FINDIMAGE_DATA to a folder findimage can write to, or fix the permissions of this one.',
      { cause: error, details },
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      'store_failed',
      `${path} is not a findimage vector store or is damaged (${reasonOf(error)}). ` +
        'Move it away and index again, or set FINDIMAGE_DATA to another folder.',
      { cause: error, details },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new StoreError(
      'store_failed',
      `The disk holding ${path} is full. Free some space and try again.`,
      { cause: error, details },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'store_unavailable',
      `Another findimage process kept the vector store ${path} locked for too long. Try again.`,
      { cause: error, details },
    );
  }
  return new StoreError(
    'store_failed',
    `The vector store ${path} failed while ${doing}: ${reasonOf(error)}`,
    { cause: error, details },
  );
}
