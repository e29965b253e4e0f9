// The SQLite opener: the settings it promises are the ones a connection reports, a new file gets
// the page size asked for, and a folder it cannot use is refused with a message naming it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { durabilityOf, openConnections, openDatabase, SQLITE_BUSY_TIMEOUT_MS, SQLITE_SETTINGS } from './open-database.js';

describe('openDatabase', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-open-db-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sets WAL, synchronous FULL and the busy timeout on the connection it returns', () => {
    const db = openDatabase(join(dir, 'nested', 'a.sqlite'), { what: 'test file' });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(SQLITE_BUSY_TIMEOUT_MS);
      expect(SQLITE_SETTINGS).toEqual({ journalMode: 'wal', synchronous: 2, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS });
    } finally {
      db.close();
    }
  });

  it('lists the connections it opened while they are open, with the settings each one runs with now', () => {
    const full = openDatabase(join(dir, 'full.sqlite'), { what: 'full file' });
    const rebuildable = openDatabase(join(dir, 'claims.sqlite'), { what: 'claims file', durability: 'rebuildable' });
    try {
      const mine = () => openConnections().filter(({ path }) => path.startsWith(dir));
      expect(mine()).toEqual([
        { path: join(dir, 'full.sqlite'), what: 'full file', durability: { journalMode: 'wal', synchronous: 2, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS } },
        { path: join(dir, 'claims.sqlite'), what: 'claims file', durability: { journalMode: 'wal', synchronous: 1, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS } },
      ]);
      // Read from the connection, not remembered from the open: a later change shows.
      full.pragma('synchronous = OFF');
      expect(durabilityOf(full).synchronous).toBe(0);
      expect(mine()[0]?.durability.synchronous).toBe(0);
      rebuildable.close();
      expect(mine().map(({ what }) => what)).toEqual(['full file']);
    } finally {
      full.close();
      if (rebuildable.open) rebuildable.close();
    }
  });

  it('overrides a connection default that differs (a file left in rollback-journal mode)', () => {
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.pragma('journal_mode = DELETE');
    old.exec('CREATE TABLE t (x)');
    old.close();
    const db = openDatabase(path, { what: 'test file' });
    db.close();
    const check = new Database(path, { readonly: true });
    try {
      // journal_mode is kept in the file itself, so a later reader sees what the opener set.
      expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      check.close();
    }
  });

  it('gives a new file the page size asked for, before WAL fixes it', () => {
    const db = openDatabase(join(dir, 'paged.sqlite'), { what: 'test file', pageSizeBytes: 8_192 });
    db.exec('CREATE TABLE t (x)');
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(8_192);
    } finally {
      db.close();
    }
  });

  it('refuses a folder it cannot make, naming the folder and FINDIMAGE_DATA', async () => {
    // A file where the folder should be fails for root too, unlike a chmod-ed folder.
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, 'x');
    const error = (() => {
      try {
        openDatabase(join(blocker, 'data', 'q.sqlite'), { what: 'upload queue' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_unwritable');
    expect((error as StoreError).message).toContain('upload queue');
    expect((error as StoreError).message).toContain(join(blocker, 'data'));
    expect((error as StoreError).message).toContain('FINDIMAGE_DATA');
  });

  // Root writes anywhere, so this case runs only as a normal user; the case above covers root.
  it.skipIf(process.getuid?.() === 0)('refuses a folder it may not write into', async () => {
    const { chmod, mkdir } = await import('node:fs/promises');
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    try {
      expect(() => openDatabase(join(locked, 'q.sqlite'), { what: 'label store' })).toThrow(
        expect.objectContaining({ code: 'store_unwritable', message: expect.stringContaining(locked) }),
      );
    } finally {
      await chmod(locked, 0o700);
    }
  });
});
