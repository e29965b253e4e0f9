// Waiting in tests for a condition with a deadline, never for a fixed time: a logger whose lines
// a test can wait for, and a poll for a state that has no event. A deadline only turns a hang
// into a failure; it never decides that something passed.
import { pino, type Level, type Logger } from 'pino';
import { vi } from 'vitest';

/** How long a test waits for background work before failing (generous: 2 shared cores under load). */
export const WAIT_DEADLINE_MS = 20_000;
/** Pause between two checks of a polled condition. */
const POLL_MS = 5;

/** One log line, parsed. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface CapturedLog {
  /** A logger at `level` that keeps every line. */
  logger: Logger;
  /** Every line logged so far, oldest first. */
  lines: LogLine[];
  /** The lines whose msg is `msg`. */
  withMsg(msg: string): LogLine[];
  /**
   * Resolves with the first line (already logged or to come) that `match` accepts; rejects
   * naming `what` after `timeoutMs`.
   */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

/** A logger whose lines a test can read and wait for. */
export function captureLog(level: Level = 'info'): CapturedLog {
  const lines: LogLine[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  const logger = pino(
    { level },
    {
      write: (text: string) => {
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        for (const waiter of [...waiters]) waiter(line);
      },
    },
  );
  return {
    logger,
    lines,
    withMsg: (msg) => lines.filter((line) => line.msg === msg),
    waitFor(match, what, timeoutMs = WAIT_DEADLINE_MS) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for the log to say ${what}`));
        }, timeoutMs);
        const waiter = (line: LogLine) => {
          if (!match(line)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(line);
        };
        waiters.add(waiter);
      });
    },
  };
}

/**
 * Polls `check` with vitest's vi.waitFor until it returns something other than undefined or
 * false; fails naming `what` after `timeoutMs`.
 */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = WAIT_DEADLINE_MS,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined || value === false) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return value;
    },
    { timeout: timeoutMs, interval: POLL_MS },
  );
}
