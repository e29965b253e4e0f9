// The embedding worker thread: loads the towers its setup names once (any other on first use),
// then runs the batches the pool sends, one at a time, answering with the vectors in a
// transferred buffer.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { FindimageError } from '../core/errors.js';
import { isEarlyStart } from './early-worker.js';
import type {
  FromWorkerMessage,
  SetupMessage,
  ToWorkerMessage,
  WorkerSetup,
} from './messages.js';
import { lowerOwnThreadPriority } from './thread-priority.js';
import { loadTowers, type TowerSessions } from './tower-sessions.js';

function post(port: NonNullable<typeof parentPort>, message: FromWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** An answer and the buffers it hands over. */
interface Answer {
  message: FromWorkerMessage;
  transfer: ArrayBuffer[];
}

async function runBatch(towers: TowerSessions, request: ToWorkerMessage): Promise<Answer> {
  try {
    const runner = await towers.runner(request.tower);
    const vectors = await runner.run(request.data, request.rows);
    const data = vectors.buffer as ArrayBuffer;
    return { message: { type: 'done', batchId: request.batchId, data }, transfer: [data] };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return { message: { type: 'failed', batchId: request.batchId, message: text }, transfer: [] };
  }
}

async function main(
  port: NonNullable<typeof parentPort>,
  setup: WorkerSetup,
  startedEarly: boolean,
): Promise<void> {
  let towers: TowerSessions;
  // Before any session exists: ONNX Runtime's threads copy this thread's priority when they start.
  const priorityProblem = setup.niceness === undefined ? undefined : lowerOwnThreadPriority(setup.niceness);
  try {
    towers = await loadTowers(setup);
  } catch (error) {
    const coded =
      error instanceof FindimageError
        ? error
        : new FindimageError('model_load_failed', `Could not load the model: ${String(error)}`);
    // After this the thread has nothing to listen to and ends; the pool does not respawn it.
    post(port, { type: 'load_failed', code: coded.code, message: coded.message, details: coded.details });
    return;
  }
  const elementTypes = await towers.elementTypes();
  port.on('message', (message: ToWorkerMessage) => {
    void runBatch(towers, message).then((answer) => post(port, answer.message, answer.transfer));
  });
  post(port, {
    type: 'ready',
    provider: towers.provider,
    ...(towers.fallbackReason === undefined ? {} : { fallbackReason: towers.fallbackReason }),
    towers: towers.loaded,
    elementTypes,
    ...(priorityProblem === undefined ? {} : { priorityProblem }),
    ...(startedEarly ? { startedEarly } : {}),
  });
}

/** The setup of a thread started early: the first message the pool sends it. */
function setupMessage(port: MessagePort): Promise<WorkerSetup> {
  return new Promise((resolve) => {
    port.once('message', (message: SetupMessage) => resolve(message.setup));
  });
}

if (parentPort !== null) {
  const port = parentPort;
  // By now this module's imports, onnxruntime-node's among them, are loaded: a thread started early
  // (early-worker.ts) has done that while the command line was still reading its configuration.
  if (isEarlyStart(workerData)) void setupMessage(port).then((setup) => main(port, setup, true));
  else void main(port, workerData as WorkerSetup, false);
}
