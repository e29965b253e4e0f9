// Ends the process quietly when the reader of its output goes away, as `findimage search x --json
// | head -1` does after one line. Unix tools die of SIGPIPE there without a word; Node ignores
// SIGPIPE, so the next write fails with EPIPE, which an 'error' event with no listener turns into
// a crash with a stack trace. The exit code is the one a shell reports for a tool killed by
// SIGPIPE, 141, as git's: the command did not finish (`findimage index big/ | head -1` stops
// indexing part way), so it must not read as success. `set -o pipefail` scripts that pipe into
// `head` on purpose can allow it (`|| [ $? -eq 141 ]`), as they do for any Unix tool.

/** 128 + SIGPIPE (13): what a shell reports for a process whose reader went away. */
export const EXIT_OUTPUT_CLOSED = 141;

/** The streams watched and how the process ends; the defaults are the process's own. */
export interface ClosedOutputOptions {
  /** Streams whose reader may go away (default: stdout and stderr). */
  streams?: NodeJS.EventEmitter[];
  /** Ends the process with an exit code (default: dieOfSigpipe). */
  exit?: (code: number) => void;
}

/**
 * Makes EPIPE on the given streams end the process at once with EXIT_OUTPUT_CLOSED (there is no
 * one left to read a message). Any other error on them still ends the process as it did.
 */
export function exitQuietlyWhenOutputCloses(options: ClosedOutputOptions = {}): void {
  const streams = options.streams ?? [process.stdout, process.stderr];
  const exit = options.exit ?? dieOfSigpipe;
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

/**
 * Ends the process as a Unix tool whose reader went away ends: killed by SIGPIPE, which a shell
 * reports as 141. Not process.exit(): its teardown waits for worker threads, and `serve` with
 * stderr closed at start hung there for good (a worker busy in native code). Node ignores
 * SIGPIPE; a listener added and removed puts the default action (end the process) back. Where
 * there is no SIGPIPE (Windows), or it somehow returns, process.exit ends it with the same code.
 */
export function dieOfSigpipe(code: number): void {
  if (process.platform !== 'win32') {
    const ignore = (): void => {};
    process.on('SIGPIPE', ignore);
    process.off('SIGPIPE', ignore);
    process.kill(process.pid, 'SIGPIPE');
  }
  process.exit(code);
}
