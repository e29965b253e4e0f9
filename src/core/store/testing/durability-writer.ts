// Child process of the kill -9 test: upserts batches into a SqliteVectorStore forever and prints
// each batch's ids on one stdout line only after upsert() resolved (the acknowledgement).
// Usage: node --import tsx durability-writer.ts <database path> <dimension> <batch size>
import { createSilentLogger } from '../../../logger.js';
import { openSqliteVectorStore } from '../sqlite-vector-store.js';
import { durabilityPoint } from './durability-points.js';

const [path, dimensionText, batchText] = process.argv.slice(2);
if (path === undefined || dimensionText === undefined || batchText === undefined) {
  process.stderr.write('usage: durability-writer.ts <database path> <dimension> <batch size>\n');
  process.exit(2);
}
const dimension = Number(dimensionText);
const batchSize = Number(batchText);

const store = await openSqliteVectorStore({ path, dimension, logger: createSilentLogger() });
for (let n = 0; ;) {
  const batch = [];
  for (let i = 0; i < batchSize; i++) batch.push(durabilityPoint(n++, dimension));
  await store.upsert(batch);
  // A write to a pipe is synchronous on Linux, so the line is out before the next batch starts.
  process.stdout.write(`${batch.map((p) => p.id).join(' ')}\n`);
}
