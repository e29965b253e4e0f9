// `findimage migrate --from embedded --to qdrant` (and back): copies vectors and payloads
// between stores without re-embedding, resumable from a checkpoint, with progress; then the
// labels and query log, so a team's judgements move with its images.
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError } from '../../core/errors.js';
import { findModelSpec } from '../../core/models/registered-models.js';
import { migrateStore } from '../../core/store/store-migration.js';
import type { VectorStore } from '../../core/store/vector-store.js';
import { copyLabels, type LabelCopyResult } from '../../core/labels/label-migration.js';
import type { CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

export type StoreKind = 'embedded' | 'qdrant';

export function register(program: Command, { terminal, settings, untilInterrupted }: CommandContext): void {
  program
    .command('migrate')
    .description('copy every vector between the embedded store and Qdrant, without re-embedding')
    .requiredOption('--from <store>', 'embedded or qdrant', parseStoreKind)
    .requiredOption('--to <store>', 'embedded or qdrant', parseStoreKind)
    .action(async (options: { from: StoreKind; to: StoreKind }) => {
      const { config, logger } = settings();
      await runMigrate(config, options.from, options.to, terminal, logger, untilInterrupted());
    });
}

export function parseStoreKind(value: string): StoreKind {
  if (value === 'embedded' || value === 'qdrant') return value;
  throw new ConfigError(`Unknown store "${value}": use embedded or qdrant.`);
}

export async function runMigrate(
  config: Config,
  from: StoreKind,
  to: StoreKind,
  terminal: Terminal,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  if (from === to) throw new ConfigError('--from and --to name the same store; nothing to copy.');
  if (config.qdrant === undefined) {
    throw new ConfigError('Set QDRANT_URL (in the environment or in qdrant.env) to migrate to or from Qdrant.');
  }
  const model = findModelSpec(config.model, config.dataDir);
  // The core (the store, the model, the worker pool) loads when the command runs, not for --help.
  const { openStore } = await import('../../findimage.js');
  const open = (kind: StoreKind): Promise<VectorStore> =>
    openStore(kind === 'qdrant' ? config : { ...config, qdrant: undefined }, model, logger);
  const source = await open(from);
  try {
    const target = await open(to);
    const progress = terminal.progress(0, `Copying ${from} -> ${to}`);
    try {
      const result = await migrateStore({
        from: source,
        to: target,
        checkpointPath: join(config.dataDir, 'checkpoints', `migrate-${from}-to-${to}-${model.id}.json`),
        onProgress: (p) => progress.update(p.read, p.total),
        signal,
        logger,
      });
      progress.stop();
      terminal.out(
        `Copied ${result.written} image${result.written === 1 ? '' : 's'} from the ${from} store to the ${to} store${result.resumed ? ' (resumed where the last run stopped)' : ''}.`,
      );
      const copied = await copyLabelsBetween(config, from, to, logger);
      terminal.out(
        `Copied ${copied.labels} label(s), ${copied.queries} logged quer${copied.queries === 1 ? 'y' : 'ies'} and ${copied.resultMessages} result message(s).`,
      );
      if (to === 'qdrant') terminal.out('findimage uses Qdrant whenever QDRANT_URL is set.');
      else terminal.out('Unset QDRANT_URL to use the embedded store.');
    } finally {
      progress.stop();
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Labels follow the vectors: the same kinds of store, the same settings. */
async function copyLabelsBetween(config: Config, from: StoreKind, to: StoreKind, logger: Logger): Promise<LabelCopyResult> {
  const { openLabelStore } = await import('../../findimage.js');
  const open = (kind: StoreKind) => openLabelStore(kind === 'qdrant' ? config : { ...config, qdrant: undefined }, logger);
  const source = await open(from);
  try {
    const target = await open(to);
    try {
      return await copyLabels(source, target);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
