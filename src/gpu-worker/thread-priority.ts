// Lower OS scheduling priority (a higher nice value) for the threads that do bulk work: an
// indexing worker's inference threads and libuv's thread pool, where sharp decodes images. On
// Linux the nice value belongs to each thread, not the process (setpriority(2), "NOTES"), so a
// search's threads keep their share of the cores while an index runs beside them. Elsewhere
// setpriority would lower the whole process, so nothing is changed there.
import { readlink } from 'node:fs/promises';
import { setPriority } from 'node:os';

/** Highest nice value Linux accepts: the lowest priority. */
export const MAX_NICENESS = 19;

/** libuv's thread pool size when UV_THREADPOOL_SIZE is not set. */
const DEFAULT_THREADPOOL_SIZE = 4;

/**
 * Rounds of concurrent probes sent to find every thread of libuv's pool. A probe is so short
 * that one thread may answer several; each round wakes the pool again.
 */
const THREADPOOL_PROBE_ROUNDS = 32;

/** Whether thread priorities can be lowered one thread at a time here. */
export function perThreadPriority(): boolean {
  return process.platform === 'linux';
}

/** The kernel's id of the thread reading /proc/thread-self ("<pid>/task/<tid>"). */
function tidFromLink(link: string): number {
  return Number(link.slice(link.lastIndexOf('/') + 1));
}

/**
 * Lowers the calling thread's priority to `niceness`; threads it starts afterwards (ONNX
 * Runtime's intra-op pool, created with the session) inherit it. Returns why it could not, or
 * undefined once done. Raising a nice value needs no privilege, lowering it back does: this is
 * one-way for the thread's lifetime.
 */
export function lowerOwnThreadPriority(niceness: number): string | undefined {
  if (!perThreadPriority()) return `per-thread priorities are Linux-only (this is ${process.platform})`;
  try {
    // pid 0 is "the calling thread" on Linux.
    setPriority(0, niceness);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** What lowering the thread pool's priority did. */
export interface ThreadpoolPriorityResult {
  /** Thread ids of libuv's pool that now run at the lower priority. */
  lowered: number[];
  /** The pool's size: how many threads there should be. */
  expected: number;
  /** Why nothing (or not everything) was lowered, if so. */
  reason?: string;
}

/**
 * Lowers the priority of libuv's thread pool, where sharp decodes and resizes images (and fs
 * and dns.lookup run). Its threads are found by asking them: an asynchronous readlink of
 * /proc/thread-self runs on a pool thread and names that thread. The main thread is never
 * changed.
 */
export async function lowerThreadpoolPriority(niceness: number): Promise<ThreadpoolPriorityResult> {
  const expected = Number(process.env.UV_THREADPOOL_SIZE ?? DEFAULT_THREADPOOL_SIZE) || DEFAULT_THREADPOOL_SIZE;
  if (!perThreadPriority()) {
    return { lowered: [], expected, reason: `per-thread priorities are Linux-only (this is ${process.platform})` };
  }
  const found = new Set<number>();
  try {
    for (let round = 0; round < THREADPOOL_PROBE_ROUNDS && found.size < expected; round++) {
      const links = await Promise.all(Array.from({ length: expected * 4 }, () => readlink('/proc/thread-self')));
      for (const link of links) {
        const tid = tidFromLink(link);
        if (tid !== process.pid) found.add(tid);
      }
    }
  } catch (error) {
    // No /proc (some containers) or a kernel before 3.17: leave the priorities as they are.
    return { lowered: [], expected, reason: error instanceof Error ? error.message : String(error) };
  }
  const lowered: number[] = [];
  let reason: string | undefined;
  for (const tid of found) {
    try {
      setPriority(tid, niceness);
      lowered.push(tid);
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  if (reason === undefined && lowered.length < expected) reason = `found ${lowered.length} of ${expected} pool threads`;
  return { lowered, expected, ...(reason === undefined ? {} : { reason }) };
}
