// A process that searches for the text on its own command line, through the core (the pool's
// worker threads, ClipEmbedder, SearchService), and prints what it got as one line of JSON.
// The long-query tests start it with the query in argv, as a script or a bot might be started:
// the length of a process's command line, not the query as such, is what ONNX Runtime's telemetry
// once choked on. Run with `node --import tsx`; the FINDIMAGE_* variables choose model and data.
import { loadConfig } from '../config.js';
import { openFindimage } from '../findimage.js';
import { createSilentLogger } from '../logger.js';

const text = process.argv.slice(2).join(' ');
const findimage = await openFindimage({ config: loadConfig(process.env), logger: createSilentLogger() });
try {
  const vector = await findimage.embedder.embedQuery(text);
  const results = await findimage.search.searchText({ text, scope: { tenant: 'local' }, limit: 5 });
  process.stdout.write(`${JSON.stringify({ chars: text.length, vector: Array.from(vector), hits: results.hits.length })}\n`);
} finally {
  await findimage.close();
}
