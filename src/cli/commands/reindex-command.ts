// `findimage reindex --model X`: re-embeds every image with another model into a new index
// (a new embedded file, or a new Qdrant collection whose alias is swapped atomically at the
// end). Resumable; images whose originals are not on this machine are counted, not lost.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError, InvalidImageError } from '../../core/errors.js';
import { findModelSpec } from '../../core/models/registered-models.js';
import type { ModelSpec } from '../../core/models/model-spec.js';
import { migrateStore, type PointTransform } from '../../core/store/store-migration.js';
import type { PointInput } from '../../core/store/vector-store.js';
import type { OpenedEmbedding } from '../../findimage.js';
import type { CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

export function register(program: Command, { terminal, settings, untilInterrupted }: CommandContext): void {
  program
    .command('reindex')
    .description('re-embed every image with another model into a new index (resumable)')
    .requiredOption('--model <id>', 'the model to re-embed with (findimage model list)')
    .action(async (options: { model: string }) => {
      const { config, logger } = settings();
      await runReindex(config, reindexModels(config, options.model), terminal, logger, untilInterrupted());
    });
}

export interface ReindexSummary {
  written: number;
  /** Chat uploads: their bytes live on the platform, not here. */
  notOnThisMachine: number;
  /** Files that moved, vanished or no longer decode. */
  unreadable: number;
  resumed: boolean;
}

export interface ReindexModels {
  /** The model the current index was built with (FINDIMAGE_MODEL). */
  source: ModelSpec;
  /** The model to re-embed with (--model). */
  target: ModelSpec;
}

/** The registry's specs for `findimage reindex --model <id>`. */
export function reindexModels(config: Config, targetId: string): ReindexModels {
  return { source: findModelSpec(config.model, config.dataDir), target: findModelSpec(targetId, config.dataDir) };
}

export async function runReindex(
  config: Config,
  { source, target }: ReindexModels,
  terminal: Terminal,
  logger: Logger,
  signal?: AbortSignal,
): Promise<ReindexSummary> {
  if (source.id === target.id) {
    throw new ConfigError(`The index already uses ${target.id}. Give another model with --model (see findimage model list).`);
  }
  // The core (the store, the model, the worker pool) loads when the command runs, not for --help.
  const { openEmbedding, openStore } = await import('../../findimage.js');
  const embedding = await openEmbedding({ config, logger, model: target });
  const summary: ReindexSummary = { written: 0, notOnThisMachine: 0, unreadable: 0, resumed: false };
  const progress = terminal.progress(0, `Re-embedding with ${target.id}`);
  const checkpointPath = join(config.dataDir, 'checkpoints', `reindex-${source.id}-to-${target.id}.json`);
  const reembed = reembedFromOriginals(embedding, target, summary);
  try {
    if (config.qdrant !== undefined) {
      // The Qdrant client loads only for a Qdrant index: every command is registered at start.
      const { reindexQdrant } = await import('../../core/store/qdrant/qdrant-reindex.js');
      const result = await reindexQdrant({
        ...config.qdrant,
        modelId: target.id,
        dimension: target.dimension,
        checkpointPath,
        reembed,
        onProgress: (p) => progress.update(p.read, p.total),
        signal,
        logger,
      });
      Object.assign(summary, { written: result.written, resumed: result.resumed });
    } else {
      const from = await openStore({ ...config, qdrant: undefined }, source, logger);
      const to = await openStore({ ...config, qdrant: undefined }, target, logger).catch(async (error: unknown) => {
        await from.close();
        throw error;
      });
      try {
        const result = await migrateStore({
          from,
          to,
          checkpointPath,
          transform: reembed,
          job: `reindex into ${target.id}`,
          onProgress: (p) => progress.update(p.read, p.total),
          signal,
          logger,
        });
        Object.assign(summary, { written: result.written, resumed: result.resumed });
      } finally {
        await to.close();
        await from.close();
      }
    }
  } finally {
    progress.stop();
    await embedding.embedder.close();
  }
  terminal.out(formatReindexSummary(summary, target));
  return summary;
}

/** Re-embeds points whose original file is on this machine; counts the others. */
function reembedFromOriginals(embedding: OpenedEmbedding, target: ModelSpec, summary: ReindexSummary): PointTransform {
  return async (points) => {
    const out: PointInput[] = [];
    for (const point of points) {
      const path = point.payload.path;
      if (path === undefined) {
        summary.notOnThisMachine++;
        continue;
      }
      try {
        const image = await embedding.prepareImage(await readFile(path));
        const vector = await embedding.embedder.embedImage(image, { lane: 'bulk' });
        out.push({ id: point.id, vector, payload: { ...point.payload, modelId: target.id } });
      } catch (error) {
        if (error instanceof InvalidImageError || (error as NodeJS.ErrnoException).code !== undefined) summary.unreadable++;
        else throw error;
      }
    }
    return out;
  };
}

export function formatReindexSummary(summary: ReindexSummary, target: ModelSpec): string {
  const lines = [
    `Re-embedded ${summary.written} image${summary.written === 1 ? '' : 's'} with ${target.id}${summary.resumed ? ' (resumed)' : ''}.`,
  ];
  if (summary.notOnThisMachine > 0) {
    lines.push(
      `${summary.notOnThisMachine} chat upload(s) were not re-embedded: their originals live on the chat platform. After switching, run the backfill (/findimage index #channel in Slack) to index them with ${target.id}.`,
    );
  }
  if (summary.unreadable > 0) lines.push(`${summary.unreadable} file(s) had moved or no longer decode and were left out.`);
  lines.push(`Set FINDIMAGE_MODEL=${target.id} to search the new index.`);
  return lines.join('\n');
}
