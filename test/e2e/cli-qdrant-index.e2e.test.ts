// `findimage index` into Qdrant (the fake server on 127.0.0.1, which logs every request), through
// the real binary: a folder's images reach the store in full batches, so a bulk index costs
// Qdrant a few requests, not one or two per image (issue 18).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import type { LoggedRequest } from '../fakes/qdrant/fake-qdrant-server.js';
import { cliEnv, failuresIn, runCli, type CliResult } from './cli-process.js';

/** Two full store batches at the default FINDIMAGE_INDEX_BATCH of 64. */
const IMAGES = 128;

/** The goal of issue 18: store requests per image, beyond opening the collection. */
const MAX_REQUESTS_PER_IMAGE = 0.1;

/** The images' collection for the tiny test model; the rest is setup (collections, indexes, labels). */
const POINTS = '/collections/findimage_tiny-test/points';

/**
 * Writes (upserts) and duplicate lookups among the requests: QdrantStore reads ids within a
 * tenant with a scroll filtered on them, since Qdrant's retrieve takes no filter.
 */
function pointRequests(requests: readonly LoggedRequest[]): { upserts: number; lookups: number } {
  return {
    upserts: requests.filter((r) => r.method === 'PUT' && r.path === POINTS).length,
    lookups: requests.filter((r) => r.method === 'POST' && r.path === `${POINTS}/scroll`).length,
  };
}

describe('findimage index into Qdrant', () => {
  let home: string;
  let photos: string;
  let qdrant: FakeQdrantServer;
  /** The first index run, made once here so that each test stands alone in any order. */
  let first: { result: CliResult; requests: LoggedRequest[] };

  const withQdrant = () => cliEnv(home, { QDRANT_URL: qdrant.url });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-qdrant-index-'));
    qdrant = await FakeQdrantServer.start();
    photos = join(home, 'photos');
    await mkdir(photos);
    // 128 different images (each its own colour), so none is a duplicate of another.
    for (let i = 0; i < IMAGES; i++) {
      const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: i * 2 };
      await sharp({ create: { width: 32, height: 24, channels: 3, background } }).png().toFile(join(photos, `photo${i}.png`));
    }
    const result = await runCli(['index', photos], withQdrant());
    first = { result, requests: [...qdrant.requests] };
  }, 90_000);
  afterAll(async () => {
    await qdrant.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('indexes 128 images in at most 4 upserts, at most 0.1 requests an image beyond setup', async () => {
    const { result, requests } = first;
    expect(failuresIn(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Indexed ${IMAGES} images, 0 already indexed, 0 skipped.`);
    const { upserts, lookups } = pointRequests(requests);
    console.info(`${requests.length} requests in all, setup included: ${upserts} upserts, ${lookups} lookups`);
    expect(upserts).toBeLessThanOrEqual(4);
    expect((upserts + lookups) / IMAGES).toBeLessThanOrEqual(MAX_REQUESTS_PER_IMAGE);
    const stats = await runCli(['stats', '--json'], withQdrant());
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: IMAGES });
  });

  it('finds them all already indexed on a second run, in a few lookups and no upsert', async () => {
    const before = qdrant.requests.length;
    const result = await runCli(['index', photos], withQdrant());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Indexed 0 images, ${IMAGES} already indexed, 0 skipped.`);
    const { upserts, lookups } = pointRequests(qdrant.requests.slice(before));
    expect(upserts).toBe(0);
    expect(lookups / IMAGES).toBeLessThanOrEqual(MAX_REQUESTS_PER_IMAGE);
  });
});
