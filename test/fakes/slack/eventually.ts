// Waiting in tests for something the bot does in the background (after an ack, off a queue):
// core's waitUntil with the longer deadline chat round trips need.
import { waitUntil } from '../../../src/core/testing/wait-until.js';

/** How long a test waits for background work before failing (generous: 2 shared cores under load). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** Polls `check` until it returns a value other than undefined/false, or fails after the timeout. */
export function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  return waitUntil(check, what, timeoutMs);
}

/**
 * What `promise` settles to, or a failure naming `what` if it has not settled by the timeout: for
 * a step that must finish while something else is held back (an ack while the search waits).
 */
export async function settled<T>(promise: Promise<T>, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  const done = await eventually(() => outcome, what, timeoutMs);
  if ('error' in done) throw done.error;
  return done.value;
}
