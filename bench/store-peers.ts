// `npm run bench -- store-peers --vectors N [--queries Q] [--keep DIR]`: the embedded store against
// faiss IVF-Flat on the same vectors and queries (issue 18). The findimage side is the store
// bench's own run (bench/store-bench.ts); its store's vectors and one-channel rows are then
// exported and bench/faiss_peer.py searches them with the faiss_cpu wheel, from a virtual
// environment in .bench/faiss-venv (made from /opt/pypi/files when absent; skipped, with a
// message, where the wheel is not there). Prints both side by side; --json prints both objects.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { seededRandom } from './jpeg-corpus.js';
import { benchOneSize, parseSearch, FILTER_CHANNEL, QUERY_SEED, type StoreBenchResult } from './store-bench.js';
import { conversationId, vectorSourceFor } from './vector-fill.js';

const DIMENSION = 512;
/** Where the wheels are on the bench machine (FACTS.md); pip installs from nothing else. */
const WHEELS = '/opt/pypi/files';
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const VENV = join(ROOT, '.bench', 'faiss-venv');
const PEER_SCRIPT = join(ROOT, 'bench', 'faiss_peer.py');

export const STORE_PEERS_USAGE = `Usage: npm run bench -- store-peers [options]
  --vectors N    store size (default 100000)
  --queries N    timed queries (default 200)
  --keep DIR     keep (or reuse) the filled store in DIR, as the store bench's --keep
  --search JSON  search knobs for findimage's measuring open, as the store bench's --search
  --json         both results as JSON objects on stdout`;

/** What faiss_peer.py prints. */
interface FaissResult {
  vectors: number;
  nlist: number;
  nprobe: number;
  buildS: number;
  recallAt10: number;
  p50Ms: number;
  p99Ms: number;
  filteredP50Ms: number;
  filteredRecallAt10: number;
  channelRows: number;
  threads: number;
  faiss: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The venv's python, made when missing; null (with the reason logged) when faiss cannot be had. */
function faissPython(): string | null {
  const python = join(VENV, 'bin', 'python');
  const check = () => spawnSync(python, ['-c', 'import faiss, numpy'], { stdio: 'ignore' }).status === 0;
  if (existsSync(python) && check()) return python;
  if (!existsSync(WHEELS) || !readdirSync(WHEELS).some((name) => name.startsWith('faiss_cpu-'))) {
    log(`Skipping faiss: no faiss_cpu wheel in ${WHEELS}.`);
    return null;
  }
  log(`Making ${VENV} with faiss-cpu and numpy from ${WHEELS}...`);
  const made = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  const installed =
    made.status === 0 &&
    spawnSync(join(VENV, 'bin', 'pip'), ['install', '-q', '--no-index', '--find-links', WHEELS, 'faiss-cpu', 'numpy'], { stdio: 'inherit' }).status === 0;
  if (!installed || !check()) {
    log('Skipping faiss: its virtual environment could not be made (see pip above).');
    return null;
  }
  return python;
}

async function writeAll(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const out = createWriteStream(path);
  for (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

/** Writes the store's vectors (rowid order), the one-channel mask and the bench's queries. */
async function exportVectors(storePath: string, folder: string, queries: number): Promise<void> {
  const db = new Database(storePath, { readonly: true });
  const channel = conversationId(FILTER_CHANNEL);
  const mask: number[] = [];
  const rows = db.prepare('SELECT vector, payload FROM points ORDER BY rowid').iterate() as IterableIterator<{ vector: Buffer; payload: string }>;
  function* vectors(): Generator<Uint8Array> {
    for (const { vector, payload } of rows) {
      const shares = (JSON.parse(payload) as { shares: { conversation: string }[] }).shares;
      mask.push(shares.some((share) => share.conversation === channel) ? 1 : 0);
      yield vector;
    }
  }
  await writeAll(join(folder, 'vectors.f32'), vectors());
  db.close();
  await writeAll(join(folder, 'channel.u8'), [Uint8Array.from(mask)]);
  // The same stream as the store bench's measure phase, so both sides answer the same queries.
  const random = seededRandom(QUERY_SEED);
  const source = vectorSourceFor('clustered', DIMENSION);
  const list = Array.from({ length: queries }, () => source.next(random));
  await writeAll(join(folder, 'queries.f32'), list.map((q) => new Uint8Array(q.buffer, q.byteOffset, q.byteLength)));
}

function table(ours: StoreBenchResult, peer: FaissResult | null): string {
  const lines = [
    `${ours.vectors.toLocaleString('en-US')} clustered vectors x ${DIMENSION}-d, ${ours.queries} queries (${ours.machine.cores} cores, load ${ours.machine.loadAverage}):`,
    `  findimage (default):  p50 ${ours.p50Ms} ms, p99 ${ours.p99Ms} ms, recall@10 ${ours.recallAt10}; one channel p50 ${ours.filteredP50Ms} ms (recall ${ours.filteredRecallAt10})`,
  ];
  if (peer === null) return [...lines, '  faiss: skipped'].join('\n');
  const r = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
  lines.push(
    `  faiss ${peer.faiss} IVF-Flat:  p50 ${r(peer.p50Ms)} ms, p99 ${r(peer.p99Ms)} ms, recall@10 ${r(peer.recallAt10, 4)} (nlist ${peer.nlist}, nprobe ${peer.nprobe}, ${peer.threads} threads); one channel (IDSelectorBitmap, ${peer.channelRows} rows) p50 ${r(peer.filteredP50Ms)} ms (recall ${r(peer.filteredRecallAt10, 4)})`,
    `  findimage / faiss: p50 ${r(ours.p50Ms / peer.p50Ms, 2)}x, p99 ${r(ours.p99Ms / peer.p99Ms, 2)}x, one channel p50 ${r(ours.filteredP50Ms / peer.filteredP50Ms, 2)}x`,
  );
  return lines.join('\n');
}

/** `npm run bench -- store-peers ...` (argv after "store-peers"); resolves to the exit code. */
export async function runStorePeersBench(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        vectors: { type: 'string', default: '100000' },
        queries: { type: 'string', default: '200' },
        keep: { type: 'string' },
        search: { type: 'string', default: '{}' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}\n\n${STORE_PEERS_USAGE}`);
    return 2;
  }
  if (values.help) {
    log(STORE_PEERS_USAGE);
    return 0;
  }
  const vectors = Number(values.vectors.replace(/_/g, ''));
  const queries = Number(values.queries.replace(/_/g, ''));
  if (!Number.isInteger(vectors) || vectors <= 0 || !Number.isInteger(queries) || queries <= 0) {
    log(`--vectors and --queries must be whole numbers above 0.\n\n${STORE_PEERS_USAGE}`);
    return 2;
  }
  // The store is kept at least until exported: in --keep's folder, or a temporary one.
  const keep = values.keep ?? (await mkdtemp(join(tmpdir(), 'findimage-store-peers-')));
  await mkdir(keep, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'findimage-peer-vectors-'));
  try {
    const ours = await benchOneSize(vectors, 'clustered', queries, keep, parseSearch(values.search));
    let peer: FaissResult | null = null;
    const python = faissPython();
    if (python !== null) {
      log('Exporting the same vectors and queries for faiss...');
      await exportVectors(join(keep, `store-clustered-${vectors}.sqlite`), work, queries);
      log('Running faiss IVF-Flat (training, then an nprobe ladder to recall@10 0.99)...');
      const run = spawnSync(python, [PEER_SCRIPT, work, String(DIMENSION)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
      if (run.status !== 0) throw new Error(`faiss_peer.py failed (exit ${run.status}).`);
      peer = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as FaissResult;
    }
    process.stdout.write(values.json ? `${JSON.stringify({ findimage: ours, faiss: peer })}\n` : `${table(ours, peer)}\n`);
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
    if (values.keep === undefined) await rm(keep, { recursive: true, force: true });
  }
}
