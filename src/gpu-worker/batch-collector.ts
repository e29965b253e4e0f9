// Dynamic batching over the two priority lanes: picks the next batch for an idle worker, or says
// how long to wait for a partial batch to fill.
import type { Lane } from '../core/embedding/embedder.js';
import type { Tower } from './messages.js';
import type { TaskQueue } from './task-queue.js';

/** Lanes in priority order: a waiting search is always served before any indexing. */
export const LANES_BY_PRIORITY: readonly Lane[] = ['interactive', 'bulk'];

/** What the collector needs to know about a task. */
export interface BatchableTask {
  /** The tower it runs on; a batch never mixes towers. */
  tower: Tower;
  /** performance.now() when it was first queued. */
  enqueuedAt: number;
  /** Run alone: it was in a batch whose worker crashed, so it must not take others down. */
  isolate: boolean;
}

/** The collector's answer for one idle worker. */
export type NextBatch<T> =
  | { kind: 'run'; lane: Lane; tower: Tower; tasks: T[] }
  | { kind: 'wait'; ms: number }
  | { kind: 'empty' };

/** What an idle worker may take; a search worker takes only interactive text work. */
export interface WorkerAbility {
  lanes: readonly Lane[];
  towers: readonly Tower[];
}

/** A general worker: every lane, both towers. */
export const ANY_WORK: WorkerAbility = { lanes: LANES_BY_PRIORITY, towers: ['text', 'vision'] };

export interface BatchCollectorOptions {
  /** Most rows in one batch, and in a bulk batch while searches are about. */
  maxBatch: number;
  /**
   * Most rows in a bulk batch while no search is waiting and none ran for quietMs: larger
   * batches run faster per image, but a search arriving meanwhile shares the cores with the
   * whole batch. Default maxBatch (no change).
   */
  quietBulkBatch?: number;
  /** How long after the last search bulk batches keep to maxBatch, in ms. Default 0. */
  quietMs?: number;
  /** How long the oldest task of a partial batch waits for company, in ms. */
  batchWaitMs: number;
}

export class BatchCollector<T extends BatchableTask> {
  readonly #queues: Record<Lane, TaskQueue<T>>;
  #maxBatch: number;
  readonly #quietBulkBatch: number | undefined;
  readonly #quietMs: number;
  readonly #batchWaitMs: number;
  /** performance.now() of the last search handed out or answered; -Infinity before any. */
  #lastSearchAt = Number.NEGATIVE_INFINITY;

  constructor(queues: Record<Lane, TaskQueue<T>>, options: BatchCollectorOptions) {
    this.#queues = queues;
    this.#maxBatch = options.maxBatch;
    this.#quietBulkBatch = options.quietBulkBatch;
    this.#quietMs = options.quietMs ?? 0;
    this.#batchWaitMs = options.batchWaitMs;
  }

  /** Tells the collector a search ran until `now` (the pool calls it when one is answered). */
  noteSearch(now: number): void {
    this.#lastSearchAt = Math.max(this.#lastSearchAt, now);
  }

  /**
   * Most rows in a bulk batch that starts at `now`: quietBulkBatch while no search waits and
   * none ran for quietMs, maxBatch otherwise.
   */
  bulkBatchLimit(now: number): number {
    const searching = this.#queues.interactive.size > 0 || now - this.#lastSearchAt < this.#quietMs;
    return searching ? this.#maxBatch : (this.#quietBulkBatch ?? this.#maxBatch);
  }

  /** Most rows per batch from now on (the pool sets it once it knows the provider). */
  set maxBatch(value: number) {
    this.#maxBatch = value;
  }

  get maxBatch(): number {
    return this.#maxBatch;
  }

  /**
   * The next batch: the highest lane with work, the tower of its oldest task, up to maxBatch of
   * that tower's tasks in arrival order. A partial batch runs once its oldest task has waited
   * batchWaitMs. While the interactive lane holds a partial batch, bulk work does not start: an
   * idle worker taken by a bulk batch now would make the search wait a whole batch later.
   */
  next(now: number, ability: WorkerAbility = ANY_WORK): NextBatch<T> {
    for (const lane of LANES_BY_PRIORITY) {
      if (!ability.lanes.includes(lane)) continue;
      const queue = this.#queues[lane];
      const head = queue.find((t) => ability.towers.includes(t.tower));
      if (head === undefined) continue;
      if (head.isolate) {
        if (lane === 'interactive') this.noteSearch(now);
        return { kind: 'run', lane, tower: head.tower, tasks: queue.take((t) => t === head, 1) };
      }
      const tower = head.tower;
      const joins = (t: T): boolean => t.tower === tower && !t.isolate;
      const waited = now - head.enqueuedAt;
      const limit = lane === 'bulk' ? this.bulkBatchLimit(now) : this.#maxBatch;
      if (queue.count(joins) >= limit || waited >= this.#batchWaitMs) {
        if (lane === 'interactive') this.noteSearch(now);
        return { kind: 'run', lane, tower, tasks: queue.take(joins, limit) };
      }
      return { kind: 'wait', ms: this.#batchWaitMs - waited };
    }
    return { kind: 'empty' };
  }
}
