// `findimage worker [--concurrency N]`: in fleet mode (REDIS_URL), takes indexing jobs from the
// fleet's queue on this machine (CPU or GPU), embeds them and writes them to Qdrant, until SIGTERM
// or Ctrl-C; then it finishes the jobs it holds and exits 0.
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { INDEXING, type CommandContext } from '../command-context.js';

/**
 * Jobs worked on at once by default: enough images in flight for the embedding pool's batches
 * and the store's write batches to fill, few enough that their bytes stay small (8 images).
 */
export const DEFAULT_WORKER_CONCURRENCY = 8;

/** Most jobs at once: beyond a GPU's largest batch, more only hold bytes. */
const MAX_WORKER_CONCURRENCY = 256;

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKER_CONCURRENCY) throw new InvalidArgumentError(`give a whole number from 1 to ${MAX_WORKER_CONCURRENCY}.`);
  return n;
}

export function register(program: Command, { terminal, settings, withCore, untilStopped }: CommandContext): void {
  program
    .command('worker')
    .description('take indexing jobs from the fleet\'s queue (REDIS_URL) and index them on this machine')
    .option('--concurrency <n>', 'jobs worked on at once', parseConcurrency, DEFAULT_WORKER_CONCURRENCY)
    .action(async (options: { concurrency: number }) => {
      const { config, logger } = settings('info');
      const { isFleet, startIndexWork } = await import('../../serve/index-work.js');
      if (!isFleet(config)) {
        throw new ConfigError(
          'findimage worker takes indexing jobs from the fleet\'s queue in Redis: set REDIS_URL (and QDRANT_URL) first. See docs/fleet.md.',
          { details: { variable: 'REDIS_URL' } },
        );
      }
      const stopped = untilStopped();
      await withCore(INDEXING, async (findimage) => {
        const work = await startIndexWork({ config, findimage, concurrency: options.concurrency, logger, role: 'worker' });
        terminal.err(`Worker ready: indexing ${findimage.model.id} jobs, ${options.concurrency} at a time. Stop it with Ctrl-C or SIGTERM.`);
        await stopped;
        terminal.err('Stopping: finishing the jobs in hand.');
        await work.close();
      });
    });
}
