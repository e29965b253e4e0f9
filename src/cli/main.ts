// The findimage command line: parses arguments, loads the config once, opens the core, runs one
// command, and turns every error into a message a person can act on and an exit code. Each
// command declares its options and action in its own src/cli/commands/*-command.ts; the chat
// SDKs, the web server, sharp and the Qdrant client behind them are imported when a command that
// uses them runs, and a one-shot command loads only the model towers it uses: a cold
// `findimage search` pays for the text tower and the store, nothing else (issue 11).
import { Command, CommanderError } from 'commander';
import { asFindimageError } from '../core/errors.js';
import { createCommandContext } from './command-context.js';
import * as datasetImportCommand from './commands/dataset-import-command.js';
import * as discordCommand from './commands/discord-command.js';
import * as doctorCommand from './commands/doctor-command.js';
import * as evalCommand from './commands/eval-command.js';
import * as fleetCommand from './commands/fleet-command.js';
import * as indexCommand from './commands/index-command.js';
import * as labelsCommand from './commands/labels-command.js';
import * as migrateCommand from './commands/migrate-command.js';
import * as modelCommand from './commands/model-command.js';
import * as reindexCommand from './commands/reindex-command.js';
import * as searchCommand from './commands/search-command.js';
import * as serveCommand from './commands/serve-command.js';
import * as slackBackfillCommand from './commands/slack-backfill-command.js';
import * as statsCommand from './commands/stats-command.js';
import * as tuneCommand from './commands/tune-command.js';
import * as workerCommand from './commands/worker-command.js';
import { withEnvFile } from './env-file.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { processTerminal, type Terminal } from './terminal.js';

export interface MainDependencies {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  terminal?: Terminal;
  /** Resolves when `serve` should stop; defaults to SIGINT or SIGTERM. */
  stopSignal?: Promise<void>;
  /** main() runs as the findimage process (bin/findimage.js): a command may end it when done. */
  ownsProcess?: boolean;
}

/** Every command, in the order `findimage --help` lists them. */
const COMMANDS = [
  indexCommand,
  searchCommand,
  statsCommand,
  evalCommand,
  tuneCommand,
  datasetImportCommand,
  labelsCommand,
  migrateCommand,
  reindexCommand,
  slackBackfillCommand,
  discordCommand,
  modelCommand,
  serveCommand,
  workerCommand,
  fleetCommand,
  doctorCommand,
];

/** Runs the command line and resolves to the process exit code. */
export async function main(argv: readonly string[], deps: MainDependencies = {}): Promise<number> {
  const terminal = deps.terminal ?? processTerminal();
  const env = withEnvFile(deps.env ?? process.env, deps.cwd ?? process.cwd());
  // Config and the core are opened lazily, so `--help` and `model list` need neither.
  const context = createCommandContext({ env, terminal, stopSignal: deps.stopSignal, ownsProcess: deps.ownsProcess });

  const program = new Command('findimage')
    .description('Find images by describing them: CLIP search over your folders and chat channels.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => terminal.out(s.trimEnd()), writeErr: (s) => terminal.err(s.trimEnd()) });
  for (const command of COMMANDS) command.register(program, context);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      return thrown.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const error = asFindimageError(thrown);
    context.loadedLogger()?.debug({ err: thrown, code: error.code }, 'command failed');
    terminal.err(`findimage: ${error.message}`);
    return exitCodeFor(error.code);
  }
  return EXIT_OK;
}
