// Search knobs side by side in one process: the same kept store file opened once per variant
// (each with its own SearchTuning overrides), the store bench's 200 fresh queries asked of every
// variant in turn, query by query, so that load from other processes falls on all alike. Prints,
// per variant, p50/p90/p99/max of default top-10 queries (whole tenant and one channel of 40),
// recall@10 against `exact: true` on the first variant, and how many answers differ from it.
// The variants take turns going first in each round.
// Run: node --expose-gc --import tsx bench/store-tuning-ab.ts STORE.sqlite '[{"scanThreads":1},{}]' [QUERIES]
// (the store from `npm run bench -- store --vectors N --keep DIR`; knobs fixed by the saved block,
// such as maxLists, need a store file of their own: a variant may name it, {"path": "...", ...}).
import { loadavg } from 'node:os';
import { seededRandom } from './jpeg-corpus.js';
import { conversationId, vectorSourceFor } from './vector-fill.js';
import { createSilentLogger } from '../src/logger.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import type { SearchTuning } from '../src/core/store/search-planner.js';
import type { PointFilter } from '../src/core/store/vector-store.js';
import { FILTER_CHANNEL, QUERY_SEED } from './store-bench.js';
import { percentile } from './latency-summary.js';

const [path, variantsArg, queryArg] = process.argv.slice(2);
if (path === undefined || variantsArg === undefined) {
  process.stderr.write(
    `Usage: node --import tsx bench/store-tuning-ab.ts STORE.sqlite '[{"scanThreads":1},{}]' [QUERIES]\n`,
  );
  process.exit(2);
}
const variants = JSON.parse(variantsArg) as (Partial<SearchTuning> & { path?: string })[];
const queryCount = Number(queryArg ?? 200);
const logger = createSilentLogger();
const stores = [];
for (const { path: own, ...search } of variants) {
  const started = performance.now();
  const store = await openSqliteVectorStore({ path: own ?? path, dimension: 512, logger, search });
  process.stderr.write(`opened ${own ?? path} ${JSON.stringify(search)} (${store.indexLists} lists) in ${Math.round(performance.now() - started)} ms\n`);
  stores.push(store);
}
const random = seededRandom(QUERY_SEED);
const source = vectorSourceFor('clustered', 512);
const queries = Array.from({ length: queryCount }, () => source.next(random));
const kinds: [string, PointFilter][] = [
  ['all', { tenant: 'bench' }],
  ['1ch', { tenant: 'bench', scope: { conversations: [conversationId(FILTER_CHANNEL)], includePublic: false } }],
];
const times = new Map<string, number[]>();
const answers = new Map<string, string[][]>();
const loads: number[] = [];
// A warm-up pass of 10 queries (starts the scan threads), then the timed pass.
for (const [pass, list] of [[0, queries.slice(0, 10)], [1, queries]] as const) {
  for (const [q, query] of list.entries()) {
    for (const [kind, filter] of kinds) {
      // The variants take turns going first: a query right after the exact one (a scan of every
      // row) finds colder caches.
      for (let turn = 0; turn < stores.length; turn++) {
        const v = (q + turn) % stores.length;
        const store = stores[v]!;
        const started = performance.now();
        const hits = await store.query(query, { filter, limit: 10 });
        if (pass === 1) {
          const key = `${v} ${kind}`;
          (times.get(key) ?? times.set(key, []).get(key)!).push(performance.now() - started);
          (answers.get(key) ?? answers.set(key, []).get(key)!).push(hits.map((hit) => hit.id));
        }
      }
      if (pass === 1) {
        const hits = await stores[0]!.query(query, { filter, limit: 10, exact: true });
        const key = `exact ${kind}`;
        (answers.get(key) ?? answers.set(key, []).get(key)!).push(hits.map((hit) => hit.id));
      }
    }
    if (pass === 1) loads.push(loadavg()[0] ?? 0);
  }
}
const at = (values: number[], percent: number) => percentile([...values].sort((a, b) => a - b), percent);
const round = (n: number) => Math.round(n * 100) / 100;
const recall = (found: string[][], exact: string[][]) =>
  found.reduce((sum, ids, q) => {
    const truth = exact[q] as string[];
    return sum + (truth.length === 0 ? 1 : truth.filter((id) => ids.includes(id)).length / truth.length);
  }, 0) / found.length;
process.stdout.write(
  `${queryCount} queries, load ${round(Math.min(...loads))} to ${round(Math.max(...loads))}\n`,
);
for (const [kind] of kinds) {
  for (const [v, search] of variants.entries()) {
    const t = times.get(`${v} ${kind}`) as number[];
    const mine = answers.get(`${v} ${kind}`) as string[][];
    const first = answers.get(`0 ${kind}`) as string[][];
    const differ = mine.filter((ids, q) => ids.join() !== (first[q] as string[]).join()).length;
    process.stdout.write(
      `${kind} ${JSON.stringify(search)} lists ${stores[v]!.indexLists} threads ${stores[v]!.scanThreads}: p50 ${round(at(t, 50))} p90 ${round(at(t, 90))} ` +
        `p99 ${round(at(t, 99))} max ${round(Math.max(...t))} ms, recall@10 ${Math.round(recall(mine, answers.get(`exact ${kind}`) as string[][]) * 10_000) / 10_000}, ` +
        `answers differing from the first: ${differ}\n`,
    );
  }
}
for (const store of stores) await store.close();
