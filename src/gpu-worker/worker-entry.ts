// Where the embedding worker thread's code lives and how to start it: the compiled .js in
// production, the .ts source under tests and tsx.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { adoptEarlyWorker } from './early-worker.js';
import type { SetupMessage, WorkerSetup } from './messages.js';
import { disableOnnxTelemetry } from './onnx-telemetry.js';

/** The worker entry beside this module: .ts when the pool itself runs from source. */
export function defaultWorkerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './embedding-worker.ts' : './embedding-worker.js', import.meta.url);
}

/**
 * Starts a worker thread on `url`, with ONNX Runtime's telemetry turned off first. A .js entry
 * starts directly. A .ts entry needs tsx (a devDependency): `execArgv: ['--import', 'tsx']` is
 * not enough on Node 20, whose worker loads its entry module before the --import hooks apply
 * ("Unknown file extension .ts", seen on 20.20.2), so a small bootstrap registers tsx inside the
 * thread and then imports the entry.
 */
export function startWorker(url: URL, options: WorkerOptions): Worker {
  // Before the thread exists: ONNX Runtime's telemetry parses the command line with a recursive
  // regex that a long query on it overflows (see onnx-telemetry.ts).
  disableOnnxTelemetry();
  // A thread bin/findimage.js started on the same code before the configuration was read
  // (early-worker.ts) takes this setup as its first message; only a plain setup can be sent so.
  const plainSetup = 'workerData' in options && Object.keys(options).every((key) => key === 'workerData');
  const early = plainSetup ? adoptEarlyWorker(url) : undefined;
  if (early !== undefined) {
    const setup: SetupMessage = { type: 'setup', setup: options.workerData as WorkerSetup };
    early.postMessage(setup);
    return early;
  }
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  // Calling register() from tsx's ESM API works; importing the bare `tsx` entry here, or the
  // CommonJS build of the API, fails the same way (both seen on 20.20.2).
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register())` +
    `.then(() => import(${JSON.stringify(url.href)}));`;
  return new Worker(bootstrap, { ...options, eval: true });
}
