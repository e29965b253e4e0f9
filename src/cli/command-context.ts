// What every command of the findimage command line is given when it registers: the terminal, the
// config and logger (loaded on first use, so `--help` and `model list` need no valid setting), a
// way to open the core with only the model towers a one-shot command uses, and the signals that
// stop long-running commands. Built once by main(); each src/cli/commands/*-command.ts takes it.
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config.js';
import type { EmbeddedListener, Findimage } from '../findimage.js';
import type { Tower } from '../gpu-worker/messages.js';
import { createLogger } from '../logger.js';
import type { Terminal } from './terminal.js';

export interface CommandContext {
  /** Where results (stdout) and messages (stderr) go. */
  terminal: Terminal;
  /**
   * The config, read from the environment on first call, and a logger at its LOG_LEVEL, or at
   * `defaultLevel` when LOG_LEVEL is unset: commands log warnings only, a running server its work.
   */
  settings(defaultLevel?: string): { config: Config; logger: Logger };
  /** Opens the core with only the towers `usage` names, runs `run`, and closes the core again. */
  withCore(usage: ModelUsage, run: (findimage: Findimage) => Promise<void>): Promise<void>;
  /** Opens the whole core for a long-running server, connecting to the store in the background. */
  openServerCore(hooks: { onEmbedded: EmbeddedListener }): Promise<Findimage>;
  /** Aborts on Ctrl-C, so resumable commands stop after their current batch. */
  untilInterrupted(): AbortSignal;
  /** Resolves when a server should stop: SIGINT or SIGTERM, unless the caller of main() said otherwise. */
  untilStopped(): Promise<void>;
  /** The logger once a command has loaded the settings, undefined before: main() logs a failure there. */
  loadedLogger(): Logger | undefined;
  /**
   * Called by a command that may leave abandoned work behind (doctor: a check past its limit that
   * did not stop): when main() runs as the findimage process, the process ends shortly after the
   * command's output is written, whatever still holds it open. Does nothing in-process (tests).
   */
  releaseProcess(): void;
}

/**
 * How long the process may go on after a command called releaseProcess(): time for the exit code
 * to be set and the logger to flush; a process with nothing left open ends before it.
 */
const RELEASE_PROCESS_GRACE_MS = 1_000;

/** What a one-shot command loads: the towers it runs, and whether packing weights at load pays. */
export interface ModelUsage {
  /** Only these towers load at start (any other on first use); no search worker is reserved. */
  towers: readonly Tower[];
  /** Packing costs about 0.7 s of CPU per ViT-B/32 tower and speeds every batch after. */
  prepackWeights: boolean;
}
/** One text query (search; stats embeds nothing): the text tower, unpacked. */
export const ONE_QUERY: ModelUsage = { towers: ['text'], prepackWeights: false };
/** One image query (similar): the vision tower, unpacked. */
export const ONE_IMAGE_QUERY: ModelUsage = { towers: ['vision'], prepackWeights: false };
/** Many text queries (eval --tenant): the text tower, packed. */
export const MANY_QUERIES: ModelUsage = { towers: ['text'], prepackWeights: true };
/** Many images (index, backfills): the vision tower, packed. */
export const INDEXING: ModelUsage = { towers: ['vision'], prepackWeights: true };

export interface CommandContextOptions {
  /** The environment, qdrant.env already merged in. */
  env: NodeJS.ProcessEnv;
  /** Where the command writes. */
  terminal: Terminal;
  /** Resolves when `serve` should stop; SIGINT or SIGTERM when absent. */
  stopSignal?: Promise<void>;
  /** main() runs as the findimage process (bin/findimage.js), so releaseProcess() may end it. */
  ownsProcess?: boolean;
}

/**
 * The core and the download progress bar, imported when a command first opens them: the bundle
 * keeps them in chunks of their own (scripts/build-cli.mjs), so `findimage --help` or
 * `findimage model list` never loads the store, the worker pool or the model code.
 */
async function loadCore() {
  const [{ openFindimage }, { TerminalDownloadProgress }] = await Promise.all([
    import('../findimage.js'),
    import('../core/models/terminal-download-progress.js'),
  ]);
  return { openFindimage, TerminalDownloadProgress };
}

/** The context of one run of the command line; nothing is loaded or opened until a command asks. */
export function createCommandContext(options: CommandContextOptions): CommandContext {
  const { env, terminal } = options;
  let config: Config | undefined;
  let logger: Logger | undefined;
  const settings = (defaultLevel = 'warn'): { config: Config; logger: Logger } => {
    config ??= loadConfig(env);
    logger ??= createLogger({ level: config.logLevel ?? defaultLevel });
    return { config, logger };
  };
  return {
    terminal,
    settings,
    // A one-shot command names the towers it uses: only those load, and no search worker is reserved.
    async withCore(usage, run) {
      const { openFindimage, TerminalDownloadProgress } = await loadCore();
      const progress = new TerminalDownloadProgress();
      const findimage = await openFindimage({ ...settings(), onDownloadProgress: progress.listener, ...usage }).finally(() =>
        progress.stop(),
      );
      try {
        await run(findimage);
      } finally {
        await findimage.close();
      }
    },
    async openServerCore(hooks) {
      const { openFindimage, TerminalDownloadProgress } = await loadCore();
      const progress = new TerminalDownloadProgress();
      return openFindimage({ ...settings('info'), ...hooks, onDownloadProgress: progress.listener, storeConnection: 'background' }).finally(() =>
        progress.stop(),
      );
    },
    untilInterrupted() {
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      return controller.signal;
    },
    untilStopped() {
      return (
        options.stopSignal ??
        new Promise((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        })
      );
    },
    loadedLogger: () => logger,
    releaseProcess() {
      if (options.ownsProcess !== true) return;
      // Unref'd: a process with nothing left open exits at once, with bin's exit code. stdout and
      // stderr are synchronous for files, pipes and terminals on Linux and macOS, so nothing printed is lost.
      setTimeout(() => process.exit(), RELEASE_PROCESS_GRACE_MS).unref();
    },
  };
}
