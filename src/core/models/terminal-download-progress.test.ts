// The terminal progress bar: drawn on a terminal, silent otherwise.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TerminalDownloadProgress } from './terminal-download-progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; output: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  Object.assign(stream, { isTTY, columns: 120 });
  return { stream: stream as unknown as NodeJS.WriteStream, output: () => Buffer.concat(chunks).toString('utf8') };
}

describe('TerminalDownloadProgress', () => {
  it('writes nothing when the stream is not a terminal', async () => {
    const { stream, output } = fakeStream(false);
    const progress = new TerminalDownloadProgress({ stream });

    progress.listener({ file: 'onnx/vision_model.onnx', receivedBytes: 0, totalBytes: 2 * 1024 * 1024 });
    progress.listener({ file: 'onnx/vision_model.onnx', receivedBytes: 2 * 1024 * 1024, totalBytes: 2 * 1024 * 1024 });
    progress.stop();
    await new Promise((r) => setImmediate(r));

    expect(output()).toBe('');
  });

  it('draws a bar naming the file and its size on a terminal', async () => {
    const { stream, output } = fakeStream(true);
    const progress = new TerminalDownloadProgress({ stream });

    progress.listener({ file: 'onnx/vision_model.onnx', receivedBytes: 0, totalBytes: 2 * 1024 * 1024 });
    progress.listener({ file: 'onnx/vision_model.onnx', receivedBytes: 2 * 1024 * 1024, totalBytes: 2 * 1024 * 1024 });
    await new Promise((r) => setImmediate(r));

    expect(output()).toContain('onnx/vision_model.onnx');
    expect(output()).toContain('100%');
    expect(output()).toContain('2.0/2.0 MiB');
  });
});
