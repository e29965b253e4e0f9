// `findimage index <folder>` in fleet mode (REDIS_URL): the images go to the fleet's index queue
// and its workers embed them; this process loads no model. It says how many workers are alive
// (none: the images wait for one), shows the run's progress as the fleet's workers finish its
// images, and ends with the same summary and exit codes as on one machine.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { findModelSpec } from '../core/models/registered-models.js';
import { openFleetIndexing } from '../findimage.js';
import { FLEET_QUEUED_BYTES, runIndex, type IndexSummary } from './commands/index-command.js';
import type { Terminal } from './terminal.js';

export async function runFleetIndex(
  config: Config & { fleet: NonNullable<Config['fleet']> },
  logger: Logger,
  folder: string,
  terminal: Terminal,
): Promise<IndexSummary> {
  // Imported here: a machine without REDIS_URL never loads the Redis client.
  const [{ reachRedis, redisShown, openRedis, closeRedis, whenConnected }, { WorkerRegistry }] = await Promise.all([
    import('../core/fleet/redis-connection.js'),
    import('../core/fleet/worker-registry.js'),
  ]);
  const { redisUrl, leaseMs } = config.fleet;
  await reachRedis(redisUrl);
  const modelId = findModelSpec(config.model, config.dataDir).id;
  const redis = openRedis({ url: redisUrl, role: 'quick', logger, name: 'findimage-index' });
  try {
    await whenConnected(redis, redisUrl);
    const workers = (await new WorkerRegistry({ redis, leaseMs, logger }).alive()).length;
    terminal.err(
      workers === 0
        ? `No fleet worker is running (Redis ${redisShown(redisUrl)}): the images wait in the queue until one starts (findimage worker).`
        : `Handing the images to ${workers} fleet worker${workers === 1 ? '' : 's'} (Redis ${redisShown(redisUrl)}).`,
    );
  } finally {
    await closeRedis(redis);
  }
  const fleet = await openFleetIndexing(config.fleet, modelId, logger);
  try {
    await fleet.ready();
    return await runIndex({ indexer: fleet }, folder, terminal, { readAheadBytes: FLEET_QUEUED_BYTES });
  } finally {
    await fleet.close();
  }
}
