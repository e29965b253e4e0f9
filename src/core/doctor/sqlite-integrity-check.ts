// The doctor's look at the embedded store: every SQLite file findimage keeps under FINDIMAGE_DATA
// (the vector store, labels, upload queue, backfill progress), opened read-only and run through
// SQLite's own consistency check. Nothing is written, so it is safe beside a running server.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type Database from 'better-sqlite3';
import { openReadOnlyDatabase } from '../sqlite/open-database.js';
import { fail, ok, type Check, type CheckResult } from './check.js';

/**
 * Above this size a file gets PRAGMA quick_check (O(N), skips index-to-table cross checks)
 * instead of integrity_check (O(N log N)): better-sqlite3 runs the check on the main thread,
 * and a full check of a multi-gigabyte store would hold it for minutes.
 */
const QUICK_CHECK_ABOVE_BYTES = 1024 * 1024 * 1024;

/** The folders under FINDIMAGE_DATA where findimage writes SQLite files (see findimage.ts). */
const SQLITE_FOLDERS = ['.', 'store', 'queue'];

/** What one file's check found. */
interface FileVerdict {
  /** Path under the data folder. */
  name: string;
  /** The pragma that was run. */
  pragma: 'integrity_check' | 'quick_check';
  /** Problems SQLite reported (empty when it said "ok"). */
  problems: string[];
}

/** The SQLite files under `dataDir` that findimage writes. */
async function sqliteFiles(dataDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const folder of SQLITE_FOLDERS) {
    const dir = join(dataDir, folder);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isFile() && entry.name.endsWith('.sqlite')) files.push(join(dir, entry.name));
  }
  return files.sort();
}

/** Runs the check that fits the file's size; a file SQLite cannot even open is one problem. */
async function verdictOf(dataDir: string, path: string): Promise<FileVerdict> {
  const size = (await stat(path)).size;
  const pragma = size > QUICK_CHECK_ABOVE_BYTES ? 'quick_check' : 'integrity_check';
  const name = relative(dataDir, path);
  let db: Database.Database | undefined;
  try {
    db = openReadOnlyDatabase(path);
    const rows = db.pragma(pragma) as Array<Record<string, unknown>>;
    const lines = rows.map((row) => String(Object.values(row)[0]));
    return { name, pragma, problems: lines.length === 1 && lines[0] === 'ok' ? [] : lines };
  } catch (error) {
    return { name, pragma, problems: [error instanceof Error ? error.message : String(error)] };
  } finally {
    db?.close();
  }
}

/** The check of every SQLite file under FINDIMAGE_DATA. */
export function sqliteIntegrityCheck(options: { dataDir: string }): Check {
  return {
    name: 'sqlite files',
    // A quick_check of a large store reads the whole file once.
    timeoutMs: 120_000,
    // better-sqlite3 runs the pragma on the main thread: run alone, after the network checks.
    holdsThread: true,
    run: (signal) => checkSqliteFiles(options.dataDir, signal),
  };
}

async function checkSqliteFiles(dataDir: string, signal: AbortSignal): Promise<CheckResult> {
  const files = await sqliteFiles(dataDir);
  if (files.length === 0) return ok(`no SQLite file in ${dataDir} yet (nothing indexed here); it is made on the first index`);
  const verdicts: FileVerdict[] = [];
  for (const file of files) {
    // Out of time: the report already says so; the files left are not opened.
    signal.throwIfAborted();
    verdicts.push(await verdictOf(dataDir, file));
  }
  const damaged = verdicts.filter((v) => v.problems.length > 0);
  if (damaged.length > 0) {
    const what = damaged.map((v) => `${join(dataDir, v.name)} fails ${v.pragma} (${v.problems.slice(0, 3).join('; ')})`);
    return fail(
      what.join('; '),
      'Stop findimage, keep a copy of the file, then restore it from a backup, or move it aside and rebuild: the store with "findimage index" (labels and queues cannot be rebuilt).',
    );
  }
  const quick = verdicts.filter((v) => v.pragma === 'quick_check').map((v) => v.name);
  const how = quick.length === 0 ? 'PRAGMA integrity_check' : `PRAGMA integrity_check (quick_check for ${quick.join(', ')}, over 1 GiB)`;
  return ok(`${verdicts.length} file${verdicts.length === 1 ? '' : 's'} in ${dataDir} pass ${how}: ${verdicts.map((v) => v.name).join(', ')}`);
}
