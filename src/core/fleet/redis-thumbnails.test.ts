// RedisThumbnails against a real redis-server: a thumbnail put by one replica is read by another,
// each read keeps it another expiry, nothing grows without bound (an expiry on every key, a size
// limit), and while Redis is down reads find nothing and writes are skipped, logged once.
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { useTestRedis } from '../testing/test-redis.js';
import { captureLog } from '../testing/wait-until.js';
import { RedisThumbnails, SHARED_THUMBNAIL_TTL_SECONDS, thumbnailKey } from './redis-thumbnails.js';
import { MAX_SHARED_THUMBNAIL_BYTES } from './shared-thumbnails.js';

describe('RedisThumbnails', () => {
  const testRedis = useTestRedis();
  /** One replica's connection, connected. */
  const replicaConnection = (): Promise<Redis> => testRedis.connect();
  const jpeg = (size: number, fill = 7) => Buffer.alloc(size, fill);
  let inspector: Redis;

  beforeAll(async () => {
    inspector = await replicaConnection();
  });

  it('serves on one replica the thumbnail another one shared, byte for byte', async () => {
    const replicaA = new RedisThumbnails({ redis: await replicaConnection(), logger: createSilentLogger() });
    const replicaB = new RedisThumbnails({ redis: await replicaConnection(), logger: createSilentLogger() });
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x80, 0xfe, 0xff, 0xd9]);
    expect(await replicaB.get('a1')).toBeUndefined();
    await replicaA.put('a1', bytes);
    expect(await replicaB.get('a1')).toEqual(bytes);
  });

  it('keeps a thumbnail for 30 days after it was last read, so Redis (noeviction) does not fill up', async () => {
    const thumbnails = new RedisThumbnails({ redis: await replicaConnection(), logger: createSilentLogger() });
    await thumbnails.put('a2', jpeg(100));
    expect(await inspector.ttl(thumbnailKey('a2'))).toBeGreaterThan(SHARED_THUMBNAIL_TTL_SECONDS - 60);
    // Aged by hand, then read: the read renews the full expiry.
    await inspector.expire(thumbnailKey('a2'), 60);
    await thumbnails.get('a2');
    expect(await inspector.ttl(thumbnailKey('a2'))).toBeGreaterThan(SHARED_THUMBNAIL_TTL_SECONDS - 60);
    // So does a view served from a replica's own disk (renew).
    await inspector.expire(thumbnailKey('a2'), 60);
    expect(await thumbnails.renew('a2')).toBe(true);
    expect(await inspector.ttl(thumbnailKey('a2'))).toBeGreaterThan(SHARED_THUMBNAIL_TTL_SECONDS - 60);
    expect(await thumbnails.renew('never-shared')).toBe(false);
  });

  it('does not share a thumbnail over the size limit', async () => {
    const log = captureLog('warn');
    const thumbnails = new RedisThumbnails({ redis: await replicaConnection(), logger: log.logger });
    await thumbnails.put('big', jpeg(MAX_SHARED_THUMBNAIL_BYTES + 1));
    await thumbnails.put('fits', jpeg(MAX_SHARED_THUMBNAIL_BYTES));
    expect(await inspector.exists(thumbnailKey('big'))).toBe(0);
    expect(await inspector.exists(thumbnailKey('fits'))).toBe(1);
    expect(log.withMsg('thumbnail too large to share through Redis; kept on this replica only')).toHaveLength(1);
  });

  it('forgets a deleted image\'s thumbnail for every replica', async () => {
    const replicaA = new RedisThumbnails({ redis: await replicaConnection(), logger: createSilentLogger() });
    const replicaB = new RedisThumbnails({ redis: await replicaConnection(), logger: createSilentLogger() });
    await replicaA.put('gone', jpeg(10));
    await replicaB.forget('gone');
    expect(await replicaA.get('gone')).toBeUndefined();
  });

  it('finds nothing and stores nothing while Redis is down, says so once, and shares again once it is back', async () => {
    const log = captureLog('info');
    const thumbnails = new RedisThumbnails({ redis: await replicaConnection(), logger: log.logger });
    await thumbnails.put('kept', jpeg(10));
    await testRedis.server.kill();
    try {
      expect(await thumbnails.get('kept')).toBeUndefined();
      await thumbnails.put('during', jpeg(10));
      expect(await thumbnails.renew('kept')).toBe(false);
      await thumbnails.forget('kept');
      expect(log.withMsg('Redis is unreachable: thumbnails are made from originals on this replica only until it is back')).toHaveLength(1);
    } finally {
      await testRedis.server.restart();
      await testRedis.reconnected();
    }
    // Kept through the kill by the append-only file.
    expect(await thumbnails.get('kept')).toBeDefined();
    expect(log.withMsg('Redis is reachable again: thumbnails are shared across the fleet')).toHaveLength(1);
    expect(await thumbnails.get('during')).toBeUndefined();
  });
});
