// Bolt and its Web API client log through this adapter into the product's pino logger, so their
// lines (rate-limit waits, reconnects) land in the same place with secrets redacted.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';

/** pino's levels as Bolt's (Bolt has no trace, fatal or silent). */
const BOLT_LEVEL_OF: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/** Bolt's messages are lists of anything; pino wants one string. */
function line(parts: unknown[]): string {
  return parts
    .map((part) => (typeof part === 'string' ? part : part instanceof Error ? part.message : JSON.stringify(part)))
    .join(' ');
}

/** A Bolt Logger writing to a child of `logger`. Bolt's setLevel is ignored: pino's level rules. */
export function boltLoggerFor(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  return {
    debug: (...msg: unknown[]) => child.debug(line(msg)),
    info: (...msg: unknown[]) => child.info(line(msg)),
    warn: (...msg: unknown[]) => child.warn(line(msg)),
    error: (...msg: unknown[]) => child.error(line(msg)),
    setLevel: () => undefined,
    getLevel: () => BOLT_LEVEL_OF[child.level] ?? LogLevel.ERROR,
    setName: () => undefined,
  };
}
