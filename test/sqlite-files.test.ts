// Every SQLite file findimage writes goes through one opener (src/core/sqlite/open-database.ts):
// the connections a running findimage holds are read for the durability they really run with,
// each against what its role needs; the real files are read back for their journal mode; and the
// sources are read for any connection opened, or any setting changed, behind the opener's back.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackfillProgressStore } from '../src/core/conversations/backfill-progress.js';
import { loadConfig } from '../src/config.js';
import { openConnections, SQLITE_BUSY_TIMEOUT_MS, SQLITE_SETTINGS } from '../src/core/sqlite/open-database.js';
import { openFindimage, type Findimage } from '../src/findimage.js';
import { createSilentLogger } from '../src/logger.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const OPENER = 'core/sqlite/open-database.ts';

/** PRAGMA synchronous levels. */
const NORMAL = 1;
const FULL = 2;

/**
 * What each file's role needs, by its path under FINDIMAGE_DATA: the weakest PRAGMA synchronous
 * it may run with, and why. A file a running findimage opens that is not listed here fails the
 * test: whoever adds one says here how much of it may be lost.
 */
const ROLES: { file: RegExp; role: string; synchronousAtLeast: number }[] = [
  { file: /^store\/[^/]+\.sqlite$/, role: 'vector store: every image a user indexed', synchronousAtLeast: FULL },
  { file: /^labels\.sqlite$/, role: 'label store: votes and queries users gave', synchronousAtLeast: FULL },
  { file: /^queue\/[^/]+-uploads\.sqlite$/, role: 'upload queue: uploads acknowledged, not yet indexed', synchronousAtLeast: FULL },
  { file: /^(slack|discord)-backfill\.sqlite$/, role: 'backfill progress: saved before the next page', synchronousAtLeast: FULL },
  // A claim lost to a power cut costs one image embedded twice; write-ahead logging still keeps
  // the file whole, which synchronous OFF would not.
  { file: /^claims\/[^/]+\.sqlite$/, role: 'content claims: rebuildable', synchronousAtLeast: NORMAL },
];

/** Paths (relative to the data folder) of every *.sqlite file under `dir`. */
function sqliteFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.sqlite'))
    .sort();
}

describe('SQLite files', () => {
  let dir: string;
  let dataDir: string;
  let findimage: Findimage | undefined;
  let backfill: BackfillProgressStore | undefined;

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
    findimage = await openFindimage({ config, logger: createSilentLogger() });
    // ... and the Slack backfill progress, as the Slack bot opens it. All stay open until
    // afterAll, so that their connections can be read.
    backfill = findimage.coordination.backfills('slack');
  });

  afterAll(async () => {
    backfill?.close();
    await findimage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every open file with at least the durability its role needs, read from the live connection', () => {
    const live = openConnections().map(({ path, what, durability }) => ({ file: relative(dataDir, path), what, durability }));
    // The five roles a running findimage with a Slack bot has open, and nothing unlisted.
    expect(live.map(({ file }) => ROLES.findIndex((role) => role.file.test(file))).sort()).toEqual([0, 1, 2, 3, 4]);
    // Every shortfall at once, so that a failure names each file that runs weaker than it should.
    const shortfalls: string[] = [];
    for (const { file, what, durability } of live) {
      const role = ROLES.find((r) => r.file.test(file));
      const where = `${file} (${what}; ${role?.role ?? 'no role listed'})`;
      const needs = role?.synchronousAtLeast ?? FULL;
      if (durability.journalMode !== SQLITE_SETTINGS.journalMode) shortfalls.push(`${where}: journal_mode ${durability.journalMode}`);
      if (durability.synchronous < needs) shortfalls.push(`${where}: synchronous ${durability.synchronous}, needs ${needs}`);
      if (durability.busyTimeoutMs < SQLITE_BUSY_TIMEOUT_MS) shortfalls.push(`${where}: busy_timeout ${durability.busyTimeoutMs}`);
    }
    expect(shortfalls).toEqual([]);
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
