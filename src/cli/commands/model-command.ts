// `findimage model list` and `findimage model pull [name]`: which models exist, which are on
// this machine, and a checked download with a progress bar.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ModelLocator } from '../../core/models/model-locator.js';
import { MODEL_REGISTRY, getModelSpec } from '../../core/models/model-registry.js';
import { TerminalDownloadProgress } from '../../core/models/terminal-download-progress.js';
import { createSilentLogger } from '../../logger.js';
import type { Terminal } from '../terminal.js';

const MIB = 1024 * 1024;

export async function runModelList(config: Config, terminal: Terminal): Promise<void> {
  const locator = new ModelLocator({
    modelDir: config.modelDir,
    cacheDir: config.cacheDir,
    baseUrl: config.modelBaseUrl,
    logger: createSilentLogger(),
    allowDownload: false,
  });
  for (const spec of MODEL_REGISTRY) {
    const status = await locator.status(spec);
    const marks = [
      spec.id === config.model ? 'selected' : '',
      spec.developmentOnly ? 'random weights, development only' : '',
    ].filter((m) => m !== '');
    const where =
      status.location === 'missing'
        ? `not downloaded (${(status.downloadBytes / MIB).toFixed(0)} MiB)`
        : `available (${status.location})`;
    terminal.out(`${spec.id.padEnd(14)} ${where}${marks.length > 0 ? ` [${marks.join('; ')}]` : ''}`);
    terminal.out(`${''.padEnd(14)} ${spec.description}`);
  }
}

export async function runModelPull(config: Config, id: string, terminal: Terminal, logger: Logger): Promise<void> {
  const spec = getModelSpec(id);
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
