// The early embedding thread: started by bin/findimage.js for a search only, adopted once by the
// first worker the pool starts on the same code, which sends it the setup as its first message.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adoptEarlyWorker, isEarlyStart, startEarlyWorker, stopUnadoptedEarlyWorker, waitingEarlyWorker } from './early-worker.js';
import type { WorkerSetup } from './messages.js';
import { startWorker } from './worker-entry.js';

/** A stand-in worker entry: answers its workerData and its first message, then waits. */
const ECHO_WORKER = `
import { parentPort, workerData } from 'node:worker_threads';
parentPort.once('message', (message) => parentPort.postMessage({ workerData, first: message }));
parentPort.postMessage({ loaded: true });
`;

/** A worker entry that fails as it loads, as one whose onnxruntime-node cannot load would. */
const FAILING_WORKER = `throw new Error('cannot load');`;

let folder: string;
let echoUrl: URL;
let failingUrl: URL;
const started: Worker[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'findimage-early-worker-'));
  await writeFile(join(folder, 'echo-worker.mjs'), ECHO_WORKER);
  await writeFile(join(folder, 'failing-worker.mjs'), FAILING_WORKER);
  echoUrl = pathToFileURL(join(folder, 'echo-worker.mjs'));
  failingUrl = pathToFileURL(join(folder, 'failing-worker.mjs'));
});

afterEach(async () => {
  // Whatever a test left unadopted is taken and ended, so the next one starts clean.
  for (const url of [echoUrl, failingUrl]) {
    const left = adoptEarlyWorker(url);
    if (left !== undefined) started.push(left);
  }
  await Promise.all(started.splice(0).map((worker) => worker.terminate()));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** What the echo worker answers once it got its first message. */
interface Echo {
  workerData: unknown;
  first: unknown;
}

function firstMessageEchoed(worker: Worker): Promise<Echo> {
  return new Promise((resolve) => {
    worker.on('message', (message: Partial<Echo>) => {
      if (message.first !== undefined) resolve(message as Echo);
    });
  });
}

const SETUP = { dimension: 512, device: 'cpu' } as unknown as WorkerSetup;

describe('an early embedding thread', () => {
  it('is started for a search, and not for other commands or for help', () => {
    for (const argv of [['index', 'photos'], ['search', '--help'], ['search', '-h'], ['--help'], []]) {
      startEarlyWorker(echoUrl, argv);
      expect(adoptEarlyWorker(echoUrl), argv.join(' ')).toBeUndefined();
    }
    startEarlyWorker(echoUrl, ['search', 'black', 'car']);
    const worker = adoptEarlyWorker(echoUrl);
    expect(worker).toBeDefined();
    started.push(worker!);
  });

  it('is adopted by the first worker started on its code, which sends the setup as its first message', async () => {
    startEarlyWorker(echoUrl, ['search', 'black car']);
    const worker = startWorker(echoUrl, { workerData: SETUP });
    started.push(worker);
    // The thread began with no setup, marked as started early, and its first message is the setup.
    const answer = await firstMessageEchoed(worker);
    expect(isEarlyStart(answer.workerData)).toBe(true);
    expect(answer.first).toEqual({ type: 'setup', setup: SETUP });
  });

  it('is adopted once: a second worker is a thread of its own, given its setup as workerData', async () => {
    startEarlyWorker(echoUrl, ['search', 'black car']);
    const first = startWorker(echoUrl, { workerData: SETUP });
    const second = startWorker(echoUrl, { workerData: SETUP });
    started.push(first, second);
    expect(second).not.toBe(first);
    second.postMessage('hello');
    const answer = await firstMessageEchoed(second);
    expect(answer).toEqual({ workerData: SETUP, first: 'hello' });
  });

  it('is not adopted by a worker on other code, or with options a setup message cannot carry', async () => {
    startEarlyWorker(echoUrl, ['search', 'black car']);
    const other = startWorker(failingUrl, { workerData: SETUP });
    started.push(other);
    other.on('error', () => undefined);
    const withLimits = startWorker(echoUrl, { workerData: SETUP, resourceLimits: { stackSizeMb: 8 } });
    started.push(withLimits);
    expect(adoptEarlyWorker(echoUrl)).toBeDefined();
  });

  it('that failed to load is not adopted: the pool starts a fresh thread, which reports why', async () => {
    startEarlyWorker(failingUrl, ['search', 'black car']);
    const early = waitingEarlyWorker()!;
    await new Promise((resolve) => early.once('exit', resolve));
    expect(adoptEarlyWorker(failingUrl)).toBeUndefined();
  });

  it('is stopped, and gone, when the command ends before anything adopted it', async () => {
    startEarlyWorker(echoUrl, ['search', 'black car']);
    const early = waitingEarlyWorker()!;
    const exited = new Promise((resolve) => early.once('exit', resolve));
    await stopUnadoptedEarlyWorker();
    await exited;
    expect(waitingEarlyWorker()).toBeUndefined();
    expect(adoptEarlyWorker(echoUrl)).toBeUndefined();
    // With nothing waiting, it does nothing.
    await stopUnadoptedEarlyWorker();
  });

  it('never keeps the process alive when nothing adopts it', async () => {
    // A process that starts one and ends its own work exits at once, with the thread still waiting.
    const script =
      `import { startEarlyWorker } from ${JSON.stringify(new URL('./early-worker.ts', import.meta.url).href)};` +
      `startEarlyWorker(new URL(${JSON.stringify(echoUrl.href)}), ['search', 'x']);`;
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 60_000,
    });
    await expect(run).resolves.toMatchObject({ stderr: '' });
  });
});
