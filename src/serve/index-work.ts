// The part of a fleet process that takes indexing jobs: `findimage worker`, and a serving
// replica beside its chat work (FINDIMAGE_REPLICA_JOBS). Builds a FleetWorker on the core's
// ImageIndexer; the core's reserved search worker keeps a replica's searches fast meanwhile.
// Chat uploads arrive as references to the platform's file: this process downloads them with
// its own SLACK_BOT_TOKEN / DISCORD_TOKEN, so every worker needs the bots' tokens.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { JobEnd } from '../core/fleet/fleet-worker.js';
import type { RemoteFiles, RemotePlatform } from '../core/fleet/remote-file.js';
import type { Findimage } from '../findimage.js';

/** A running index worker. */
export interface IndexWork {
  /** Takes no new job, finishes those it holds, and disconnects. */
  close(): Promise<void>;
}

export interface IndexWorkOptions {
  config: Config & { fleet: NonNullable<Config['fleet']> };
  findimage: Findimage;
  /** Jobs worked on at once. */
  concurrency: number;
  logger: Logger;
  /** Told as each job ends (metrics). */
  onJobEnd?: (end: JobEnd) => void;
  /** How `findimage fleet status` lists this process: a `findimage worker`, or a serving replica. */
  role: 'worker' | 'replica';
}

/**
 * Starts taking the fleet's index jobs for the core's model. Resolves at once, Redis reachable or
 * not: the worker connects (and reconnects) by itself, and a process started during an outage
 * must still answer SIGTERM.
 */
export async function startIndexWork(options: IndexWorkOptions): Promise<IndexWork> {
  const [{ FleetWorker }, { WorkerRegistry }, { openRedis, closeRedis }, { ShareMarks }] = await Promise.all([
    import('../core/fleet/fleet-worker.js'),
    import('../core/fleet/worker-registry.js'),
    import('../core/fleet/redis-connection.js'),
    import('../core/fleet/share-marks.js'),
  ]);
  const { fleet } = options.config;
  const logger = options.logger.child({ component: 'fleet-worker' });
  const remoteFiles = await remoteFilesFor(options.config, options.logger);
  // Heartbeats, so that `findimage fleet status` lists this process with its pace.
  const redis = openRedis({ url: fleet.redisUrl, role: 'quick', logger, name: `findimage-${options.role}` });
  const registry = new WorkerRegistry({ redis, leaseMs: fleet.leaseMs, logger });
  registry.join({ host: hostname(), pid: process.pid, device: options.findimage.embeddingStats().provider, role: options.role });
  // Deletions and privacy changes other replicas marked: a job of a deleted message is withdrawn,
  // one of a conversation made private is written private. On a connection of their own (named
  // in CLIENT LIST), closed once the worker's last job has ended.
  const marksRedis = openRedis({ url: fleet.redisUrl, role: 'quick', logger, name: `findimage-${options.role}-marks` });
  const worker = new FleetWorker({
    redisUrl: fleet.redisUrl,
    modelId: options.findimage.model.id,
    indexer: options.findimage.indexer,
    marks: new ShareMarks({ redis: marksRedis }),
    store: options.findimage.store,
    concurrency: options.concurrency,
    leaseMs: fleet.leaseMs,
    logger,
    remoteFiles,
    onJobEnd: (end) => {
      if (end.outcome !== 'retried') registry.jobEnded(end.outcome === 'failed' ? 'failed' : 'ok');
      options.onJobEnd?.(end);
    },
  });
  worker.start();
  return {
    close: async () => {
      await worker.close();
      await registry.stop();
      await closeRedis(redis);
      await closeRedis(marksRedis);
    },
  };
}

/**
 * Downloads chat uploads with the tokens of this process's own environment. A platform without
 * its token is logged now, and each of its jobs fails saying which variable to set.
 */
export async function remoteFilesFor(config: Pick<Config, 'slack' | 'discord'>, logger: Logger): Promise<RemoteFiles> {
  const { PlatformFiles, missingTokenError } = await import('../core/fleet/remote-file.js');
  // Each platform's SDK is loaded only when its token is set.
  const slack = config.slack === undefined ? undefined : new (await import('../bots/slack/slack-remote-files.js')).SlackRemoteFiles(config.slack, logger);
  const discord = config.discord === undefined ? undefined : new (await import('../bots/discord/discord-remote-files.js')).DiscordRemoteFiles(config.discord, logger);
  const files = new PlatformFiles(
    { ...(slack === undefined ? {} : { slack }), ...(discord === undefined ? {} : { discord }) },
    // Names the setting to give this process, which core cannot know.
    { whenMissing: (platform) => missingTokenError(platform, `This worker has no ${TOKEN_VARIABLE[platform]} to download ${PLATFORM_NAME[platform]} files; set it on every worker (see docs/fleet.md).`) },
  );
  const missing = [...(slack === undefined ? ['SLACK_BOT_TOKEN'] : []), ...(discord === undefined ? ['DISCORD_TOKEN'] : [])];
  // Info, not a warning: a fleet without that bot (folders only, or one platform) is fine.
  if (missing.length > 0) {
    logger.info({ missing }, `no ${missing.join(' or ')} here: if that bot runs, set its token on every worker too, or its uploads that this process takes will fail`);
  }
  return files;
}

/** The setting a worker needs to download each platform's files, and the platform's name. */
const TOKEN_VARIABLE: Record<RemotePlatform, string> = { slack: 'SLACK_BOT_TOKEN', discord: 'DISCORD_TOKEN' };
const PLATFORM_NAME: Record<RemotePlatform, string> = { slack: 'Slack', discord: 'Discord' };

/** Whether the config is in fleet mode (narrows its type). */
export function isFleet(config: Config): config is Config & { fleet: NonNullable<Config['fleet']> } {
  return config.fleet !== undefined;
}
