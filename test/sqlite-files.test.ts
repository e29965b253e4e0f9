// Every SQLite file findimage writes goes through one opener (src/core/sqlite/open-database.ts):
// the real files made by a running findimage are read back for their journal mode, and the
// sources are read for any connection opened, or any setting changed, behind the opener's back.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackfillProgressStore } from '../src/bots/backfill-progress.js';
import { loadConfig } from '../src/config.js';
import { SQLITE_SETTINGS } from '../src/core/sqlite/open-database.js';
import { openFindimage } from '../src/findimage.js';
import { createSilentLogger } from '../src/logger.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const OPENER = 'core/sqlite/open-database.ts';

/** Paths (relative to the data folder) of every *.sqlite file under `dir`. */
function sqliteFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.sqlite'))
    .sort();
}

describe('SQLite files', () => {
  let dir: string;
  let dataDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-sqlite-files-'));
    dataDir = join(dir, 'data');
    const config = loadConfig({
      FINDIMAGE_MODEL: 'tiny-test',
      FINDIMAGE_DATA: dataDir,
      FINDIMAGE_CACHE: join(dir, 'cache'),
      FINDIMAGE_DEVICE: 'cpu',
    });
    // The files a running findimage opens: vector store, upload queue, labels and content claims ...
    const findimage = await openFindimage({ config, logger: createSilentLogger() });
    await findimage.close();
    // ... and the Slack backfill progress, at the path the Slack bot uses.
    new BackfillProgressStore(join(dataDir, 'slack-backfill.sqlite')).close();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the store, queue, labels, claims and backfill files, each in WAL mode', () => {
    const files = sqliteFiles(dataDir);
    const kinds = ['labels.sqlite', 'slack-backfill.sqlite', 'uploads.sqlite'];
    for (const kind of kinds) expect(files.some((f) => f.endsWith(kind)), `${kind} in ${files.join(', ')}`).toBe(true);
    // The vector store and the content claims are the other two; their names carry the model id.
    const byModel = files.filter((f) => !kinds.some((k) => f.endsWith(k)));
    expect(byModel.map((f) => f.split('/')[0]).sort()).toEqual(['claims', 'store']);
    for (const file of files) {
      const db = new Database(join(dataDir, file), { readonly: true });
      try {
        // journal_mode is kept in the file: a file opened without the opener would read "delete".
        expect(db.pragma('journal_mode', { simple: true }), file).toBe(SQLITE_SETTINGS.journalMode);
      } finally {
        db.close();
      }
    }
  });

  it('opens no connection and changes no durability setting outside the opener', () => {
    // synchronous and busy_timeout live on the connection, not in the file, so no reader of the
    // file can see them: the opener's own test reads them back, and this keeps everyone on it.
    const offenders: string[] = [];
    for (const name of readdirSync(SRC, { recursive: true }) as string[]) {
      if (!name.endsWith('.ts') || name.endsWith('.test.ts') || name === OPENER) continue;
      const text = readFileSync(join(SRC, name), 'utf8');
      if (/new\s+Database\s*\(/.test(text)) offenders.push(`${name}: new Database(`);
      if (/pragma\(\s*[`'"]\s*(journal_mode|synchronous|busy_timeout)\s*=/i.test(text)) offenders.push(`${name}: pragma`);
    }
    expect(offenders, relative(process.cwd(), SRC)).toEqual([]);
  });
});
