// The product's logger: pino, pretty in a terminal and JSON otherwise, with secrets redacted.
// Components take a child logger; tests pass createSilentLogger().
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
const REDACT = [
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.apiKey',
  '*.authorization',
  'headers.authorization',
  'config.slack.botToken',
  'config.slack.appToken',
  'config.slack.signingSecret',
  'config.qdrant.apiKey',
];

export interface LoggerOptions {
  level: string;
  /** Pretty output for people; defaults to whether stderr is a terminal. */
  pretty?: boolean;
}

/** Logs go to stderr so that `--json` output on stdout stays machine-readable. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const base = { level: options.level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, ignore: 'pid,hostname' },
      },
    });
  }
  const destination = pino.destination(2);
  // pino's own stream on fd 2 stops writing on EPIPE, without a word. Its reader going away is
  // stderr's reader going away, so it is passed on to whoever watches process.stderr for that
  // (the findimage command ends as for any closed output: src/cli/closed-output.ts).
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' && process.stderr.listenerCount('error') > 0) process.stderr.emit('error', error);
  });
  return pino(base, destination);
}

export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
