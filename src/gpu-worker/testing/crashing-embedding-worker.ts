// Test-only worker entry: the real embedding worker, except that a vision batch holding a row that
// starts with CRASH_MARKER ends the thread at once, as a native crash in ONNX Runtime would, and
// that it fails to start at all when FAIL_STARTUP_ENV is "1" (read from the env it started with).
import { parentPort } from 'node:worker_threads';
import type { ToWorkerMessage } from '../messages.js';
import { CRASH_EXIT_CODE, CRASH_MARKER, FAIL_STARTUP_ENV } from './crash-marker.js';

if (process.env[FAIL_STARTUP_ENV] === '1') throw new Error('this test worker was told not to start');

// Registered before the real worker's listener, so it sees every batch first.
parentPort?.on('message', (message: ToWorkerMessage) => {
  if (message.tower !== 'vision') return;
  const pixels = new Float32Array(message.data);
  const rowLength = pixels.length / message.rows;
  for (let row = 0; row < message.rows; row++) {
    if (pixels[row * rowLength] === CRASH_MARKER) process.exit(CRASH_EXIT_CODE);
  }
});

await import('../embedding-worker.js');
