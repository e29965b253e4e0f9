// Dynamic batching over two lanes: full batches at once, partial ones after the wait, searches first.
import { describe, expect, test } from 'vitest';
import type { Lane } from '../core/embedding/embedder.js';
import { BatchCollector, type BatchableTask } from './batch-collector.js';
import type { Tower } from './messages.js';
import { TaskQueue } from './task-queue.js';

interface Task extends BatchableTask {
  name: string;
}

function setup(maxBatch: number, batchWaitMs: number, adaptive: { quietBulkBatch?: number; quietMs?: number } = {}) {
  const queues: Record<Lane, TaskQueue<Task>> = { interactive: new TaskQueue(100), bulk: new TaskQueue(100) };
  const collector = new BatchCollector(queues, { maxBatch, batchWaitMs, ...adaptive });
  const add = (lane: Lane, name: string, tower: Tower, enqueuedAt: number, isolate = false): void => {
    queues[lane].push({ name, tower, enqueuedAt, isolate });
  };
  const names = (next: ReturnType<typeof collector.next>): string[] =>
    next.kind === 'run' ? next.tasks.map((t) => t.name) : [];
  return { queues, collector, add, names };
}

describe('BatchCollector', () => {
  test('has nothing to run when both lanes are empty', () => {
    const { collector } = setup(4, 10);
    expect(collector.next(0)).toEqual({ kind: 'empty' });
  });

  test('a partial batch waits what is left of batchWaitMs after its oldest task', () => {
    const { collector, add } = setup(4, 10);
    add('bulk', 'a', 'vision', 100);
    add('bulk', 'b', 'vision', 103);
    expect(collector.next(104)).toEqual({ kind: 'wait', ms: 6 });
  });

  test('runs a partial batch once its oldest task has waited batchWaitMs', () => {
    const { collector, add, names } = setup(4, 10);
    add('bulk', 'a', 'vision', 100);
    add('bulk', 'b', 'vision', 103);
    const next = collector.next(110);
    expect(next).toMatchObject({ kind: 'run', lane: 'bulk', tower: 'vision' });
    expect(names(next)).toEqual(['a', 'b']);
  });

  test('runs a full batch at once, at most maxBatch tasks of the oldest task\'s tower, in arrival order', () => {
    const { queues, collector, add, names } = setup(3, 1000);
    add('bulk', 'v1', 'vision', 0);
    add('bulk', 't1', 'text', 1);
    add('bulk', 'v2', 'vision', 2);
    add('bulk', 'v3', 'vision', 3);
    add('bulk', 'v4', 'vision', 4);
    expect(names(collector.next(5))).toEqual(['v1', 'v2', 'v3']);
    expect(queues.bulk.drain().map((t) => t.name)).toEqual(['t1', 'v4']);
  });

  test('serves the interactive lane first, and holds ready bulk work while a search batch fills', () => {
    const { collector, add, names } = setup(8, 10);
    for (let i = 0; i < 8; i++) add('bulk', `image ${i}`, 'vision', 0);
    add('interactive', 'query', 'text', 50);
    expect(collector.next(55)).toEqual({ kind: 'wait', ms: 5 });
    expect(names(collector.next(60))).toEqual(['query']);
    expect(names(collector.next(60))).toHaveLength(8);
  });

  test('runs an isolated task alone even when others of its tower wait', () => {
    const { collector, add, names } = setup(8, 0);
    add('bulk', 'suspect', 'vision', 0, true);
    add('bulk', 'b', 'vision', 1);
    add('bulk', 'c', 'vision', 2);
    expect(names(collector.next(10))).toEqual(['suspect']);
    expect(names(collector.next(10))).toEqual(['b', 'c']);
  });

  test('a search worker takes the oldest interactive text task, passing over image searches and bulk work', () => {
    const { collector, add, names } = setup(4, 0);
    add('bulk', 'index me', 'text', 1);
    add('interactive', 'similar image', 'vision', 2);
    add('interactive', 'query', 'text', 3);
    const next = collector.next(10, { lanes: ['interactive'], towers: ['text'] });
    expect(next).toMatchObject({ kind: 'run', lane: 'interactive', tower: 'text' });
    expect(names(next)).toEqual(['query']);
    expect(collector.next(10, { lanes: ['interactive'], towers: ['text'] })).toEqual({ kind: 'empty' });
  });

  test('a worker held to interactive work leaves bulk work queued', () => {
    const { collector, add } = setup(4, 0);
    add('bulk', 'index me', 'vision', 1);
    expect(collector.next(10, { lanes: ['interactive'], towers: ['text', 'vision'] })).toEqual({ kind: 'empty' });
    expect(collector.next(10)).toMatchObject({ kind: 'run', lane: 'bulk' });
  });

  test('the batch size can change once the provider is known', () => {
    const { collector, add, names } = setup(8, 0);
    for (const n of ['a', 'b', 'c']) add('bulk', n, 'vision', 1);
    collector.maxBatch = 2;
    expect(names(collector.next(10))).toEqual(['a', 'b']);
  });
});

/** A worker that may take only bulk work: sees the bulk batch that would run beside a search. */
const BULK_ONLY = { lanes: ['bulk'], towers: ['text', 'vision'] } as const;

describe('BatchCollector: bulk batch size adapts to searches', () => {
  const adaptive = { quietBulkBatch: 8, quietMs: 1000 };

  test('bulk batches are large while no search is waiting or has run', () => {
    const { collector, add, names } = setup(2, 0, adaptive);
    for (let i = 0; i < 10; i++) add('bulk', `image ${i}`, 'vision', 0);
    expect(collector.bulkBatchLimit(5)).toBe(8);
    expect(names(collector.next(5))).toHaveLength(8);
  });

  test('while a search waits, bulk batches keep to maxBatch, and the search is dispatched first', () => {
    const { collector, add, names } = setup(2, 0, adaptive);
    for (let i = 0; i < 10; i++) add('bulk', `image ${i}`, 'vision', 0);
    add('interactive', 'query', 'text', 1);
    expect(collector.bulkBatchLimit(5)).toBe(2);
    expect(names(collector.next(5, BULK_ONLY))).toEqual(['image 0', 'image 1']);
    expect(names(collector.next(5))).toEqual(['query']);
  });

  test('after a search bulk batches stay small for quietMs, then grow again', () => {
    const { collector, add, names } = setup(2, 0, adaptive);
    add('interactive', 'query', 'text', 0);
    expect(names(collector.next(10))).toEqual(['query']);
    for (let i = 0; i < 20; i++) add('bulk', `image ${i}`, 'vision', 10);
    expect(names(collector.next(500))).toHaveLength(2);
    // The pool reports the answer at 700: quiet is counted from there.
    collector.noteSearch(700);
    expect(names(collector.next(1600))).toHaveLength(2);
    expect(names(collector.next(1700))).toHaveLength(8);
  });

  test('a partial quiet batch waits for company up to batchWaitMs, as any batch does', () => {
    const { collector, add, names } = setup(2, 10, adaptive);
    for (let i = 0; i < 3; i++) add('bulk', `image ${i}`, 'vision', 100);
    expect(collector.next(105)).toEqual({ kind: 'wait', ms: 5 });
    expect(names(collector.next(110))).toEqual(['image 0', 'image 1', 'image 2']);
  });

  test('without quietBulkBatch nothing changes: bulk batches are maxBatch', () => {
    const { collector, add, names } = setup(2, 0);
    for (let i = 0; i < 10; i++) add('bulk', `image ${i}`, 'vision', 0);
    expect(collector.bulkBatchLimit(5)).toBe(2);
    expect(names(collector.next(5))).toHaveLength(2);
  });
});
