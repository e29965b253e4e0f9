// ONNX Runtime's telemetry is switched off before a worker starts, whatever the user had set.
import { afterEach, describe, expect, it } from 'vitest';
import { ORT_DISABLE_TELEMETRY, disableOnnxTelemetry } from './onnx-telemetry.js';
import { startWorker } from './worker-entry.js';

describe('disableOnnxTelemetry', () => {
  it('sets ORT_DISABLE_TELEMETRY=1, also over a "0" that would bring the crash back', () => {
    const env: NodeJS.ProcessEnv = { [ORT_DISABLE_TELEMETRY]: '0' };
    disableOnnxTelemetry(env);
    expect(env[ORT_DISABLE_TELEMETRY]).toBe('1');
  });
});

describe('startWorker', () => {
  const before = process.env[ORT_DISABLE_TELEMETRY];
  afterEach(() => {
    if (before === undefined) delete process.env[ORT_DISABLE_TELEMETRY];
    else process.env[ORT_DISABLE_TELEMETRY] = before;
  });

  it('turns the telemetry off in this process before the thread starts', async () => {
    delete process.env[ORT_DISABLE_TELEMETRY];
    const worker = startWorker(new URL('data:text/javascript,'), {});
    expect(process.env[ORT_DISABLE_TELEMETRY]).toBe('1');
    await worker.terminate();
  });
});
