// `npm run bench -- sqlite-drivers [--rows N] [--rounds N] [--json]`: better-sqlite3 (what the
// stores use) against Node's built-in `node:sqlite`, side by side in one run, on the settings
// openDatabase() makes (WAL, synchronous FULL or NORMAL, busy_timeout) and rows shaped like the
// vector store's (a text id, a JSON payload, a 512-float BLOB). It measures inserts in one
// transaction, autocommit inserts under FULL and NORMAL, and point reads; it also reports what
// each driver prints on load (warnings), whether the pragmas hold, and which of the APIs the
// stores use exist. Rounds alternate the drivers, so a loaded machine skews both alike: read
// the ratios, not the absolute figures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { seededRandom } from './jpeg-corpus.js';
import { describeMachine } from './machine-info.js';

/** Floats per stored vector: CLIP ViT-B/32's embedding. */
const DIMENSION = 512;
/** The busy timeout the stores set (SQLITE_BUSY_TIMEOUT_MS is 5 s); shorter here to time it. */
const BUSY_PROBE_MS = 200;

export const SQLITE_DRIVERS_USAGE = `Usage: npm run bench -- sqlite-drivers [options]
  --rows N      rows inserted in one transaction, then read back by id (default 20000)
  --commits N   autocommit inserts per synchronous setting (default 300)
  --rounds N    rounds, each driver once per round, alternating (default 3)
  --json        print the results as one JSON object on stdout`;

/** One driver behind the few calls the bench makes, so both run the very same steps. */
interface Driver {
  name: string;
  /** Opens `path` with WAL, the given synchronous setting and the busy timeout. */
  open(path: string, synchronous: 'FULL' | 'NORMAL', busyMs: number): Connection;
}

interface Connection {
  exec(sql: string): void;
  /** A statement run with positional parameters, returning nothing. */
  runner(sql: string): (...params: unknown[]) => void;
  /** A statement returning the first column of its first row. */
  getter(sql: string): (...params: unknown[]) => unknown;
  /** Runs `fn` in one transaction (BEGIN ... COMMIT, ROLLBACK on a throw). */
  inTransaction(fn: () => void): void;
  /** What the connection reports: PRAGMA journal_mode, synchronous, busy_timeout. */
  settings(): { journalMode: string; synchronous: number; busyTimeoutMs: number };
  close(): void;
}

function betterSqlite3(): Driver {
  return {
    name: 'better-sqlite3',
    open(path, synchronous, busyMs) {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma(`busy_timeout = ${busyMs}`);
      return {
        exec: (sql) => void db.exec(sql),
        runner: (sql) => {
          const statement = db.prepare(sql);
          return (...params) => void statement.run(...params);
        },
        getter: (sql) => {
          const statement = db.prepare(sql).pluck();
          return (...params) => statement.get(...params);
        },
        inTransaction: (fn) => db.transaction(fn)(),
        settings: () => ({
          journalMode: String(db.pragma('journal_mode', { simple: true })),
          synchronous: Number(db.pragma('synchronous', { simple: true })),
          busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
        }),
        close: () => db.close(),
      };
    },
  };
}

type NodeSqlite = typeof import('node:sqlite');

function nodeSqlite(sqlite: NodeSqlite): Driver {
  return {
    name: 'node:sqlite',
    open(path, synchronous, busyMs) {
      const db = new sqlite.DatabaseSync(path);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${synchronous}`);
      db.exec(`PRAGMA busy_timeout = ${busyMs}`);
      const first = (sql: string): unknown => {
        const row = db.prepare(sql).get() as Record<string, unknown> | undefined;
        return row === undefined ? undefined : Object.values(row)[0];
      };
      return {
        exec: (sql) => db.exec(sql),
        runner: (sql) => {
          const statement = db.prepare(sql);
          return (...params) => void statement.run(...(params as never[]));
        },
        getter: (sql) => {
          const statement = db.prepare(sql);
          // No pluck(): arrays, and the first element.
          statement.setReturnArrays(true);
          return (...params) => (statement.get(...(params as never[])) as unknown as unknown[] | undefined)?.[0];
        },
        inTransaction: (fn) => {
          // No transaction helper: what better-sqlite3's db.transaction() does, by hand.
          db.exec('BEGIN');
          try {
            fn();
            db.exec('COMMIT');
          } catch (error) {
            db.exec('ROLLBACK');
            throw error;
          }
        },
        settings: () => ({
          journalMode: String(first('PRAGMA journal_mode')),
          synchronous: Number(first('PRAGMA synchronous')),
          busyTimeoutMs: Number(first('PRAGMA busy_timeout')),
        }),
        close: () => db.close(),
      };
    },
  };
}

/** Rows per second, and microseconds per row, of one timed step. */
interface Rate {
  perSecond: number;
  microsEach: number;
}

const rate = (count: number, ms: number): Rate => ({
  perSecond: Math.round((count / ms) * 1000),
  microsEach: Math.round((ms * 1000) / count) / 1000,
});

interface RoundFigures {
  transactionInsert: Rate;
  autocommitFull: Rate;
  autocommitNormal: Rate;
  pointRead: Rate;
}

const SCHEMA = 'CREATE TABLE points (id TEXT PRIMARY KEY, payload TEXT NOT NULL, vector BLOB NOT NULL)';
const INSERT = 'INSERT INTO points (id, payload, vector) VALUES (?, ?, ?)';

function vectorBytes(random: () => number): Buffer {
  const vector = new Float32Array(DIMENSION);
  for (let i = 0; i < DIMENSION; i++) vector[i] = random() - 0.5;
  return Buffer.from(vector.buffer);
}

function timed(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

function oneRound(driver: Driver, dir: string, rows: number, commits: number, seed: number): RoundFigures {
  const random = seededRandom(seed);
  const vectors = Array.from({ length: 64 }, () => vectorBytes(random));
  const payload = (i: number) => JSON.stringify({ tenant: 'bench', channel: `C${i % 40}`, ts: i });

  const full = driver.open(join(dir, `${driver.name.replace(/\W/g, '')}-${seed}.sqlite`), 'FULL', BUSY_PROBE_MS);
  full.exec(SCHEMA);
  const insertFull = full.runner(INSERT);
  const transactionMs = timed(() =>
    full.inTransaction(() => {
      for (let i = 0; i < rows; i++) insertFull(`p${i}`, payload(i), vectors[i % vectors.length]);
    }),
  );
  const autocommitFullMs = timed(() => {
    for (let i = 0; i < commits; i++) insertFull(`f${i}`, payload(i), vectors[i % vectors.length]);
  });
  const read = full.getter('SELECT payload FROM points WHERE id = ?');
  const ids = Array.from({ length: rows }, () => `p${Math.floor(random() * rows)}`);
  const readMs = timed(() => {
    for (const id of ids) if (read(id) === undefined) throw new Error(`${driver.name} lost the row ${id}`);
  });
  full.close();

  const normal = driver.open(join(dir, `${driver.name.replace(/\W/g, '')}-${seed}-normal.sqlite`), 'NORMAL', BUSY_PROBE_MS);
  normal.exec(SCHEMA);
  const insertNormal = normal.runner(INSERT);
  const autocommitNormalMs = timed(() => {
    for (let i = 0; i < commits; i++) insertNormal(`n${i}`, payload(i), vectors[i % vectors.length]);
  });
  normal.close();

  return {
    transactionInsert: rate(rows, transactionMs),
    autocommitFull: rate(commits, autocommitFullMs),
    autocommitNormal: rate(commits, autocommitNormalMs),
    pointRead: rate(rows, readMs),
  };
}

/** What a driver reports once open, and how long a write waits behind another connection's lock. */
interface Behaviour {
  settingsFull: ReturnType<Connection['settings']>;
  settingsNormal: ReturnType<Connection['settings']>;
  /** Milliseconds a blocked INSERT waited before failing busy, with busy_timeout BUSY_PROBE_MS. */
  busyWaitMs: number;
  busyError: string;
}

function behaviourOf(driver: Driver, dir: string): Behaviour {
  const path = join(dir, `${driver.name.replace(/\W/g, '')}-busy.sqlite`);
  const holder = driver.open(path, 'FULL', BUSY_PROBE_MS);
  holder.exec('CREATE TABLE t (x INTEGER)');
  const settingsFull = holder.settings();
  const waiter = driver.open(path, 'NORMAL', BUSY_PROBE_MS);
  const settingsNormal = waiter.settings();
  holder.exec('BEGIN IMMEDIATE');
  let busyError = '(no error: the lock was not seen)';
  const busyWaitMs = timed(() => {
    try {
      waiter.exec('INSERT INTO t VALUES (1)');
    } catch (error) {
      busyError = error instanceof Error ? error.message : String(error);
    }
  });
  holder.exec('ROLLBACK');
  holder.close();
  waiter.close();
  return { settingsFull, settingsNormal, busyWaitMs: Math.round(busyWaitMs), busyError };
}

/** What loading the driver prints on stderr in a fresh Node (an ExperimentalWarning, say). */
function printedOnLoad(code: string): string {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  return (child.stderr + (child.status === 0 ? '' : ` (exit ${child.status})`)).trim();
}

/** Which of the APIs the stores use (or might) each driver offers, read off the live objects. */
function apisOf(sqlite: NodeSqlite | undefined): Record<string, { betterSqlite3: string; nodeSqlite: string }> {
  const b = new Database(':memory:');
  const bs = b.prepare('SELECT 1');
  const n = sqlite === undefined ? undefined : new sqlite.DatabaseSync(':memory:');
  const ns = n?.prepare('SELECT 1');
  const has = (object: object | undefined, name: string) =>
    object === undefined ? 'absent (no node:sqlite)' : name in object ? 'yes' : 'no';
  const blob = (() => {
    const bBlob = b.prepare('SELECT x\'00\'').pluck().get();
    const nRow = n?.prepare('SELECT x\'00\' AS b').get() as { b: unknown } | undefined;
    return {
      betterSqlite3: Buffer.isBuffer(bBlob) ? 'Buffer' : typeof bBlob,
      nodeSqlite: nRow === undefined ? '-' : Buffer.isBuffer(nRow.b) ? 'Buffer' : (nRow.b as object).constructor.name,
    };
  })();
  const version = {
    betterSqlite3: String(b.prepare('SELECT sqlite_version()').pluck().get()),
    nodeSqlite: String((n?.prepare('SELECT sqlite_version() AS v').get() as { v: string } | undefined)?.v ?? '-'),
  };
  const apis = {
    'SQLite version': version,
    'prepared statements (prepare)': { betterSqlite3: has(b, 'prepare'), nodeSqlite: has(n, 'prepare') },
    'transaction helper (db.transaction)': { betterSqlite3: has(b, 'transaction'), nodeSqlite: has(n, 'transaction') },
    'in a transaction? (inTransaction / isTransaction)': {
      betterSqlite3: has(b, 'inTransaction'),
      nodeSqlite: has(n, 'isTransaction'),
    },
    'pragma helper (db.pragma)': { betterSqlite3: has(b, 'pragma'), nodeSqlite: has(n, 'pragma') },
    'first column only (pluck)': { betterSqlite3: has(bs, 'pluck'), nodeSqlite: has(ns, 'pluck') },
    'rows as arrays (raw / setReturnArrays)': { betterSqlite3: has(bs, 'raw'), nodeSqlite: has(ns, 'setReturnArrays') },
    'lazy rows (iterate)': { betterSqlite3: has(bs, 'iterate'), nodeSqlite: has(ns, 'iterate') },
    'online backup': { betterSqlite3: has(b, 'backup'), nodeSqlite: sqlite === undefined ? 'absent' : 'backup' in sqlite ? 'yes' : 'no' },
    'user functions (function)': { betterSqlite3: has(b, 'function'), nodeSqlite: has(n, 'function') },
    'is open? (open / isOpen)': { betterSqlite3: has(b, 'open'), nodeSqlite: has(n, 'isOpen') },
    'BLOB read back as': blob,
  };
  b.close();
  n?.close();
  return apis;
}

const median = (values: number[]) => [...values].sort((a, c) => a - c)[Math.floor(values.length / 2)] ?? 0;

export async function runSqliteDriversBench(argv: readonly string[]): Promise<number> {
  let rows: number;
  let commits: number;
  let rounds: number;
  let json: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        rows: { type: 'string', default: '20000' },
        commits: { type: 'string', default: '300' },
        rounds: { type: 'string', default: '3' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      process.stderr.write(`${SQLITE_DRIVERS_USAGE}\n`);
      return 0;
    }
    const whole = (name: string, value: string) => {
      const n = Number(value.replace(/_/g, ''));
      if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
      return n;
    };
    rows = whole('rows', values.rows);
    commits = whole('commits', values.commits);
    rounds = whole('rounds', values.rounds);
    json = values.json;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${SQLITE_DRIVERS_USAGE}\n`);
    return 2;
  }

  const machine = describeMachine();
  let sqlite: NodeSqlite | undefined;
  try {
    sqlite = await import('node:sqlite');
  } catch {
    // Node before 22.5 has no node:sqlite; 22.5-22.12 only behind --experimental-sqlite.
  }
  const drivers = [betterSqlite3(), ...(sqlite === undefined ? [] : [nodeSqlite(sqlite)])];
  const dir = mkdtempSync(join(tmpdir(), 'findimage-sqlite-drivers-'));
  try {
    const perDriver = new Map<string, RoundFigures[]>(drivers.map((driver) => [driver.name, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? drivers : [...drivers].reverse();
      for (const driver of order) perDriver.get(driver.name)?.push(oneRound(driver, dir, rows, commits, 1000 + round));
    }
    const summary = Object.fromEntries(
      [...perDriver].map(([name, figures]) => [
        name,
        Object.fromEntries(
          (['transactionInsert', 'autocommitFull', 'autocommitNormal', 'pointRead'] as const).map((step) => [
            step,
            median(figures.map((f) => f[step].perSecond)),
          ]),
        ),
      ]),
    ) as Record<string, Record<keyof RoundFigures, number>>;
    const ratio = Object.fromEntries(
      (['transactionInsert', 'autocommitFull', 'autocommitNormal', 'pointRead'] as const).map((step) => [
        step,
        sqlite === undefined
          ? null
          : Math.round(((summary['node:sqlite']?.[step] ?? 0) / (summary['better-sqlite3']?.[step] ?? 1)) * 100) / 100,
      ]),
    );
    const results = {
      machine,
      loadAverageAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      rows,
      commits,
      rounds,
      medianRowsPerSecond: summary,
      nodeSqliteOverBetterSqlite3: ratio,
      behaviour: Object.fromEntries(drivers.map((driver) => [driver.name, behaviourOf(driver, dir)])),
      printedOnLoad: {
        betterSqlite3: printedOnLoad(
          "import { createRequire } from 'node:module'; createRequire(process.cwd() + '/')('better-sqlite3');",
        ),
        nodeSqlite: printedOnLoad("await import('node:sqlite');"),
      },
      apis: apisOf(sqlite),
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(results)}\n`);
    } else {
      const log = (line: string) => process.stdout.write(`${line}\n`);
      log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart} -> ${results.loadAverageAtEnd}`);
      log(`rows ${rows}, autocommits ${commits}, rounds ${rounds} (median rows/s; ratio node:sqlite / better-sqlite3)`);
      for (const step of ['transactionInsert', 'autocommitFull', 'autocommitNormal', 'pointRead'] as const) {
        const cells = drivers.map((d) => `${d.name} ${summary[d.name]?.[step]}`).join('  ');
        log(`  ${step.padEnd(18)} ${cells}  ratio ${ratio[step] ?? '-'}`);
      }
      for (const [name, b] of Object.entries(results.behaviour)) {
        log(`  ${name}: FULL ${JSON.stringify(b.settingsFull)} NORMAL ${JSON.stringify(b.settingsNormal)}`);
        log(`    blocked write waited ${b.busyWaitMs} ms (busy_timeout ${BUSY_PROBE_MS}): ${b.busyError}`);
      }
      log(`  printed on load: better-sqlite3 "${results.printedOnLoad.betterSqlite3}"`);
      log(`                   node:sqlite "${results.printedOnLoad.nodeSqlite}"`);
      for (const [api, answer] of Object.entries(results.apis)) {
        log(`  ${api.padEnd(48)} better-sqlite3 ${answer.betterSqlite3.padEnd(10)} node:sqlite ${answer.nodeSqlite}`);
      }
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
