// What the processes running findimage share so that any replica can answer anything: the replay
// guard, channel pacing, backfill progress, content claims and (in a fleet) thumbnails. One process keeps them in memory
// and in SQLite under FINDIMAGE_DATA (as findimage always did); a fleet (REDIS_URL) keeps them in
// Redis. The composition root picks one with openCoordination(); bots and the indexer only see
// the interfaces.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SqliteBackfillProgressStore, type BackfillProgressStore } from '../conversations/backfill-progress.js';
import { ChannelPacer, type PostPacer } from '../conversations/post-pacer.js';
import { ReplayGuard, type ReplayMemory } from '../conversations/replay-guard.js';
import { SqliteContentClaims, contentClaimsPath, type ContentClaims } from '../indexing/content-claims.js';
import type { SharedThumbnails } from './shared-thumbnails.js';

/** Content claims that its opener closes. */
export type ClosableContentClaims = ContentClaims & {
  /** Stops the claims (SQLite: closes the file; Redis: stops renewing). */
  close(): void;
};

/** The state the processes of one findimage installation share. */
export interface Coordination {
  /** "local": this process only (memory and SQLite); "redis": shared by the fleet. */
  readonly kind: 'local' | 'redis';
  /** Request ids acted on, so a platform's retry or a twice-delivered event acts once. */
  readonly replays: ReplayMemory;
  /** Spacing of posts per conversation (one a second), shared by every bot of this process. */
  readonly pacer: PostPacer;
  /**
   * Opens the backfill progress of one platform's channels ("slack", "discord"; the name keeps
   * platforms apart). The caller closes it.
   */
  backfills(platform: string): BackfillProgressStore;
  /** Opens the content claims of model `modelId`'s index. The caller closes them. */
  claims(modelId: string): ClosableContentClaims;
  /**
   * Thumbnails shared by the fleet, so a replica shows those another one made from an original
   * only it holds. Undefined on one machine, whose thumbnails stay on its disk beside the originals.
   */
  readonly thumbnails?: SharedThumbnails;
  /** Closes what openCoordination opened (the Redis connection). */
  close(): Promise<void>;
}

/** Today's single-process objects: replay memory and pacing in memory, the rest under `dataDir`. */
export function localCoordination(options: { dataDir: string }): Coordination {
  const { dataDir } = options;
  return {
    kind: 'local',
    replays: new ReplayGuard(),
    pacer: new ChannelPacer(),
    backfills: (platform) => new SqliteBackfillProgressStore(join(dataDir, `${platform}-backfill.sqlite`)),
    claims: (modelId) => new SqliteContentClaims({ path: contentClaimsPath(dataDir, modelId) }),
    close: async () => undefined,
  };
}

export interface OpenCoordinationOptions {
  /** FINDIMAGE_DATA (the local state's files). */
  dataDir: string;
  /** config.fleet: when set, the state lives in the Redis at redisUrl. */
  fleet?: { redisUrl: string; leaseMs: number } | undefined;
  logger: Logger;
}

/**
 * The coordination the configuration asks for: Redis when a fleet is configured (it connects in
 * the background and each piece copes with Redis being down), else the local one. The Redis
 * client is imported only for a fleet.
 */
export async function openCoordination(options: OpenCoordinationOptions): Promise<Coordination> {
  const { fleet, logger } = options;
  if (fleet === undefined) return localCoordination({ dataDir: options.dataDir });
  // Imported here: a machine without REDIS_URL never loads the Redis client.
  const [{ redisCoordination }, { closeRedis, openRedis }] = await Promise.all([import('./redis-coordination.js'), import('./redis-connection.js')]);
  const redis = openRedis({ url: fleet.redisUrl, role: 'quick', logger: logger.child({ component: 'redis', role: 'quick' }), name: 'findimage-coordination' });
  const coordination = redisCoordination({ redis, leaseMs: fleet.leaseMs, logger });
  return { ...coordination, close: () => closeRedis(redis) };
}
