// Waiting in tests for something the bot does in the background (after an ack, off a queue).

/** How long a test waits for background work before failing (generous: 2 shared cores under load). */
const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_MS = 10;

/** Polls `check` until it returns a value other than undefined/false, or fails after the timeout. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
