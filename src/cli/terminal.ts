// How the CLI talks to people: results on stdout, messages and progress on stderr, so that
// `--json` output can be piped. Tests pass a Terminal that records what was written.
import cliProgress from 'cli-progress';

export interface Terminal {
  /** Result lines (tables, JSON). */
  out(text: string): void;
  /** Messages for the person at the keyboard. */
  err(text: string): void;
  /** A progress bar on stderr when it is a terminal; otherwise does nothing. */
  progress(total: number, label: string): Progress;
}

export interface Progress {
  /** One more item done. */
  tick(detail?: string): void;
  /** Sets how many are done out of how many (for work whose total is learnt on the way). */
  update(done: number, total: number): void;
  stop(): void;
}

const SILENT_PROGRESS: Progress = { tick: () => {}, update: () => {}, stop: () => {} };

export function processTerminal(): Terminal {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress(total, label) {
      if (!process.stderr.isTTY) return SILENT_PROGRESS;
      const bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {value}/{total} {percentage}% | {eta_formatted} left | {detail}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { detail: '' });
      return {
        tick: (detail = '') => bar.increment(1, { detail: detail.slice(0, 40) }),
        update: (done, newTotal) => {
          bar.setTotal(newTotal);
          bar.update(done);
        },
        stop: () => bar.stop(),
      };
    },
  };
}
