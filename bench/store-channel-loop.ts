// A loop of exact top-10 queries scoped to the first N of the store bench's 40 channels, on one
// kept store file, for `node --cpu-prof`: where a scoped exact query's time goes. Prints the
// mean time per query and per matching row. The store is opened read-only in effect (nothing is
// written, so closing saves nothing).
// Run: node --cpu-prof --cpu-prof-dir .bench/prof --import tsx bench/store-channel-loop.ts \
//        STORE.sqlite [CHANNELS] [QUERIES]
import { seededRandom } from './jpeg-corpus.js';
import { conversationId, vectorSourceFor } from './vector-fill.js';
import { createSilentLogger } from '../src/logger.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import type { PointFilter } from '../src/core/store/vector-store.js';

const [path, channelArg, queryArg] = process.argv.slice(2);
if (path === undefined) {
  process.stderr.write('Usage: node --import tsx bench/store-channel-loop.ts STORE.sqlite [CHANNELS] [QUERIES]\n');
  process.exit(2);
}
const channelCount = Number(channelArg ?? 1);
const queryCount = Number(queryArg ?? 2000);
const store = await openSqliteVectorStore({ path, dimension: 512, logger: createSilentLogger() });
const random = seededRandom(0x9e3779b9);
const source = vectorSourceFor('clustered', 512);
// 200 distinct queries, repeated: the loop measures the search, not the query generator.
const queries = Array.from({ length: 200 }, () => source.next(random));
const filter: PointFilter = {
  tenant: 'bench',
  scope: {
    conversations: Array.from({ length: channelCount }, (_, i) => conversationId(3 + i)),
    includePublic: false,
  },
};
const rows = await store.count(filter);
for (const query of queries) await store.query(query, { filter, limit: 10, exact: true });
const started = performance.now();
for (let i = 0; i < queryCount; i++) {
  await store.query(queries[i % queries.length] as Float32Array, { filter, limit: 10, exact: true });
}
const perQueryMs = (performance.now() - started) / queryCount;
process.stdout.write(
  `${channelCount} channel(s), ${rows} rows, ${queryCount} queries: ` +
    `${(perQueryMs * 1000).toFixed(0)} µs per query, ${((perQueryMs * 1e6) / rows).toFixed(0)} ns per row\n`,
);
await store.close();
