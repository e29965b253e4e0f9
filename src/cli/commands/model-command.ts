// `findimage model list` and `findimage model pull [name]`: which models exist (built in and
// registered with `model add`), their family, size, dimension, languages and published quality,
// which are on this machine, and a checked download with a progress bar. `findimage model add`
// is declared here too and runs model-add-command.ts.
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ModelLocator } from '../../core/models/model-locator.js';
import { familyOf } from '../../core/models/model-family.js';
import { MODEL_REGISTRY } from '../../core/models/model-registry.js';
import type { ModelSpec } from '../../core/models/model-spec.js';
import { findModelSpec, loadRegisteredModels } from '../../core/models/registered-models.js';
import { TerminalDownloadProgress } from '../../core/models/terminal-download-progress.js';
import { createSilentLogger } from '../../logger.js';
import type { CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

const MIB = 1024 * 1024;
/** Width of the id column. */
const ID_WIDTH = 16;

export function register(program: Command, { terminal, settings }: CommandContext): void {
  const model = program.command('model').description('list or download models');
  model
    .command('list')
    .description('list the models findimage knows and whether each is available here')
    .action(async () => {
      await runModelList(settings().config, terminal);
    });
  model
    .command('add')
    .description('register a model of your own: a folder with findimage-model.json, the ONNX files and tokenizer.json (docs/models.md)')
    .argument('<dir>', 'the model folder')
    .action(async (dir: string) => {
      const { config, logger } = settings();
      // Checking a folder runs an image through the model (sharp): loaded only here.
      const { runModelAdd } = await import('./model-add-command.js');
      await runModelAdd(config, dir, terminal, logger);
    });
  model
    .command('pull')
    .description('download a model (default: the configured one) and check every file')
    .argument('[name]', 'model id')
    .action(async (name: string | undefined) => {
      const { config, logger } = settings();
      await runModelPull(config, name ?? config.model, terminal, logger);
    });
}

/** Total bytes of a model's three files. */
function modelBytes(spec: ModelSpec): number {
  return Object.values(spec.files).reduce((sum, file) => sum + file.size, 0);
}

/** "581 MiB" above 10 MiB, "1.6 MiB" below. */
function mebibytes(bytes: number): string {
  const mib = bytes / MIB;
  return `${mib >= 10 ? mib.toFixed(0) : mib.toFixed(1)} MiB`;
}

/** The facts `model list` shows for one model, one line each. */
export function describeModel(spec: ModelSpec): string[] {
  const facts = [
    `${familyOf(spec).id}`,
    mebibytes(modelBytes(spec)),
    `${spec.dimension}-d`,
    `languages: ${(spec.languages ?? ['en']).join(', ')}`,
    ...(spec.variantOf === undefined ? [] : [`${spec.variantOf.precision} variant of ${spec.variantOf.model}`]),
  ];
  const quality =
    spec.quality === undefined
      ? spec.developmentOnly
        ? 'quality: none (random weights)'
        : 'quality: no published figure'
      : `quality: ${spec.quality.metric} ${spec.quality.percent.toFixed(1)}% (${spec.quality.source})`;
  return [spec.description, facts.join(', '), quality];
}

export async function runModelList(config: Config, terminal: Terminal): Promise<void> {
  const locator = new ModelLocator({
    modelDir: config.modelDir,
    cacheDir: config.cacheDir,
    baseUrl: config.modelBaseUrl,
    logger: createSilentLogger(),
    allowDownload: false,
  });
  const registered = loadRegisteredModels(config.dataDir);
  for (const spec of [...MODEL_REGISTRY, ...registered]) {
    const status = await locator.status(spec);
    const marks = [
      spec.id === config.model ? 'selected' : '',
      spec.developmentOnly ? 'random weights, development only' : '',
      registered.includes(spec) ? 'registered with model add' : '',
    ].filter((m) => m !== '');
    const where =
      status.location === 'missing'
        ? `not downloaded (${(status.downloadBytes / MIB).toFixed(0)} MiB)`
        : `available (${registered.includes(spec) ? 'registered folder' : status.location})`;
    terminal.out(`${spec.id.padEnd(ID_WIDTH)} ${where}${marks.length > 0 ? ` [${marks.join('; ')}]` : ''}`);
    for (const line of describeModel(spec)) terminal.out(`${''.padEnd(ID_WIDTH)} ${line}`);
  }
}

export async function runModelPull(config: Config, id: string, terminal: Terminal, logger: Logger): Promise<void> {
  const spec = findModelSpec(id, config.dataDir);
  const progress = new TerminalDownloadProgress();
  const locator = new ModelLocator({
    modelDir: config.modelDir,
    cacheDir: config.cacheDir,
    baseUrl: config.modelBaseUrl,
    retryDelayMs: config.modelRetryDelayMs,
    logger: logger.child({ component: 'models' }),
    onProgress: progress.listener,
  });
  try {
    const paths = await locator.locate(spec);
    terminal.out(`Model ${spec.id} is ready; every file's size and sha256 checked.`);
    for (const path of Object.values(paths)) terminal.out(`  ${path}`);
  } finally {
    progress.stop();
  }
}
