// `node --import tsx bench/label-eval-cache.ts [searches]`: what the labels evaluation's cache
// saves. GET /api/eval runs every labelled search again at 6 cut-offs and the table's, with and
// without feedback; the first load computes, the next ones (no vote in between) are served from
// the cache; a vote makes the next load compute again. The tiny test model (a text embedding in
// about a millisecond) is used, so the computed load here is a floor: with ViT-B/32 on a CPU
// each text embedding costs about 41 ms more (docs/benchmarks.md).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { openFindimage } from '../src/findimage.js';
import { createSilentLogger } from '../src/logger.js';
import { startWebServer } from '../src/web/web-server.js';
import { describeMachine } from './machine-info.js';

const SEARCHES = Number(process.argv[2] ?? 30);
const IMAGES = 50;
const CACHED_LOADS = 20;

async function main(): Promise<void> {
  const machine = describeMachine();
  process.stderr.write(`node --import tsx bench/label-eval-cache.ts ${SEARCHES}\n${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'findimage-eval-cache-'));
  const config = loadConfig({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_DATA: join(dir, 'data'), FINDIMAGE_CACHE: join(dir, 'cache'), FINDIMAGE_DEVICE: 'cpu', FINDIMAGE_MIN_RELATIVE_SCORE: '0' });
  const logger = createSilentLogger();
  const server = await startWebServer({ host: '127.0.0.1', port: 0, dataDir: config.dataDir, logger });
  const findimage = await openFindimage({ config, logger, onEmbedded: (tower, seconds) => server.metrics.embedded(tower, seconds) });
  server.core.ready(findimage);
  findimage.uploads.start();
  const base = server.url.replace(/\/$/, '');
  try {
    const files: Array<{ id: string }> = [];
    for (let i = 0; i < IMAGES; i++) {
      const jpeg = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 } } }).jpeg().toBuffer();
      const form = new FormData();
      form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), `${i}.jpg`);
      files.push(...((await (await fetch(`${base}/api/images`, { method: 'POST', body: form })).json()) as { files: Array<{ id: string }> }).files);
    }
    const vote = async (queryId: string, imageId: string, value: number) =>
      fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId, imageId, user: 'bench', value }) });
    let lastQuery = '';
    for (let i = 0; i < SEARCHES; i++) {
      const { queryId } = (await (await fetch(`${base}/api/search?q=${encodeURIComponent(`colour number ${i}`)}&k=10`)).json()) as { queryId: string };
      await vote(queryId, files[i % files.length]?.id as string, 1);
      lastQuery = queryId;
    }
    const timed = async () => {
      const started = performance.now();
      const response = await fetch(`${base}/api/eval`);
      await response.json();
      return performance.now() - started;
    };
    const computed = await timed();
    const cached: number[] = [];
    for (let i = 0; i < CACHED_LOADS; i++) cached.push(await timed());
    await vote(lastQuery, files[1]?.id as string, -1);
    const afterVote = await timed();
    cached.sort((a, b) => a - b);
    const median = cached[Math.floor(cached.length / 2)] as number;
    process.stdout.write(`${SEARCHES} labelled searches: first load ${computed.toFixed(0)} ms, cached loads median ${median.toFixed(1)} ms (${(computed / median).toFixed(0)}x), first load after a vote ${afterVote.toFixed(0)} ms\n`);
  } finally {
    await server.close();
    await findimage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
