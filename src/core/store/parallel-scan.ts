// Splits one long scan of int8 codes over worker threads that share the codes' WebAssembly
// memory, so that an exact scan of a million rows (the planner's fallback when a query has no
// near theme) takes a share of the cores instead of one. The caller's thread scans a part too
// and waits for the others with Atomics.wait, so a scan stays synchronous and its answer is
// exactly the one-thread scan's: each thread writes the scores of its own slice of rows.
import { readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CodeKernel, CodeMemory } from './code-kernel.js';

/**
 * Most threads one scan is split over: past this the scan is bound by memory bandwidth, and each
 * thread is a worker of about 10 MB.
 */
export const MAX_SCAN_THREADS = 8;

/** The threads a scan uses by default: every core, up to MAX_SCAN_THREADS. */
export function defaultScanThreads(): number {
  return Math.min(MAX_SCAN_THREADS, availableParallelism());
}

/** Where the kernel's arguments for one slice sit: pointers and counts, as in scoreCodes. */
export interface ScanSlice {
  /** Byte offset of the codes. */
  codes: number;
  /** Byte offset of the query's int16 codes. */
  query: number;
  /** Byte offset of this slice's first row number. */
  rows: number;
  /** Rows in this slice. */
  count: number;
  /** Bytes per row of codes. */
  stride: number;
  /** Byte offset of the per-row scales. */
  scales: number;
  /** Byte offset where this slice's first score goes. */
  out: number;
}

// The control block, an Int32Array over a SharedArrayBuffer:
/** Bumped by the caller for each scan; a worker wakes when it changes. */
const GENERATION = 0;
/** Workers still scanning; the last one to finish wakes the caller. */
const PENDING = 1;
/** Set to 1 by close(): the workers leave their loop. */
const STOP = 2;
/** From here on, per worker: its state, then ScanSlice's seven fields in order. */
const SLOTS = 3;
const SLOT_FIELDS = 8;
/** A slot's state (0 while its worker starts): ready, given a slice, or its scan threw. */
const READY = 1;
const ASSIGNED = 2;
const FAILED = 3;
/** A worker that exited: never given a slice again. */
const GONE = 4;

// The read job, beside it (one at a time: a restore reading a saved block's codes):
/** 1 while a read is going on. */
const READ_ACTIVE = 0;
/** The file descriptor to read from (a process's descriptors serve every thread). */
const READ_FD = 1;
/** Chunks in the read, the next one to claim, and how many are done. */
const READ_CHUNKS = 2;
const READ_NEXT = 3;
const READ_DONE = 4;
/** Set to 1 when a chunk could not be read. */
const READ_FAILED = 5;
/** Threads inside the read job; its caller waits for 0 before a next job may reuse the fields. */
const READ_HELPERS = 6;
const READ_STATE_FIELDS = 7;
/** The read's file position, memory offset and length (Float64: beyond 2 GiB). */
const READ_POSITION = 0;
const READ_OFFSET = 1;
const READ_LENGTH = 2;
/** Bytes per chunk of a read: one syscall, and a fine enough split between two threads. */
export const READ_CHUNK_BYTES = 8 * 2 ** 20;

/**
 * Reads chunk `chunk` (of `chunkBytes`) of a read of `length` bytes at file `position` into
 * `buffer` at `offset`; false when it could not be read whole. The caller's thread and the
 * workers both run it: it names nothing outside its parameters, so the workers' program embeds
 * its source (WORKER_SOURCE), which a bundler's renaming of this module's imports cannot break.
 */
function readChunk(
  read: typeof readSync,
  buffer: ArrayBufferLike,
  fd: number,
  position: number,
  offset: number,
  length: number,
  chunk: number,
  chunkBytes: number,
): boolean {
  const start = chunk * chunkBytes;
  const end = Math.min(length, start + chunkBytes);
  try {
    for (let done = start; done < end; ) {
      const got = read(fd, new Uint8Array(buffer, offset + done, end - done), 0, end - done, position + done);
      if (got === 0) return false;
      done += got;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The worker's whole program, evaluated as a script (no file to find, so it works the same from
 * sources, from a bundle and under a test runner). It instantiates the kernel over the shared
 * memory and says it is ready; then, at each new generation, scans its slice if it was given one
 * and counts itself done. A throwing scan still counts itself done (the finally), marked FAILED,
 * so the caller never waits for it forever and rescans that slice itself.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { module, memory, control, readState, readArgs, slot } = workerData;
const scoreCodes = new WebAssembly.Instance(module, { env: { memory } }).exports.scoreCodes;
const at = ${SLOTS} + slot * ${SLOT_FIELDS};
const readChunk = ${readChunk.toString()};
function helpRead() {
  Atomics.add(readState, ${READ_HELPERS}, 1);
  try {
    if (Atomics.load(readState, ${READ_ACTIVE}) !== 1) return;
    const fd = readState[${READ_FD}];
    const chunks = readState[${READ_CHUNKS}];
    const position = readArgs[${READ_POSITION}];
    const offset = readArgs[${READ_OFFSET}];
    const length = readArgs[${READ_LENGTH}];
    for (;;) {
      const chunk = Atomics.add(readState, ${READ_NEXT}, 1);
      if (chunk >= chunks) break;
      try {
        if (!readChunk(readSync, memory.buffer, fd, position, offset, length, chunk, ${READ_CHUNK_BYTES})) {
          Atomics.store(readState, ${READ_FAILED}, 1);
        }
      } finally {
        if (Atomics.add(readState, ${READ_DONE}, 1) + 1 === chunks) Atomics.notify(readState, ${READ_DONE});
      }
    }
  } finally {
    if (Atomics.sub(readState, ${READ_HELPERS}, 1) === 1) Atomics.notify(readState, ${READ_HELPERS});
  }
}
// The generation is read before the first look for a read job: a job posted after that look
// bumps it, so the wait below returns at once.
let seen = Atomics.load(control, ${GENERATION});
Atomics.store(control, at, ${READY});
helpRead();
for (;;) {
  Atomics.wait(control, ${GENERATION}, seen);
  seen = Atomics.load(control, ${GENERATION});
  if (Atomics.load(control, ${STOP}) === 1) break;
  helpRead();
  if (Atomics.load(control, at) !== ${ASSIGNED}) continue;
  let state = ${READY};
  try {
    const count = control[at + 4];
    if (count > 0) {
      const [codes, query, rows] = [control[at + 1], control[at + 2], control[at + 3]];
      scoreCodes(codes, query, rows, count, control[at + 5], control[at + 6], control[at + 7]);
    }
  } catch {
    state = ${FAILED};
  } finally {
    Atomics.store(control, at, state);
    if (Atomics.sub(control, ${PENDING}, 1) === 1) Atomics.notify(control, ${PENDING});
  }
}
`;

/** What the scanner needs of the kernel: its compiled module, shared memory and own call. */
export interface SharedKernel {
  /** The kernel's WebAssembly.Module for a shared memory. */
  module: object;
  /** The shared memory the codes live in. */
  memory: CodeMemory;
  /** scoreCodes on the caller's thread. */
  scoreCodes: CodeKernel['scoreCodes'];
}

/**
 * A pool of threads - 1 workers over one shared kernel memory. They start on the first scan
 * that asks for them, in the background: until a worker has said it is ready, scans are split
 * over the ready ones only (the first scan runs on the caller's thread alone). Workers never keep
 * the process alive, and stop on close().
 */
export class ParallelScan {
  /** Threads a scan is split over at most, the caller's included. */
  readonly threads: number;
  readonly #kernel: SharedKernel;
  readonly #control = new Int32Array(
    new SharedArrayBuffer(4 * (SLOTS + MAX_SCAN_THREADS * SLOT_FIELDS)),
  );
  readonly #readState = new Int32Array(new SharedArrayBuffer(4 * READ_STATE_FIELDS));
  readonly #readArgs = new Float64Array(new SharedArrayBuffer(8 * 3));
  #workers: Worker[] | null = null;
  /** Set by close(): scans then run on the caller alone (as they do while no worker is ready). */
  #off = false;
  /** Slots of the workers to use in the current scan (scratch). */
  readonly #using: number[] = [];

  constructor(kernel: SharedKernel, threads: number) {
    this.#kernel = kernel;
    this.threads = Math.max(1, Math.min(MAX_SCAN_THREADS, Math.floor(threads)));
  }

  /** Workers that have started and can take a slice now. */
  get readyWorkers(): number {
    let ready = 0;
    for (let slot = 0; slot < this.threads - 1; slot++) {
      if (Atomics.load(this.#control, SLOTS + slot * SLOT_FIELDS) === READY) ready++;
    }
    return ready;
  }

  /**
   * Scores `slice.count` rows listed from byte offset `slice.rows` into `slice.out`, as one
   * scoreCodes call would, split into equal runs of consecutive entries, one per ready thread.
   */
  scan(slice: ScanSlice): void {
    const using = this.#using;
    using.length = 0;
    if (this.threads > 1 && !this.#off) {
      this.#start();
      for (let slot = 0; slot < this.threads - 1; slot++) {
        if (Atomics.load(this.#control, SLOTS + slot * SLOT_FIELDS) === READY) using.push(slot);
      }
    }
    if (using.length === 0) {
      this.#scoreOnCaller(slice, 0, slice.count);
      return;
    }
    const per = Math.ceil(slice.count / (using.length + 1));
    const control = this.#control;
    using.forEach((slot, part) => {
      const start = Math.min(slice.count, part * per);
      const at = SLOTS + slot * SLOT_FIELDS;
      control[at + 1] = slice.codes;
      control[at + 2] = slice.query;
      control[at + 3] = slice.rows + 4 * start;
      control[at + 4] = Math.min(slice.count, start + per) - start;
      control[at + 5] = slice.stride;
      control[at + 6] = slice.scales;
      control[at + 7] = slice.out + 4 * start;
      Atomics.store(control, at, ASSIGNED);
    });
    Atomics.store(control, PENDING, using.length);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    // The caller takes the last run, then waits for the others.
    const mine = Math.min(slice.count, using.length * per);
    this.#scoreOnCaller(slice, mine, slice.count - mine);
    for (;;) {
      const pending = Atomics.load(control, PENDING);
      if (pending === 0) break;
      Atomics.wait(control, PENDING, pending);
    }
    // A worker whose scan threw marked itself FAILED: score its run here (this throws too if the
    // fault is in the arguments, as a one-thread scan would), and use it no more.
    using.forEach((slot, part) => {
      if (Atomics.load(control, SLOTS + slot * SLOT_FIELDS) !== FAILED) return;
      const start = Math.min(slice.count, part * per);
      this.#scoreOnCaller(slice, start, Math.min(slice.count, start + per) - start);
    });
  }

  /**
   * Starts reading `length` bytes of `fd` from `position` into the memory at `offset`, in chunks
   * that the workers take as they become ready (starting them if need be); returns a function
   * that reads the chunks left on the caller's thread, waits for the others' and throws if one
   * could not be read. Call it before anything else uses the pool or the descriptor closes.
   */
  beginRead(fd: number, position: number, offset: number, length: number): () => void {
    const state = this.#readState;
    const chunks = Math.ceil(length / READ_CHUNK_BYTES);
    this.#readArgs[READ_POSITION] = position;
    this.#readArgs[READ_OFFSET] = offset;
    this.#readArgs[READ_LENGTH] = length;
    state[READ_FD] = fd;
    state[READ_CHUNKS] = chunks;
    Atomics.store(state, READ_NEXT, 0);
    Atomics.store(state, READ_DONE, 0);
    Atomics.store(state, READ_FAILED, 0);
    Atomics.store(state, READ_ACTIVE, 1);
    if (this.threads > 1 && !this.#off) {
      this.#start();
      Atomics.add(this.#control, GENERATION, 1);
      Atomics.notify(this.#control, GENERATION);
    }
    return () => {
      const memory = this.#kernel.memory;
      for (;;) {
        const chunk = Atomics.add(state, READ_NEXT, 1);
        if (chunk >= chunks) break;
        if (!readChunk(readSync, memory.buffer, fd, position, offset, length, chunk, READ_CHUNK_BYTES)) {
          Atomics.store(state, READ_FAILED, 1);
        }
        Atomics.add(state, READ_DONE, 1);
      }
      for (;;) {
        const done = Atomics.load(state, READ_DONE);
        if (done >= chunks) break;
        Atomics.wait(state, READ_DONE, done);
      }
      // No worker may still hold this job's fields when the next job writes them.
      Atomics.store(state, READ_ACTIVE, 0);
      for (;;) {
        const helpers = Atomics.load(state, READ_HELPERS);
        if (helpers === 0) break;
        Atomics.wait(state, READ_HELPERS, helpers);
      }
      if (Atomics.load(state, READ_FAILED) === 1) throw new Error('index block is cut short');
    };
  }

  /** Stops the workers; later scans run on the caller's thread. */
  async close(): Promise<void> {
    this.#off = true;
    const workers = this.#workers;
    this.#workers = null;
    if (workers === null) return;
    Atomics.store(this.#control, STOP, 1);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  #scoreOnCaller(slice: ScanSlice, start: number, count: number): void {
    if (count <= 0) return;
    const { codes, query, rows, stride, scales, out } = slice;
    this.#kernel.scoreCodes(codes, query, rows + 4 * start, count, stride, scales, out + 4 * start);
  }

  /** Starts the workers once; if that fails, scans stay on the caller's thread. */
  #start(): void {
    if (this.#workers !== null) return;
    const workers: Worker[] = [];
    this.#workers = workers;
    try {
      for (let slot = 0; slot < this.threads - 1; slot++) {
        const worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: {
            module: this.#kernel.module,
            memory: this.#kernel.memory,
            control: this.#control,
            readState: this.#readState,
            readArgs: this.#readArgs,
            slot,
          },
        });
        // A worker must never keep the process alive, nor crash it. One that dies before it is
        // ready is never given a slice; a ready one's own errors are handled in its loop.
        worker.unref();
        worker.on('error', () => undefined);
        worker.on('exit', () => Atomics.store(this.#control, SLOTS + slot * SLOT_FIELDS, GONE));
        workers.push(worker);
      }
    } catch {
      // Too many threads, or none allowed here: the ones that started still help.
    }
  }
}
