// The chunks of a download's body in order, every one that arrived, and then its failure: what
// a resumable download needs to keep each byte it received before the connection was cut.
import type { Readable } from 'node:stream';

/**
 * Bytes received but not yet handed on, past which the body is paused until they are written.
 * Bounds the memory a slow disk can make a download hold (a few of undici's 64 KiB chunks).
 */
const MAX_WAITING_BYTES = 1024 * 1024;

/**
 * Yields the chunks of `body`, then throws its error if it failed. Unlike `for await` over the
 * stream, chunks that had arrived before the failure are still yielded: Node 26's stream
 * iterator throws as soon as the stream is destroyed and drops what it had buffered (Node 20
 * yielded it first), so a download cut mid-file would lose bytes it had received. A stream that
 * closes without ending or failing counts as cut. Stopping early (a `break`) leaves the body
 * paused for the caller to destroy.
 */
export async function* receivedChunks(body: Readable): AsyncGenerator<Buffer> {
  const waiting: Buffer[] = [];
  let waitingBytes = 0;
  let ended = false;
  let failure: unknown;
  let settled = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const onData = (chunk: Buffer): void => {
    waiting.push(chunk);
    waitingBytes += chunk.length;
    if (waitingBytes > MAX_WAITING_BYTES) body.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    settled = true;
    notify();
  };
  const onError = (error: unknown): void => {
    failure ??= error;
    settled = true;
    notify();
  };
  const onClose = (): void => {
    if (!ended) failure ??= new Error('the connection closed before the body ended');
    settled = true;
    notify();
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  body.once('close', onClose);
  // A body that failed or closed before this was called sends no more events: settle from its state.
  if (body.errored !== null) onError(body.errored);
  if (body.readableEnded) onEnd();
  else if (body.closed || body.destroyed) onClose();
  try {
    for (;;) {
      const chunk = waiting.shift();
      if (chunk !== undefined) {
        waitingBytes -= chunk.length;
        if (body.isPaused() && !settled && waitingBytes <= MAX_WAITING_BYTES / 2) body.resume();
        yield chunk;
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure !== undefined) throw failure;
  } finally {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('close', onClose);
    // onError stays: a body that fails after an early stop must not become an uncaught error.
    // Without a 'data' listener an unsettled body would sit flowing into nothing; pause it.
    if (!settled) body.pause();
  }
}
