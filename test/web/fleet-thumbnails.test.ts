// Thumbnails in a fleet: two web servers standing for two replicas (each its own FINDIMAGE_DATA,
// one Qdrant store and one Redis between them). A web upload's original stays with the replica
// that took it, so that replica shares the thumbnail through Redis and the other one shows it
// from there; a deleted image's thumbnail is gone everywhere; while Redis is down a replica
// without the original answers a polite 404, and the one with it still shows it.
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, openRedis } from '../../src/core/fleet/redis-connection.js';
import { thumbnailKey } from '../../src/core/fleet/redis-thumbnails.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { waitUntil } from '../../src/core/testing/wait-until.js';
import { createSilentLogger } from '../../src/logger.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { startWebHarness, jpegOf, multipartOf, type WebHarness } from './web-harness.js';

type Upload = { files: Array<{ id: string; status: string }> };

describe('thumbnails on every replica of a fleet', () => {
  let redis: TestRedisServer;
  let qdrant: FakeQdrantServer;
  let inspector: Redis;
  /** Takes the uploads and the index jobs. */
  let a: WebHarness;
  /** Serves the same store; never holds an original. */
  let b: WebHarness;
  let moved = 0;

  const upload = async (replica: WebHarness, name: string, bytes: Buffer) => {
    const response = await fetch(`${replica.server.url}api/images`, { method: 'POST', body: multipartOf([{ name, bytes }]) });
    const file = ((await response.json()) as Upload).files[0];
    expect(file?.status).toBe('indexed');
    return file!.id;
  };
  const thumbnail = (replica: WebHarness, id: string) => fetch(`${replica.server.url}api/images/${id}/thumbnail`);
  const cachedOn = (replica: WebHarness, id: string) => existsSync(join(replica.dir, 'data', 'thumbnails', `${id}.jpg`));
  /**
   * Both "replicas" run on this one machine, so B could read A's originals at their paths: move
   * them away, as they are on a real fleet's other machine. A still has its own cached thumbnails.
   */
  const originalsElsewhere = () => rename(join(a.dir, 'data', 'web-uploads'), join(a.dir, 'data', `web-uploads-elsewhere-${++moved}`));

  beforeAll(async () => {
    [redis, qdrant] = await Promise.all([TestRedisServer.start(), FakeQdrantServer.start()]);
    const fleet = { QDRANT_URL: qdrant.url, REDIS_URL: redis.url };
    a = await startWebHarness({ env: { ...fleet, FINDIMAGE_REPLICA_JOBS: '1' } });
    b = await startWebHarness({ env: { ...fleet, FINDIMAGE_REPLICA_JOBS: '0' } });
    inspector = openRedis({ url: redis.url, role: 'quick', logger: createSilentLogger() });
    await waitUntil(() => inspector.status === 'ready', 'the inspector to connect');
  }, 60_000);
  afterAll(async () => {
    await closeRedis(inspector);
    await b?.close();
    await a?.close();
    await Promise.all([qdrant?.stop(), redis?.remove()]);
  });

  it('shows on replica B the thumbnail of an image uploaded through replica A', async () => {
    const id = await upload(a, 'red.jpg', await jpegOf([200, 30, 30], 640, 480, 1));
    await originalsElsewhere();

    const onB = await thumbnail(b, id);
    expect(onB.status).toBe(200);
    expect(onB.headers.get('content-type')).toBe('image/jpeg');
    const onA = await thumbnail(a, id);
    expect(onA.status).toBe(200);
    expect(Buffer.from(await onB.arrayBuffer())).toEqual(Buffer.from(await onA.arrayBuffer()));
    // B keeps it on its own disk as well, and it is shared for 30 days after this view.
    expect(cachedOn(b, id)).toBe(true);
    expect(await inspector.ttl(thumbnailKey(id))).toBeGreaterThan(29 * 24 * 60 * 60);
  });

  it('deletes a deleted image\'s thumbnail on both replicas and in Redis', async () => {
    const id = await upload(a, 'green.jpg', await jpegOf([30, 200, 30], 640, 480, 2));
    expect((await thumbnail(b, id)).status).toBe(200);
    expect(cachedOn(a, id) && cachedOn(b, id)).toBe(true);

    await a.findimage.store.delete([id], { tenant: 'local' });

    expect((await thumbnail(a, id)).status).toBe(404);
    // A's request deleted the shared copy: no replica can be served it from Redis any more.
    expect(await inspector.exists(thumbnailKey(id))).toBe(0);
    expect((await thumbnail(b, id)).status).toBe(404);
    expect([cachedOn(a, id), cachedOn(b, id)]).toEqual([false, false]);
  });

  it('answers 404 politely on B while Redis is down, for an image whose original only A has', async () => {
    const seenOnB = await upload(a, 'blue.jpg', await jpegOf([30, 30, 200], 640, 480, 3));
    const neverOnB = await upload(a, 'grey.jpg', await jpegOf([120, 120, 120], 640, 480, 4));
    expect((await thumbnail(b, seenOnB)).status).toBe(200);
    await originalsElsewhere();

    await redis.kill();
    try {
      const missing = await thumbnail(b, neverOnB);
      expect(missing.status).toBe(404);
      const body = (await missing.json()) as { error: string; message: string };
      expect(body.error).toBe('not_found');
      expect(body.message).toContain('original file is on another machine of the fleet');
      // A still shows it (from its own disk), and B what it had already shown.
      expect((await thumbnail(a, neverOnB)).status).toBe(200);
      expect((await thumbnail(b, seenOnB)).status).toBe(200);
    } finally {
      // The other tests, in whatever order they run, find Redis up again.
      await redis.restart();
      await waitUntil(() => inspector.status === 'ready', 'the inspector to reconnect');
    }
  });
});
