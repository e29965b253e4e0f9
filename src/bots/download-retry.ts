// Retrying a chat platform's file download that failed for a reason that may pass (a 5xx, a 429,
// a connection reset, a timeout) before the uploader is told: a CDN hiccup should not cost a
// person a "couldn't index" reply and a re-upload. Failures that will not pass (404, 403, not an
// image, too large, a host we refuse) are thrown at once. Slack's and Discord's downloaders share
// it: each marks its own transient failures with transientDetails() and wraps its one attempt in
// withDownloadRetries().
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import { FindimageError } from '../core/errors.js';

/**
 * Tries per download, the first included. Three retries at 1, 2 and 4 s cover the blips seen on
 * both platforms' file hosts (a restarted edge, a brief 503) while the uploader hears within
 * about ten seconds when the file really cannot be had.
 */
export const DOWNLOAD_ATTEMPTS = 4;
/** The first retry's wait; each further retry waits twice as long. */
export const DOWNLOAD_RETRY_BASE_DELAY_MS = 1_000;
/**
 * The longest wait honoured, from the backoff or a 429's Retry-After. A platform asking for
 * longer is throttling hard; the uploader is told now rather than left waiting minutes.
 */
export const MAX_DOWNLOAD_RETRY_DELAY_MS = 30_000;

/** How a downloader retries; tests pass a `sleep` that does not wait. */
export interface DownloadRetryPolicy {
  /** Tries in all, the first included (DOWNLOAD_ATTEMPTS). */
  attempts: number;
  /** The first retry's wait in ms, doubled for each further one (DOWNLOAD_RETRY_BASE_DELAY_MS). */
  baseDelayMs: number;
  /** The longest wait honoured in ms; a longer Retry-After ends the retries (MAX_DOWNLOAD_RETRY_DELAY_MS). */
  maxDelayMs: number;
  /** Waits `ms` milliseconds. */
  sleep: (ms: number) => Promise<void>;
}

/** The policy the bots use unless told otherwise. */
export const DEFAULT_DOWNLOAD_RETRY: DownloadRetryPolicy = {
  attempts: DOWNLOAD_ATTEMPTS,
  baseDelayMs: DOWNLOAD_RETRY_BASE_DELAY_MS,
  maxDelayMs: MAX_DOWNLOAD_RETRY_DELAY_MS,
  sleep: async (ms) => {
    await sleepFor(ms);
  },
};

/** Whether an HTTP status from a file host may pass if asked again: 429 and the 5xx family. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Error details that mark a download failure as worth another try, with the wait the platform asked for. */
export function transientDetails(retryAfterMs?: number): { transient: true; retryAfterMs?: number } {
  return retryAfterMs === undefined ? { transient: true } : { transient: true, retryAfterMs };
}

/** Whether `error` is a download failure a downloader marked with transientDetails(). */
export function isTransientDownloadFailure(error: unknown): error is FindimageError {
  return error instanceof FindimageError && error.details['transient'] === true;
}

/**
 * The wait before try number `attempt + 1`: the platform's Retry-After when it gave one, else
 * base * 2^(attempt-1). Undefined when that is longer than the policy honours.
 */
export function retryDelayMs(error: FindimageError, attempt: number, policy: DownloadRetryPolicy): number | undefined {
  const asked = error.details['retryAfterMs'];
  const delay = typeof asked === 'number' ? asked : policy.baseDelayMs * 2 ** (attempt - 1);
  return delay <= policy.maxDelayMs ? delay : undefined;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or has been tried `policy.attempts` times;
 * throws the last failure. `details` names the file in the log lines.
 */
export async function withDownloadRetries<T>(attempt: () => Promise<T>, policy: DownloadRetryPolicy, logger: Logger, details: Record<string, unknown>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= policy.attempts || !isTransientDownloadFailure(error)) throw error;
      const delay = retryDelayMs(error, tried, policy);
      if (delay === undefined) throw error;
      logger.info({ ...details, attempt: tried, retryInMs: delay, status: error.details['status'], err: error }, 'download failed for a reason that may pass; trying again');
      await policy.sleep(delay);
    }
  }
}
