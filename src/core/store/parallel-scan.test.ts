// A scan split over worker threads gives every score the one-thread scan gives, whatever the
// split (fewer rows than threads, uneven runs, rows listed out of order), and grows, restores and
// closes like one; a store whose every scan is split answers exactly as an unsplit one.
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { CodeRows } from './code-rows.js';
import { READ_CHUNK_BYTES } from './parallel-scan.js';
import { encodeQuery } from './quantized-codes.js';
import { openSqliteVectorStore } from './sqlite-vector-store.js';

const DIMENSION = 40;
const ROWS = 3_001;

/** A repeatable pseudo-random float in [-1, 1) (a small LCG; Math.random cannot be seeded). */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

function vectorFrom(next: () => number, dimension = DIMENSION): Float32Array {
  return Float32Array.from({ length: dimension }, () => next());
}

/** Scores of `listed` rows against `query`, as the rows' scan leaves them. */
function scoresOf(rows: CodeRows, listed: readonly number[], query: Float32Array): number[] {
  rows.rows.set(listed);
  rows.scan(encodeQuery(query, rows.stride), listed.length);
  return Array.from(rows.out.subarray(0, listed.length));
}

const opened: CodeRows[] = [];

/** Rows filled with the same vectors; `threads` > 1 splits every scan (no minimum). */
function filledRows(threads: number, count = ROWS): CodeRows {
  const rows = new CodeRows(DIMENSION, count, threads, 0);
  opened.push(rows);
  const next = sequence(7);
  for (let row = 0; row < count; row++) rows.write(row, vectorFrom(next));
  return rows;
}

/** Runs one scan (which starts the workers), then waits until every worker can take a run. */
async function withWorkersReady(rows: CodeRows, threads: number): Promise<void> {
  scoresOf(rows, [0], vectorFrom(sequence(1)));
  await vi.waitFor(() => expect(rows.scanThreads).toBe(threads), { timeout: 20_000 });
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((rows) => rows.close()));
});

describe('a scan split over threads', () => {
  it('gives every listed row the score the one-thread scan gives, for any count', async () => {
    const one = filledRows(1);
    const split = filledRows(4);
    await withWorkersReady(split, 4);
    const next = sequence(99);
    const everyRow = Array.from({ length: ROWS }, (_, row) => row);
    // Rows out of order and repeated; counts below, at and above the number of threads, and
    // one that does not divide evenly.
    const shuffled = everyRow.map((row) => (row * 1_777) % ROWS);
    for (const count of [1, 2, 3, 4, 5, 1_000, ROWS]) {
      const query = vectorFrom(next);
      const listed = shuffled.slice(0, count);
      expect(scoresOf(split, listed, query)).toEqual(scoresOf(one, listed, query));
    }
    expect(split.scanThreads).toBe(4);
  });

  it('scores rows written after growing, and scans on one thread once closed', async () => {
    const one = filledRows(1, 1_024);
    const split = filledRows(3, 1_024);
    await withWorkersReady(split, 3);
    const next = sequence(5);
    // Growing makes a new buffer over the same shared memory; the workers see the new rows.
    one.grow(5_000);
    split.grow(5_000);
    for (let row = 1_024; row < 5_000; row++) {
      const vector = vectorFrom(next);
      one.write(row, vector);
      split.write(row, vector);
    }
    const listed = Array.from({ length: 5_000 }, (_, row) => 4_999 - row);
    const query = vectorFrom(next);
    expect(scoresOf(split, listed, query)).toEqual(scoresOf(one, listed, query));
    await split.close();
    expect(split.scanThreads).toBe(1);
    expect(scoresOf(split, listed, query)).toEqual(scoresOf(one, listed, query));
  });

  it("reads a block's codes with the workers' help, byte for byte, and says when it is short", async () => {
    const rows = filledRows(3, 1_024);
    await withWorkersReady(rows, 3);
    const dir = await mkdtemp(join(tmpdir(), 'findimage-parallel-read-'));
    try {
      // Several chunks and a partial last one, after a header the read must skip.
      const stride = rows.stride;
      const count = Math.ceil((2.5 * READ_CHUNK_BYTES) / stride);
      rows.grow(count);
      const bytes = Buffer.alloc(100 + count * stride);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2_654_435_761) >>> 24;
      const file = join(dir, 'block');
      await writeFile(file, bytes);
      const fd = openSync(file, 'r');
      try {
        const finish = rows.beginCodeRead(fd, 100, count);
        expect(finish).not.toBeNull();
        finish?.();
        expect(Buffer.from(rows.codeBytes(count)).equals(bytes.subarray(100))).toBe(true);
        // One row more than the file holds.
        const short = rows.beginCodeRead(fd, 100 + stride, count);
        expect(() => short?.()).toThrow(/cut short/);
      } finally {
        closeSync(fd);
      }
      // Scans still work after reads.
      const listed = [0, 5, count - 1];
      const one = new CodeRows(DIMENSION, count);
      opened.push(one);
      one.codeBytes(count).set(rows.codeBytes(count));
      for (const row of listed) one.scaleValues(count)[row] = rows.scaleValues(count)[row]!;
      const query = vectorFrom(sequence(3));
      expect(scoresOf(rows, listed, query)).toEqual(scoresOf(one, listed, query));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives a store the same answers, filtered or not, as one that never splits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'findimage-parallel-'));
    const logger = createSilentLogger();
    // Small data behind the index, every scan split: the planner's paths all go through it.
    const search = { indexMinRows: 500, exactBelowRows: 0, maxLists: 16, parallelScanMinRows: 0 };
    const split = await openSqliteVectorStore({
      path: join(dir, 'split.sqlite'),
      dimension: DIMENSION,
      logger,
      search: { ...search, scanThreads: 3 },
    });
    const one = await openSqliteVectorStore({
      path: join(dir, 'one.sqlite'),
      dimension: DIMENSION,
      logger,
      search: { ...search, scanThreads: 1 },
    });
    try {
      const next = sequence(11);
      const points = Array.from({ length: 2_000 }, (_, i) => ({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        vector: vectorFrom(next),
        payload: {
          tenant: 't',
          source: 'slack',
          filename: `${i}.png`,
          contentHash: String(i).padStart(64, '0'),
          modelId: 'tiny-test',
          createdAt: '2026-12-07T00:00:00.000Z',
          width: 2,
          height: 3,
          shares: [
            {
              conversation: `c${i % 7}`,
              isPublic: i % 2 === 0,
              sharedAt: '2026-12-07T00:00:00.000Z',
            },
          ],
        },
      }));
      await split.upsert(points);
      await one.upsert(points);
      const filters = [
        { tenant: 't' },
        { tenant: 't', scope: { conversations: ['c3'], includePublic: false } },
      ];
      for (let q = 0; q < 20; q++) {
        const vector = vectorFrom(next);
        for (const filter of filters) {
          for (const exact of [false, true]) {
            const options = { filter, limit: 10, exact };
            expect(await split.query(vector, options)).toEqual(await one.query(vector, options));
          }
        }
      }
    } finally {
      await split.close();
      await one.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
