// The findimage command line: parses arguments, loads the config once, opens the core, runs one
// command, and turns every error into a message a person can act on and an exit code. Each
// command's module (and the chat SDKs, the web server and sharp behind them) is imported when
// that command runs, and a one-shot command loads only the model towers it uses: a cold
// `findimage search` pays for the text tower and the store, nothing else (issue 11).
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config.js';
import { ConfigError, asFindimageError } from '../core/errors.js';
import { MAX_QUERY_WINDOW } from '../core/store/point-validation.js';
import { TerminalDownloadProgress } from '../core/models/terminal-download-progress.js';
import { openFindimage, type EmbeddedListener, type Findimage } from '../findimage.js';
import type { Tower } from '../gpu-worker/messages.js';
import { createLogger } from '../logger.js';
import { parseDatasetFormat, type DatasetImportOptions } from './commands/dataset-import-command.js';
import type { LabelsExportOptions } from './commands/labels-command.js';
import { parseStoreKind, type StoreKind } from './commands/migrate-command.js';
import { withEnvFile } from './env-file.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { processTerminal, type Terminal } from './terminal.js';

export interface MainDependencies {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  terminal?: Terminal;
  /** Resolves when `serve` should stop; defaults to SIGINT or SIGTERM. */
  stopSignal?: Promise<void>;
}

/** Runs the command line and resolves to the process exit code. */
export async function main(argv: readonly string[], deps: MainDependencies = {}): Promise<number> {
  const terminal = deps.terminal ?? processTerminal();
  const env = withEnvFile(deps.env ?? process.env, deps.cwd ?? process.cwd());
  let exitCode = EXIT_OK;

  // Config and the core are opened lazily, so `--help` and `model list` need neither.
  let config: Config | undefined;
  let logger: Logger | undefined;
  // Commands log warnings only unless LOG_LEVEL says otherwise; a running bot logs its work.
  const settings = (defaultLevel = 'warn'): { config: Config; logger: Logger } => {
    config ??= loadConfig(env);
    logger ??= createLogger({ level: config.logLevel ?? defaultLevel });
    return { config, logger };
  };
  // A one-shot command names the towers it uses: only those load, and no search worker is reserved.
  const withCore = async (usage: ModelUsage, run: (findimage: Findimage) => Promise<void>): Promise<void> => {
    const progress = new TerminalDownloadProgress();
    const findimage = await openFindimage({ ...settings(), onDownloadProgress: progress.listener, ...usage }).finally(() =>
      progress.stop(),
    );
    try {
      await run(findimage);
    } finally {
      await findimage.close();
    }
  };

  const program = new Command('findimage')
    .description('Find images by describing them: CLIP search over your folders and chat channels.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => terminal.out(s.trimEnd()), writeErr: (s) => terminal.err(s.trimEnd()) });

  program
    .command('index')
    .description('index every image below a folder')
    .argument('<folder>', 'folder to walk recursively')
    .action(async (folder: string) => {
      const { formatIndexSummary, runIndex } = await import('./commands/index-command.js');
      await withCore(INDEXING, async (findimage) => {
        const summary = await runIndex(findimage, folder, terminal);
        terminal.out(formatIndexSummary(summary));
      });
    });

  program
    .command('search')
    .description('find images matching a description')
    .argument('<text...>', 'what the image shows, e.g. "a black car"')
    .option('--k <n>', 'number of results', parseCount, 10)
    .option('--offset <n>', 'results to skip (for paging)', parseOffset, 0)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (words: string[], options: { k: number; offset: number; json: boolean }) => {
      const { runSearch } = await import('./commands/search-command.js');
      await withCore(ONE_QUERY, (findimage) => runSearch(findimage, words.join(' '), options, terminal));
    });

  program
    .command('similar')
    .description('find images that look like an image file')
    .argument('<image>', 'path to an image')
    .option('--k <n>', 'number of results', parseCount, 10)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (image: string, options: { k: number; json: boolean }) => {
      const { runSimilar } = await import('./commands/search-command.js');
      await withCore(ONE_IMAGE_QUERY, (findimage) => runSimilar(findimage, image, { ...options, offset: 0 }, terminal));
    });

  program
    .command('stats')
    .description('count indexed images by source and model')
    .option('--json', 'print JSON', false)
    .action(async (options: { json: boolean }) => {
      const { runStats } = await import('./commands/stats-command.js');
      // Counting embeds nothing; the text tower is the smaller one to start with.
      await withCore(ONE_QUERY, (findimage) => runStats(findimage, options.json, terminal));
    });

  program
    .command('eval')
    .description('grade the search: on the labels a team gave (--tenant), or on a captioned dataset (--dataset)')
    .option('--tenant <id>', 'the workspace whose labels to use (Slack team id)')
    .option('--dataset <dir>', 'a folder of images plus captions.jsonl (see docs/evaluation.md)')
    .option('--models <ids>', 'with --dataset: models to compare, comma-separated (default: FINDIMAGE_MODEL)', parseList)
    .option('--templates <sets>', 'with --dataset: prompt template sets to compare, separated by ";", templates in a set by "|" ({} alone: none)', parseTemplateSets)
    .option('--k <n,...>', 'cut-off ranks (default 10 with --tenant, 1,5,10 with --dataset)', parseCounts)
    .option('--split <share>', 'with --dataset: share of the queries held out to grade label feedback, e.g. 0.2', parseShare)
    .option('--seed <n>', 'with --dataset: seed of the bootstrap intervals and the split', parseSeed)
    .option('--report <file>', 'with --dataset: write a self-contained HTML report')
    .option('--keep-index <dir>', 'with --dataset: keep the scratch index in this empty folder')
    .option('--json', 'print JSON', false)
    .action(async (options: EvalOptions) => {
      if (options.dataset !== undefined) {
        const { config, logger: log } = settings();
        const { runEvalDataset } = await import('./commands/eval-dataset-command.js');
        await runEvalDataset(config, { ...options, dataset: options.dataset, ks: options.k ?? [1, 5, 10] }, terminal, log);
        return;
      }
      const tenant = options.tenant;
      if (tenant === undefined) throw new ConfigError('Give --tenant <id> to grade with the labels a team gave, or --dataset <dir> to grade on a captioned dataset.');
      if ((options.k?.length ?? 1) > 1) throw new ConfigError('--tenant grades at one cut-off; give a single --k.');
      const { runEval } = await import('./commands/eval-command.js');
      await withCore(MANY_QUERIES, async (findimage) => {
        await runEval(findimage, { tenant, k: options.k?.[0] ?? 10, json: options.json }, terminal);
      });
    });

  program
    .command('dataset')
    .description('captioned datasets for findimage eval --dataset')
    .command('import')
    .description('convert a Flickr30k (Karpathy split JSON) or COCO captions file into a dataset folder')
    .requiredOption('--format <format>', 'flickr30k (Karpathy dataset_*.json) or coco (captions_*.json)', parseDatasetFormat)
    .option('--karpathy-split <name>', 'with flickr30k: the split to keep', 'test')
    .argument('<annotations>', 'the annotations JSON file')
    .argument('<images>', 'the folder holding its images')
    .argument('<out>', 'the dataset folder to write (new or empty)')
    .action(async (annotations: string, images: string, out: string, options: DatasetImportOptions) => {
      const { runDatasetImport } = await import('./commands/dataset-import-command.js');
      await runDatasetImport(annotations, images, out, options, terminal);
    });

  program
    .command('labels')
    .description('relevance labels a team gave')
    .command('export')
    .description('write every label as JSON lines, oldest first (to stdout, or --output)')
    .option('--tenant <id>', "only this workspace's labels (Slack team id); every tenant's without it")
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: LabelsExportOptions) => {
      const { config, logger: log } = settings();
      const { runLabelsExport } = await import('./commands/labels-command.js');
      await runLabelsExport(config, options, terminal, log);
    });

  program
    .command('migrate')
    .description('copy every vector between the embedded store and Qdrant, without re-embedding')
    .requiredOption('--from <store>', 'embedded or qdrant', parseStoreKind)
    .requiredOption('--to <store>', 'embedded or qdrant', parseStoreKind)
    .action(async (options: { from: StoreKind; to: StoreKind }) => {
      const { config, logger: log } = settings();
      const { runMigrate } = await import('./commands/migrate-command.js');
      await runMigrate(config, options.from, options.to, terminal, log, untilInterrupted());
    });

  program
    .command('reindex')
    .description('re-embed every image with another model into a new index (resumable)')
    .requiredOption('--model <id>', 'the model to re-embed with (findimage model list)')
    .action(async (options: { model: string }) => {
      const { config, logger: log } = settings();
      const { reindexModels, runReindex } = await import('./commands/reindex-command.js');
      await runReindex(config, reindexModels(config, options.model), terminal, log, untilInterrupted());
    });

  program
    .command('slack')
    .description('Slack tools')
    .command('backfill')
    .description("index a Slack channel's history (resumable; shares its cursor with /findimage index)")
    .argument('<channel>', 'channel id, name or #name')
    .action(async (channel: string) => {
      const { config, logger: log } = settings();
      const { runSlackBackfill } = await import('./commands/slack-backfill-command.js');
      await withCore(INDEXING, (findimage) => runSlackBackfill(config, findimage, channel, terminal, log));
    });

  const discord = program.command('discord').description('Discord tools');
  discord
    .command('register')
    .description('register /findimage and "Find similar images" (in one guild to try, globally otherwise) and print the invite URL')
    .option('--guild <id>', 'register in this guild only (commands appear at once; global ones can take an hour)')
    .action(async (options: { guild?: string }) => {
      const { config } = settings();
      if (config.discord === undefined) throw new ConfigError('Set DISCORD_TOKEN to register the Discord commands (see docs/discord.md).');
      const { registerCommands } = await import('../bots/discord/application-commands.js');
      const registration = await registerCommands({
        token: config.discord.token,
        ...(config.discord.apiUrl === undefined ? {} : { apiUrl: config.discord.apiUrl }),
        ...(options.guild === undefined ? {} : { guildId: options.guild }),
      });
      terminal.out(`Registered ${registration.commands.map((c) => `"${c}"`).join(' and ')} (${registration.scope}) for application ${registration.applicationId}.`);
      terminal.out('Invite the bot with exactly the permissions it needs:');
      terminal.out(`  ${registration.inviteUrl}`);
    });

  discord
    .command('backfill')
    .description("index a Discord channel's history (resumable; shares its cursor with /findimage query: index #channel)")
    .argument('<channel-id>', 'the channel id (right-click the channel → Copy Channel ID)')
    .action(async (channelId: string) => {
      const { config, logger: log } = settings();
      const discordConfig = config.discord;
      if (discordConfig === undefined) throw new ConfigError('Set DISCORD_TOKEN to backfill a Discord channel (see docs/discord.md).');
      const { createDiscordBot } = await import('../bots/discord/discord-bot.js');
      await withCore(INDEXING, async (findimage) => {
        findimage.uploads.start();
        // The bot connects so that the channel's permissions (public or not) are known.
        const bot = createDiscordBot({ config: discordConfig, findimage, dataDir: config.dataDir, logger: log });
        await bot.start();
        try {
          const report = await bot.backfill(channelId, (p) => terminal.err(`read ${p.messagesSeen} messages, queued ${p.filesQueued} images${p.resumed ? ' (resumed)' : ''}`));
          terminal.out(`Backfill of ${channelId}: ${report.indexed} indexed, ${report.duplicates} already indexed, ${report.rejected.length} refused.`);
          for (const { name, reason } of report.rejected) terminal.out(`  refused ${name}: ${reason}`);
        } finally {
          await bot.stop();
        }
      });
    });

  const model = program.command('model').description('list or download models');
  model
    .command('list')
    .description('list the models findimage knows and whether each is available here')
    .action(async () => {
      const { runModelList } = await import('./commands/model-command.js');
      await runModelList(settings().config, terminal);
    });
  model
    .command('add')
    .description('register a model of your own: a folder with findimage-model.json, the ONNX files and tokenizer.json (docs/models.md)')
    .argument('<dir>', 'the model folder')
    .action(async (dir: string) => {
      const { config, logger: log } = settings();
      const { runModelAdd } = await import('./commands/model-add-command.js');
      await runModelAdd(config, dir, terminal, log);
    });
  model
    .command('pull')
    .description('download a model (default: the configured one) and check every file')
    .argument('[name]', 'model id')
    .action(async (name: string | undefined) => {
      const { config, logger: log } = settings();
      const { runModelPull } = await import('./commands/model-command.js');
      await runModelPull(config, name ?? config.model, terminal, log);
    });

  const openCore = async (hooks: { onEmbedded: EmbeddedListener }): Promise<Findimage> => {
    const progress = new TerminalDownloadProgress();
    return openFindimage({ ...settings('info'), ...hooks, onDownloadProgress: progress.listener, storeConnection: 'background' }).finally(() => progress.stop());
  };

  program
    .command('serve', { isDefault: true })
    .description('run the web app and the chat bots whose credentials are set (the default command)')
    .action(async () => {
      const { config, logger: log } = settings('info');
      const [{ serveWithWeb }, { botFactories }] = await Promise.all([import('../web/serve-web.js'), import('./bot-registry.js')]);
      await serveWithWeb({ config, logger: log, terminal, factories: botFactories, openCore, stopSignal: deps.stopSignal ?? untilSignalled() });
    });

  program
    .command('web')
    .description('run the web app alone (search, upload and grade in the browser)')
    .action(async () => {
      const { config, logger: log } = settings('info');
      const { serveWithWeb } = await import('../web/serve-web.js');
      await serveWithWeb({ config, logger: log, terminal, factories: [], openCore, stopSignal: deps.stopSignal ?? untilSignalled() });
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      return thrown.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const error = asFindimageError(thrown);
    logger?.debug({ err: thrown, code: error.code }, 'command failed');
    terminal.err(`findimage: ${error.message}`);
    exitCode = exitCodeFor(error.code);
  }
  return exitCode;
}

/** What a one-shot command loads: the towers it runs, and whether packing weights at load pays. */
interface ModelUsage {
  /** Only these towers load at start (any other on first use); no search worker is reserved. */
  towers: readonly Tower[];
  /** Packing costs about 0.7 s of CPU per ViT-B/32 tower and speeds every batch after. */
  prepackWeights: boolean;
}
/** One text query (search; stats embeds nothing): the text tower, unpacked. */
const ONE_QUERY: ModelUsage = { towers: ['text'], prepackWeights: false };
/** One image query (similar): the vision tower, unpacked. */
const ONE_IMAGE_QUERY: ModelUsage = { towers: ['vision'], prepackWeights: false };
/** Many text queries (eval --tenant): the text tower, packed. */
const MANY_QUERIES: ModelUsage = { towers: ['text'], prepackWeights: true };
/** Many images (index, backfills): the vision tower, packed. */
const INDEXING: ModelUsage = { towers: ['vision'], prepackWeights: true };

/** What `findimage eval` accepts (both modes). */
interface EvalOptions {
  tenant?: string;
  dataset?: string;
  models?: string[];
  templates?: string[][];
  k?: number[];
  split?: number;
  seed?: number;
  report?: string;
  keepIndex?: string;
  json: boolean;
}

function parseList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('give one or more names separated by commas.');
  return items;
}

function parseCounts(value: string): number[] {
  return parseList(value).map(parseCount);
}

function parseTemplateSets(value: string): string[][] {
  const sets = value.split(';').map((set) => set.split('|').map((t) => t.trim()).filter((t) => t !== ''));
  if (sets.length === 0 || sets.some((set) => set.length === 0 || set.some((t) => !t.includes('{}')))) {
    throw new InvalidArgumentError('give template sets separated by ";", templates in a set by "|", each with {} (e.g. "{};a photo of {}").');
  }
  return sets;
}

function parseShare(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('give a share between 0 and 1, e.g. 0.2.');
  return n;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more.');
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('give a whole number from 1 to 100.');
  return n;
}

function parseOffset(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more.');
  if (n >= MAX_QUERY_WINDOW) {
    throw new InvalidArgumentError(
      `a search ranks its best ${MAX_QUERY_WINDOW} results at most, so give an offset from 0 to ${MAX_QUERY_WINDOW - 1}.`,
    );
  }
  return n;
}

/** Aborts on Ctrl-C, so resumable commands stop after their current batch. */
function untilInterrupted(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
