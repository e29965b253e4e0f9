// Runs a probe in a child Node.js process, so a native call that never returns (a CUDA driver
// that hangs while loading) can be ended: a native call in this process cannot be interrupted,
// and a worker thread stuck in one cannot be terminated either. The doctor's CUDA check uses it.
import { execFile } from 'node:child_process';

/**
 * Runs `script` (CommonJS, given to `node -e`; `process.argv[1]` onwards are `args`) in a child
 * process. Resolves when it exits 0; when it exits otherwise, rejects with the first line it
 * wrote to stdout (its reason: native libraries log to stderr), else the last line of stderr; once `signal` aborts, kills it (SIGKILL: a process stuck in a driver call
 * may not heed SIGTERM) and rejects with an AbortError.
 */
export function runInChild(script: string, args: readonly string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, ...args], { signal, killSignal: 'SIGKILL', windowsHide: true }, (error, stdout, stderr) => {
      if (error === null) return resolve();
      if (error.name === 'AbortError') return reject(error);
      const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
      const reason = lines(stdout)[0] ?? lines(stderr).at(-1) ?? `the probe exited with ${error.code ?? error.signal ?? 'an error'}`;
      reject(new Error(reason));
    });
  });
}
