// The retry policy on its own: backoff doubling with equal jitter and a cap, Retry-After
// honoured up to its own cap, and withRetry stopping on errors that retrying cannot fix.
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../../logger.js';
import { backoffDelay, retryDelay, withRetry, type RetryPolicy } from './retry-policy.js';

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 500, maxRetryAfterMs: 2_000 };
const logger = createSilentLogger();

describe('backoff', () => {
  it('doubles from the base delay, keeps a random half, and stops growing at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 200, 250, 250]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 1))).toEqual([100, 200, 400, 500, 500]);
  });

  it('waits as long as Retry-After asks when that is longer, but never past its cap', () => {
    const low = () => 0;
    expect(retryDelay(policy, 1, { retry: true, reason: '429', retryAfterMs: 1_000 }, low)).toBe(1_000);
    expect(retryDelay(policy, 3, { retry: true, reason: '429', retryAfterMs: 10 }, low)).toBe(200);
    expect(retryDelay(policy, 1, { retry: true, reason: '429', retryAfterMs: 60_000 }, low)).toBe(2_000);
  });

});

describe('withRetry', () => {
  const fast: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 };

  it('returns the first success after retryable failures', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('flaky');
        return 'ok';
      },
      { policy: fast, classify: () => ({ retry: true, reason: 'flaky' }), giveUp: (e) => e as Error, logger, operation: 'test' },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the last try, telling giveUp how many were made', async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls += 1;
        throw new Error(`failure ${calls}`);
      },
      {
        policy: fast,
        classify: () => ({ retry: true, reason: 'down' }),
        giveUp: (e, attempts) => new Error(`${(e as Error).message} after ${attempts}`),
        logger,
        operation: 'test',
      },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('failure 3 after 3');
  });

  it('does not retry an error classified as final', async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls += 1;
        throw new Error('bad key');
      },
      { policy: fast, classify: () => ({ retry: false, reason: '401' }), giveUp: (e, n) => new Error(`${(e as Error).message} (${n})`), logger, operation: 'test' },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('bad key (1)');
    expect(calls).toBe(1);
  });
});
