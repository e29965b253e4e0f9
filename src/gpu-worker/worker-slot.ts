// One embedding worker thread as the pool sees it: starting, idle or busy with one batch, and
// what to tell the pool when it answers or dies.
import type { Worker } from 'node:worker_threads';
import { EmbeddingError, FindimageError, ModelError } from '../core/errors.js';
import type {
  BatchDoneMessage,
  BatchFailedMessage,
  FromWorkerMessage,
  ReadyMessage,
  RunBatchMessage,
  WorkerSetup,
} from './messages.js';
import { startWorker } from './worker-entry.js';

export type SlotState = 'starting' | 'idle' | 'busy' | 'stopped';

/** What a slot reports to the pool once it is ready. */
export interface WorkerSlotEvents {
  /** The worker answered a batch. */
  onAnswer(slot: WorkerSlot, answer: BatchDoneMessage | BatchFailedMessage): void;
  /** The worker died after it was ready (exit, uncaught error, out of memory). */
  onCrash(slot: WorkerSlot, description: string): void;
}

export class WorkerSlot {
  readonly id: number;
  /** Resolves when both sessions are loaded; rejects with the reason it could not start. */
  readonly ready: Promise<ReadyMessage>;
  #state: SlotState = 'starting';
  #batchId: number | null = null;
  readonly #worker: Worker;
  #lastError: Error | undefined;
  #rejectReady: (error: FindimageError) => void = () => undefined;

  constructor(id: number, url: URL, setup: WorkerSetup, events: WorkerSlotEvents) {
    this.id = id;
    this.#worker = startWorker(url, { workerData: setup });
    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      this.#rejectReady = reject;
      this.#worker.on('message', (message: FromWorkerMessage) => {
        switch (message.type) {
          case 'ready':
            this.#state = 'idle';
            resolve(message);
            return;
          case 'load_failed':
            this.#state = 'stopped';
            reject(rebuildLoadError(message.code, message.message, message.details));
            return;
          case 'done':
          case 'failed':
            if (this.#batchId !== message.batchId) return;
            this.#batchId = null;
            this.#state = 'idle';
            events.onAnswer(this, message);
        }
      });
      // A worker may throw any value, not only an Error (Node's types say `unknown`).
      this.#worker.on('error', (error: unknown) => {
        this.#lastError = error instanceof Error ? error : new Error(String(error));
      });
      this.#worker.on('exit', (code) => {
        const was = this.#state;
        this.#state = 'stopped';
        const description = `exit code ${code}${this.#lastError ? `: ${this.#lastError.message}` : ''}`;
        if (was === 'starting') {
          reject(
            new EmbeddingError(
              'worker_crashed',
              `An embedding worker stopped while loading the model (${description}).`,
              { cause: this.#lastError, details: { exitCode: code } },
            ),
          );
        } else if (was !== 'stopped') {
          events.onCrash(this, description);
        }
      });
    });
    // The pool awaits `ready`; this keeps a startup failure that nobody awaits yet from being an
    // unhandled rejection.
    this.ready.catch(() => undefined);
  }

  get state(): SlotState {
    return this.#state;
  }

  /** The batch this worker is running, or null. */
  get batchId(): number | null {
    return this.#batchId;
  }

  /** Sends one batch, transferring its buffer; the slot must be idle. */
  run(message: RunBatchMessage): void {
    if (this.#state !== 'idle') throw new Error(`worker ${this.id} is ${this.#state}, not idle`);
    this.#state = 'busy';
    this.#batchId = message.batchId;
    this.#worker.postMessage(message, [message.data]);
  }

  /** Ends the thread; later exits are not reported as crashes. */
  async terminate(): Promise<void> {
    if (this.#state === 'starting') {
      this.#rejectReady(new EmbeddingError('aborted', 'The embedding worker was stopped while it was loading.'));
    }
    this.#state = 'stopped';
    await this.#worker.terminate();
  }
}

function rebuildLoadError(
  code: FindimageError['code'],
  message: string,
  details: Record<string, unknown>,
): FindimageError {
  // Class instances do not survive postMessage; the code says which one it was.
  if (code === 'device_unavailable') return new EmbeddingError(code, message, { details });
  if (code === 'model_load_failed') return new ModelError(code, message, { details });
  return new FindimageError(code, message, { details });
}
