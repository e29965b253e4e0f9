// The bots' download retries: which failures are tried again, how long each wait is (doubling,
// or the platform's Retry-After up to a cap), and that the last failure is what the caller sees.
import { describe, expect, it } from 'vitest';
import { FindimageError, InvalidImageError } from '../core/errors.js';
import { createSilentLogger } from '../logger.js';
import { DEFAULT_DOWNLOAD_RETRY, MAX_DOWNLOAD_RETRY_DELAY_MS, transientDetails, withDownloadRetries, type DownloadRetryPolicy } from './download-retry.js';

const logger = createSilentLogger();

/** A policy that records its waits instead of waiting. */
function recording(): { policy: DownloadRetryPolicy; waits: number[] } {
  const waits: number[] = [];
  return { waits, policy: { ...DEFAULT_DOWNLOAD_RETRY, sleep: async (ms) => void waits.push(ms) } };
}

/** An attempt that throws each of `failures` in turn, then answers 'bytes'. */
function failing(...failures: Error[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    attempt: async () => {
      const failure = failures[calls++];
      if (failure !== undefined) throw failure;
      return 'bytes';
    },
  };
}

const transient = (retryAfterMs?: number) => new FindimageError('platform_api', 'HTTP 503', { details: transientDetails(retryAfterMs) });

describe('download retries', () => {
  it('tries again after 1, 2 and 4 s, and succeeds when a later try does', async () => {
    const { policy, waits } = recording();
    const run = failing(transient(), transient(), transient());
    await expect(withDownloadRetries(run.attempt, policy, logger, {})).resolves.toBe('bytes');
    expect(waits).toEqual([1000, 2000, 4000]);
  });

  it('gives up after DOWNLOAD_ATTEMPTS tries with the last failure', async () => {
    const { policy } = recording();
    const last = transient();
    const run = failing(transient(), transient(), transient(), last, transient());
    await expect(withDownloadRetries(run.attempt, policy, logger, {})).rejects.toBe(last);
    expect(run.calls()).toBe(policy.attempts);
  });

  it('waits what a 429 asks, and gives up at once when that is longer than the cap', async () => {
    const { policy, waits } = recording();
    await expect(withDownloadRetries(failing(transient(5000)).attempt, policy, logger, {})).resolves.toBe('bytes');
    expect(waits).toEqual([5000]);
    const tooLong = transient(MAX_DOWNLOAD_RETRY_DELAY_MS + 1);
    const run = failing(tooLong);
    await expect(withDownloadRetries(run.attempt, policy, logger, {})).rejects.toBe(tooLong);
    expect(run.calls()).toBe(1);
  });

  it('never retries a failure that will not pass (gone, forbidden, not an image, any unmarked error)', async () => {
    for (const permanent of [
      new FindimageError('platform_api', 'HTTP 404', { details: { status: 404 } }),
      new InvalidImageError('image_unsupported', 'not an image'),
      new Error('something else'),
    ]) {
      const { policy, waits } = recording();
      const run = failing(permanent);
      await expect(withDownloadRetries(run.attempt, policy, logger, {})).rejects.toBe(permanent);
      expect(run.calls()).toBe(1);
      expect(waits).toEqual([]);
    }
  });

});
