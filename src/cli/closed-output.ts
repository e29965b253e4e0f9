// Ends the process quietly when the reader of its output goes away, as `findimage search x --json
// | head -1` does after one line. Unix tools die of SIGPIPE there without a word; Node ignores
// SIGPIPE, so the next write fails with EPIPE, which an 'error' event with no listener turns into
// a crash with a stack trace. The exit code is 0: the reader took what it wanted, and a script
// with `set -o pipefail` does not fail on `| head`.
import { EXIT_OK } from './exit-codes.js';

/** The exit code when stdout or stderr is closed by its reader: success. */
export const EXIT_OUTPUT_CLOSED = EXIT_OK;

/** The streams watched and how the process ends; the defaults are the process's own. */
export interface ClosedOutputOptions {
  /** Streams whose reader may go away (default: stdout and stderr). */
  streams?: NodeJS.EventEmitter[];
  /** Ends the process with an exit code (default: process.exit). */
  exit?: (code: number) => void;
}

/**
 * Makes EPIPE on the given streams end the process at once with EXIT_OUTPUT_CLOSED (there is no
 * one left to read a message). Any other error on them still ends the process as it did.
 */
export function exitQuietlyWhenOutputCloses(options: ClosedOutputOptions = {}): void {
  const streams = options.streams ?? [process.stdout, process.stderr];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') {
        exit(EXIT_OUTPUT_CLOSED);
        return;
      }
      throw error;
    });
  }
}
