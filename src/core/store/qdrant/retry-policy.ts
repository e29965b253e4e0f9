// When and how long to wait before trying a Qdrant call again: exponential backoff with jitter,
// a server's Retry-After honoured up to a cap, and a cancellable wait so close() ends retries.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../logger.js';

export interface RetryPolicy {
  /** Tries in all, the first included; 1 means no retry. */
  attempts: number;
  /** Wait before the first retry; each later wait doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  /** Longest backoff between two tries. */
  maxDelayMs: number;
  /** Longest wait a server's Retry-After may impose; a longer one is cut to this. */
  maxRetryAfterMs: number;
}

/**
 * For calls made while serving: 5 tries, waiting 0.2 + 0.4 + 0.8 + 1.6 s at most (half that
 * after jitter, at least), ride out a brief overload or a dropped connection without leaving a
 * chat reply hanging for long.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

/**
 * For opening the store: Qdrant started by the same `docker compose up` can take 10 to 20 s
 * to listen, so 8 tries (waits of 0.5 s doubling to 8 s: 16 to 32 s in all, after jitter) wait
 * for it before failing.
 */
export const STARTUP_RETRY_POLICY: RetryPolicy = {
  attempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
};

/** What a failed try means for the next one. */
export interface RetryVerdict {
  /** Whether trying again may succeed. */
  retry: boolean;
  /** The server's own wait (Retry-After), in ms, when it gave one. */
  retryAfterMs?: number;
  /** A short reason for the log ("connection refused", "HTTP 503"). */
  reason: string;
}

/**
 * Backoff before retry number `retry` (1 for the first retry): the doubled delay, of which a
 * random half is kept ("equal jitter"), so that many clients restarting together spread out.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** The wait before retry number `retry`: the server's Retry-After when longer than backoff. */
export function retryDelay(policy: RetryPolicy, retry: number, verdict: RetryVerdict, random?: () => number): number {
  const backoff = backoffDelay(policy, retry, random);
  if (verdict.retryAfterMs === undefined) return backoff;
  return Math.max(backoff, Math.min(verdict.retryAfterMs, policy.maxRetryAfterMs));
}

export interface RetryOptions {
  /** How many tries, and how long to wait between them. */
  policy: RetryPolicy;
  /** Decides whether an error is worth another try. */
  classify: (error: unknown) => RetryVerdict;
  /** Builds the error thrown once no try is left (or the error is not retryable). */
  giveUp: (error: unknown, attempts: number) => Error;
  /** Each retry is logged as a warning here. */
  logger: Logger;
  /** What is being tried, for the log ("upsert into findimage_clip-vit-b32"). */
  operation: string;
  /** Aborting ends a pending wait; the last error is then given up on at once. */
  signal?: AbortSignal;
}

/** Runs `call` until it succeeds, its error is not retryable, or the policy's tries run out. */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, classify, giveUp, logger, operation, signal } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retry || attempt >= policy.attempts || signal?.aborted === true) {
        throw giveUp(error, attempt);
      }
      const waitMs = retryDelay(policy, attempt, verdict);
      logger.warn(
        { operation, attempt, attempts: policy.attempts, waitMs, reason: verdict.reason },
        `Qdrant ${operation} failed (${verdict.reason}); retrying in ${waitMs} ms (try ${attempt + 1} of ${policy.attempts})`,
      );
      try {
        await sleep(waitMs, undefined, signal === undefined ? undefined : { signal });
      } catch {
        throw giveUp(error, attempt);
      }
    }
  }
}
