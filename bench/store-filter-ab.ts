// Before/after of the embedded store's exact search in one process, interleaved query by query
// so that load from other processes falls on both alike: the working tree's store against an
// older tree's (e.g. `git archive <commit> src | tar -x -C .bench/before`), on one kept store
// file from `npm run bench -- store --keep .bench`. Checks both give identical answers and
// prints p50/p99 and p50 per matching row for the whole tenant and 1, 4 and 8 channels of 40.
// Each side opens its own copy of the database without the saved index, so that each rebuilds
// and saves the index in its own layout (the row order of the saved index is part of what is
// compared); the copies are deleted at the end.
// Run: node --import tsx bench/store-filter-ab.ts STORE.sqlite BEFORE_SRC_DIR [QUERIES]
import { copyFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seededRandom } from './jpeg-corpus.js';
import { conversationId, vectorSourceFor } from './vector-fill.js';
import { createSilentLogger } from '../src/logger.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import type { PointFilter, VectorStore } from '../src/core/store/vector-store.js';
import { percentile } from './latency-summary.js';

const [path, beforeDir, queryArg] = process.argv.slice(2);
if (path === undefined || beforeDir === undefined) {
  process.stderr.write('Usage: node --import tsx bench/store-filter-ab.ts STORE.sqlite BEFORE_SRC_DIR [QUERIES]\n');
  process.exit(2);
}
const queryCount = Number(queryArg ?? 200);
const before = (await import(pathToFileURL(resolve(beforeDir, 'core/store/sqlite-vector-store.ts')).href)) as {
  openSqliteVectorStore: typeof openSqliteVectorStore;
};
const logger = createSilentLogger();
const copies = { before: `${path}.ab-before.sqlite`, after: `${path}.ab-after.sqlite` };
for (const copy of Object.values(copies)) {
  await rm(`${copy}.index`, { force: true });
  await copyFile(path, copy);
}
const stores: Record<string, VectorStore> = {
  before: await before.openSqliteVectorStore({ path: copies.before, dimension: 512, logger }),
  after: await openSqliteVectorStore({ path: copies.after, dimension: 512, logger }),
};
const random = seededRandom(0x9e3779b9);
const source = vectorSourceFor('clustered', 512);
const queries = Array.from({ length: queryCount }, () => source.next(random));
const channels = (n: number): PointFilter => ({
  tenant: 'bench',
  scope: { conversations: Array.from({ length: n }, (_, i) => conversationId(3 + i)), includePublic: false },
});
const kinds: [string, PointFilter][] = [['all', { tenant: 'bench' }], ['1ch', channels(1)], ['4ch', channels(4)], ['8ch', channels(8)]];
const rows: Record<string, number> = {};
for (const [kind, filter] of kinds) rows[kind] = await (stores.after as VectorStore).count(filter);
const times: Record<string, number[]> = {};
let differing = 0;
// One warm-up pass, then the timed one.
for (let pass = 0; pass < 2; pass++) {
  for (const query of queries) {
    for (const [kind, filter] of kinds) {
      const answers: string[] = [];
      for (const [name, store] of Object.entries(stores)) {
        const started = performance.now();
        const hits = await store.query(query, { filter, limit: 10, exact: true });
        if (pass === 1) (times[`${name} ${kind}`] ??= []).push(performance.now() - started);
        answers.push(JSON.stringify(hits.map((hit) => [hit.id, hit.score])));
      }
      if (answers[0] !== answers[1]) differing++;
    }
  }
}
const at = (values: number[], percent: number) => percentile([...values].sort((a, b) => a - b), percent);
process.stdout.write(`${queryCount} queries per series, answers differing: ${differing}\n`);
for (const [kind] of kinds) {
  for (const name of Object.keys(stores)) {
    const series = times[`${name} ${kind}`] as number[];
    const p50 = at(series, 50);
    process.stdout.write(
      `${name.padEnd(6)} ${kind.padEnd(3)} ${String(rows[kind]).padStart(6)} rows: p50 ${p50.toFixed(3)} ms, p99 ${at(series, 99).toFixed(3)} ms, ${((p50 * 1e6) / (rows[kind] as number)).toFixed(0)} ns/row\n`,
    );
  }
}
for (const store of Object.values(stores)) await store.close();
for (const copy of Object.values(copies)) {
  for (const suffix of ['', '-wal', '-shm', '.index']) await rm(`${copy}${suffix}`, { force: true });
}
