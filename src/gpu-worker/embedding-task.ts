// One input waiting for its vector: which tower and lane, how often it was tried, and how its
// promise settles (exactly once, whoever gets there first: answer, abort, crash or close).
import type { Lane } from '../core/embedding/embedder.js';
import { EmbeddingError, type FindimageError } from '../core/errors.js';
import type { BatchableTask } from './batch-collector.js';

export interface EmbeddingTask extends BatchableTask {
  /** The priority lane it waits in. */
  lane: Lane;
  /** Token ids (text) or CHW pixels (vision), owned by the caller and never detached. */
  input: BigInt64Array | Float32Array;
  /** Times sent to a worker. */
  attempts: number;
  /** Whether its promise has resolved or rejected. */
  settled: boolean;
  /** Settles the caller's promise with the vector. */
  resolve: (vector: Float32Array) => void;
  /** Settles the caller's promise with an error. */
  reject: (error: FindimageError) => void;
  /** Removes the abort listener from the caller's signal. */
  detachAbort: () => void;
}

/** Resolves a task unless it already settled (an aborted task's late answer is dropped). */
export function resolveTask(task: EmbeddingTask, vector: Float32Array): void {
  if (task.settled) return;
  task.settled = true;
  task.detachAbort();
  task.resolve(vector);
}

/** Rejects a task unless it already settled. */
export function rejectTask(task: EmbeddingTask, error: FindimageError): void {
  if (task.settled) return;
  task.settled = true;
  task.detachAbort();
  task.reject(error);
}

/** Copies a batch's inputs, row after row, into one buffer to transfer to the worker. */
export function packInputs(tasks: readonly EmbeddingTask[]): ArrayBuffer {
  const first = tasks[0];
  if (first === undefined) throw new Error('cannot pack an empty batch');
  const width = first.input.length;
  if (first.input instanceof BigInt64Array) {
    const out = new BigInt64Array(tasks.length * width);
    tasks.forEach((task, row) => out.set(task.input as BigInt64Array, row * width));
    return out.buffer;
  }
  const out = new Float32Array(tasks.length * width);
  tasks.forEach((task, row) => out.set(task.input as Float32Array, row * width));
  return out.buffer;
}

/** The error an aborted task or wait rejects with. */
export function abortedError(reason: unknown): EmbeddingError {
  return new EmbeddingError('aborted', 'The embedding was cancelled before it finished.', { cause: reason });
}
