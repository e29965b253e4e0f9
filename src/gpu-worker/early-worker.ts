// An embedding worker thread started before the command line has read its configuration, so a
// one-shot `findimage search` overlaps the thread's boot and onnxruntime-node's import (about 100
// ms of a cold search, docs/benchmarks.md "Issue 18, part 3") with the bundle's own loading.
// bin/findimage.js starts it, with no setup yet; the pool's first worker adopts it
// (worker-entry.ts) and sends the setup as the thread's first message. A thread nobody adopts is
// unreferenced, so it never keeps the process alive.
import { Worker } from 'node:worker_threads';
import { disableOnnxTelemetry } from './onnx-telemetry.js';

/** workerData of a thread started early: it waits for a SetupMessage before loading anything. */
export interface EarlyStartData {
  /** Marks the thread as started before its setup was known. */
  earlyStart: true;
}

/** The one early thread of this process and where its code came from. */
interface EarlyWorker {
  /** The worker's entry module (compared with the URL the pool starts). */
  href: string;
  /** The running thread. */
  worker: Worker;
  /** Set when the thread failed or ended before anyone adopted it (its module failed to load). */
  failed: boolean;
}

/**
 * Where the early thread waits between bin/findimage.js and the pool: a global, not this module's
 * state, because the two may load this code from different files (the bin's entry and the bundle's
 * chunk of it) and each would have its own copy.
 */
const SLOT = Symbol.for('findimage.earlyEmbeddingWorker');

type WithEarlyWorker = typeof globalThis & { [SLOT]?: EarlyWorker };

/** The commands whose first step is the embedding pool: a search embeds its text at once. */
const COMMANDS_THAT_EMBED_AT_ONCE = new Set(['search']);

/**
 * Starts the embedding worker on `url` now, when the command line (`argv`, without node and the
 * script) runs a command that loads the model first; nothing for any other command or for help.
 * ONNX Runtime's telemetry is turned off before the thread exists, as startWorker does.
 */
export function startEarlyWorker(url: URL, argv: readonly string[]): void {
  if (!COMMANDS_THAT_EMBED_AT_ONCE.has(argv[0] ?? '') || argv.includes('--help') || argv.includes('-h')) return;
  const global = globalThis as WithEarlyWorker;
  if (global[SLOT] !== undefined) return;
  disableOnnxTelemetry();
  const data: EarlyStartData = { earlyStart: true };
  const worker = new Worker(url, { workerData: data });
  const early: EarlyWorker = { href: url.href, worker, failed: false };
  // An early thread that fails to load is replaced by a fresh one, which reports why.
  const failed = () => {
    early.failed = true;
  };
  worker.once('exit', failed);
  worker.on('error', failed);
  worker.unref();
  global[SLOT] = early;
}

/**
 * The early thread, when one was started on `url` and still runs, handed over once: the caller
 * sends it its setup and owns it from then on (it is referenced again). undefined otherwise.
 */
export function adoptEarlyWorker(url: URL): Worker | undefined {
  const global = globalThis as WithEarlyWorker;
  const early = global[SLOT];
  if (early === undefined || early.href !== url.href) return undefined;
  delete global[SLOT];
  if (early.failed) {
    void early.worker.terminate();
    return undefined;
  }
  early.worker.removeAllListeners('error');
  early.worker.removeAllListeners('exit');
  early.worker.ref();
  return early.worker;
}

/**
 * Ends the early thread if nothing adopted it (the command failed before its pool started, a usage
 * error say), resolving once the thread has stopped. bin/findimage.js awaits it before the process
 * ends, so the process never exits while the thread is still loading onnxruntime-node's native
 * code, whose teardown at exit would race that load.
 */
export async function stopUnadoptedEarlyWorker(): Promise<void> {
  const global = globalThis as WithEarlyWorker;
  const early = global[SLOT];
  if (early === undefined) return;
  delete global[SLOT];
  await early.worker.terminate();
}

/** The early thread waiting to be adopted, if any, without handing it over (for its tests). */
export function waitingEarlyWorker(): Worker | undefined {
  return (globalThis as WithEarlyWorker)[SLOT]?.worker;
}

/** Whether a thread's workerData says it was started early and waits for its setup. */
export function isEarlyStart(data: unknown): data is EarlyStartData {
  return typeof data === 'object' && data !== null && (data as Partial<EarlyStartData>).earlyStart === true;
}
