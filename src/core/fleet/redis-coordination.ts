// The fleet's coordination: replay guard, pacing, backfill progress, content claims and shared
// thumbnails, all on one quick Redis connection, so that every replica and worker shares them
// (coordination.ts says what each is for; openCoordination() picks this one when REDIS_URL is set).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Coordination } from './coordination.js';
import { RedisBackfillProgressStore } from './redis-backfill-progress.js';
import { RedisContentClaims } from './redis-content-claims.js';
import { RedisPostPacer } from './redis-post-pacer.js';
import { RedisReplayGuard } from './redis-replay-guard.js';
import { RedisThumbnails } from './redis-thumbnails.js';

export interface RedisCoordinationOptions {
  /** A quick connection (fails at once while Redis is down); the caller closes it. */
  redis: Redis;
  /** How long a claim or backfill lease outlives its holder (config.fleet.leaseMs). */
  leaseMs: number;
  logger: Logger;
}

/** The fleet's objects, all on one quick Redis connection. close() leaves the connection open. */
export function redisCoordination(options: RedisCoordinationOptions): Coordination {
  const { redis, leaseMs, logger } = options;
  return {
    kind: 'redis',
    replays: new RedisReplayGuard({ redis, logger: logger.child({ component: 'replay-guard' }) }),
    pacer: new RedisPostPacer({ redis, logger: logger.child({ component: 'post-pacer' }) }),
    backfills: (platform) => new RedisBackfillProgressStore({ redis, platform, leaseMs, logger: logger.child({ component: 'backfill-progress', platform }) }),
    claims: (modelId) => new RedisContentClaims({ redis, modelId, leaseMs, logger: logger.child({ component: 'content-claims', model: modelId }) }),
    thumbnails: new RedisThumbnails({ redis, logger: logger.child({ component: 'shared-thumbnails' }) }),
    close: async () => undefined,
  };
}

