// kill -9 against the embedded store, as a black box: a child process (test/fixtures/store-writer.ts)
// writes batches and prints each one the moment it is acknowledged; this test kills it with
// SIGKILL at several points (after some batches, right after opening, while closing), reopens
// the same file, and checks that every acknowledged write is there, every acknowledged delete is
// gone, and default queries answer exactly what `exact: true` answers (no stale index served).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/core/evaluation/bootstrap.js';
import { openSqliteVectorStore } from '../src/core/store/sqlite-vector-store.js';
import { snapshotPathFor } from '../src/core/store/store-snapshot.js';
import type { PointFilter } from '../src/core/store/vector-store.js';
import { createSilentLogger } from '../src/logger.js';
import {
  batchOf,
  clusterCentres,
  clusteredVector,
  DELETED_PER_BATCH,
  deletedBy,
  FORCED_INDEX,
  pointId,
  POINTS_PER_BATCH,
  WRITER_DIMENSION,
  WRITER_TENANT,
} from './fixtures/store-writer.js';

const WRITER = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));
/** More batches than any kill point needs, so a child told to run "forever" is always killed. */
const FOREVER = 10_000;
const QUERIES = 6;
const LIMIT = 10;

/** What one child run printed, and how it ended. */
interface WriterRun {
  lines: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
}

/**
 * Runs the writer from batch `first`; kills it with SIGKILL as soon as `killWhen` is true of the
 * lines printed so far (never, when omitted), and resolves once it has exited and every line it
 * printed has been read.
 */
function runWriter(path: string, first: number, batches: number, killWhen?: (lines: readonly string[]) => boolean): Promise<WriterRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, String(first), String(batches)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (killWhen?.(lines) === true && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' comes after the exit and the end of stdout, so no acknowledgement is missed.
    child.on('close', (code, signal) => resolve({ lines, code, signal }));
  });
}

const acks = (lines: readonly string[]) => lines.filter((line) => line.startsWith('ack ')).map((line) => Number(line.slice(4)));

describe('embedded store under kill -9', () => {
  let dir: string;
  let path: string;
  /** Acknowledged batches so far, in order. */
  const acked: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-store-crash-'));
    path = join(dir, 'vectors.sqlite');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Ids every acknowledged batch wrote and no acknowledged batch deleted, and those deleted. */
  function expected(): { present: string[]; deleted: string[] } {
    const deleted = new Set(acked.flatMap((batch) => deletedBy(batch)));
    const present = acked.flatMap((batch) =>
      Array.from({ length: POINTS_PER_BATCH }, (_, i) => pointId(batch, i)).filter((id) => !deleted.has(id)),
    );
    return { present, deleted: [...deleted] };
  }

  /** Reopens the file in this process and checks it against what was acknowledged. */
  async function checkStore(round: number): Promise<void> {
    const store = await openSqliteVectorStore({
      path,
      dimension: WRITER_DIMENSION,
      logger: createSilentLogger(),
      search: FORCED_INDEX,
    });
    try {
      const { present, deleted } = expected();
      const found = await store.get(present, { tenant: WRITER_TENANT });
      expect(found.length, `round ${round}: acknowledged points present`).toBe(present.length);
      expect(await store.get(deleted, { tenant: WRITER_TENANT }), `round ${round}: acknowledged deletes stay deleted`).toEqual([]);
      expect(await store.count({ tenant: WRITER_TENANT })).toBeGreaterThanOrEqual(present.length);

      const random = seededRandom(1000 + round);
      const centres = clusterCentres();
      const filters: PointFilter[] = [
        { tenant: WRITER_TENANT },
        { tenant: WRITER_TENANT, scope: { conversations: ['C3'], includePublic: false } },
      ];
      // Fresh draws, plus vectors of the newest acknowledged points (a stale index misses them).
      const newest = batchOf(acked.at(-1) as number, centres);
      const queries = [
        ...Array.from({ length: QUERIES }, () => clusteredVector(random, centres)),
        ...[3, 11, 150].map((i) => (newest[i] as { vector: Float32Array }).vector),
      ];
      for (const [q, vector] of queries.entries()) {
        for (const filter of filters) {
          const approximate = await store.query(vector, { filter, limit: LIMIT });
          const exact = await store.query(vector, { filter, limit: LIMIT, exact: true });
          expect(exact).toHaveLength(LIMIT);
          expect(approximate.map((hit) => hit.id), `round ${round}, query ${q}`).toEqual(exact.map((hit) => hit.id));
          // Each score is the stored vector's: a stale index would score an old vector.
          const stored = new Map((await store.get(exact.map((hit) => hit.id), { tenant: WRITER_TENANT, withVector: true })).map((p) => [p.id, p.vector]));
          for (const hit of approximate) {
            const own = stored.get(hit.id) as Float32Array;
            let dot = 0;
            for (let i = 0; i < WRITER_DIMENSION; i++) dot += (own[i] as number) * (vector[i] as number);
            expect(hit.score).toBeCloseTo(dot, 4);
          }
        }
      }
      // A deleted point's own vector finds other points, never the deleted one.
      const gone = deletedBy(acked.at(-1) as number)[0];
      if (gone !== undefined) {
        const before = batchOf((acked.at(-1) as number) - 1, centres).find((point) => point.id === gone);
        const hits = await store.query((before as { vector: Float32Array }).vector, { filter: filters[0] as PointFilter, limit: LIMIT });
        expect(hits.map((hit) => hit.id)).not.toContain(gone);
      }
    } finally {
      await store.close();
    }
  }

  /** Runs the writer from the batch after the last acknowledged one, then checks the file. */
  async function round(n: number, batches: number, killWhen?: (lines: readonly string[]) => boolean): Promise<WriterRun> {
    const first = (acked.at(-1) ?? -1) + 1;
    const run = await runWriter(path, first, batches, killWhen);
    acked.push(...acks(run.lines));
    await checkStore(n);
    return run;
  }

  it(
    'keeps every acknowledged write and answers exactly after kills at several points',
    async () => {
      const afterAcks = (n: number) => (lines: readonly string[]) => acks(lines).length >= n;

      const first = await round(1, FOREVER, afterAcks(1));
      expect(first.signal).toBe('SIGKILL');
      // Killed right after opening a file the last child left mid-write (an index may be rebuilding).
      expect((await round(2, FOREVER, (lines) => lines.includes('opened'))).signal).toBe('SIGKILL');
      expect((await round(3, FOREVER, afterAcks(3))).signal).toBe('SIGKILL');
      // Killed while closing (an index block may be being saved); it may also have finished.
      const closing = await round(4, 3, (lines) => lines.includes('closing'));
      expect(closing.signal === 'SIGKILL' || closing.code === 0).toBe(true);
      expect((await round(5, FOREVER, afterAcks(5))).signal).toBe('SIGKILL');
      // A clean run last: everything it wrote is acknowledged and there after reopening.
      const clean = await round(6, 2);
      expect(clean.code).toBe(0);
      expect(clean.lines.at(-1)).toBe('closed');
      // The clean close saved an index block, so the rounds above ran with one beside the file.
      const block = snapshotPathFor(path);
      expect(existsSync(block)).toBe(true);

      // A damaged block (its middle half zeroed): the store must still open and answer exactly.
      const { size } = await stat(block);
      const handle = await open(block, 'r+');
      try {
        await handle.write(Buffer.alloc(Math.floor(size / 2)), 0, Math.floor(size / 2), Math.floor(size / 4));
      } finally {
        await handle.close();
      }
      await checkStore(7);

      expect(acked.length).toBeGreaterThanOrEqual(1 + 3 + 3 + 5 + 2);
      expect(expected().deleted.length).toBeGreaterThanOrEqual(DELETED_PER_BATCH * 5);
    },
    180_000,
  );
});
