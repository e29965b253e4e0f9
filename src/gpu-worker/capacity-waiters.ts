// Back-pressure for producers: promises that resolve when a lane's queue has room again (the
// pool's answer to piscina's needsDrain/drain events, one place per waiter).
import type { Lane } from '../core/embedding/embedder.js';
import { EmbeddingError, type FindimageError } from '../core/errors.js';
import type { TaskQueue } from './task-queue.js';

interface Waiter {
  resolve: () => void;
  reject: (error: FindimageError) => void;
}

export class CapacityWaiters {
  readonly #waiting: Record<Lane, Waiter[]> = { interactive: [], bulk: [] };

  /** Resolves when notify() finds a place for this waiter; rejects when `signal` aborts. */
  wait(lane: Lane, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting[lane] = this.#waiting[lane].filter((w) => w !== waiter);
        reject(new EmbeddingError('aborted', 'Waiting for room in the embedding queue was cancelled.', { cause: signal?.reason }));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting[lane].push(waiter);
    });
  }

  /** Wakes as many waiters of each lane as its queue has free places, oldest first. */
  notify(queues: Record<Lane, TaskQueue<unknown>>): void {
    for (const lane of ['interactive', 'bulk'] as const) {
      const room = Math.max(0, queues[lane].capacity - queues[lane].size);
      for (const waiter of this.#waiting[lane].splice(0, room)) waiter.resolve();
    }
  }

  /** Rejects every waiter (the pool closed or lost all its workers). */
  rejectAll(error: FindimageError): void {
    for (const lane of ['interactive', 'bulk'] as const) {
      for (const waiter of this.#waiting[lane].splice(0)) waiter.reject(error);
    }
  }
}
