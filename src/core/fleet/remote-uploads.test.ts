// Chat uploads in fleet mode travel as references: on a real redis-server with real BullMQ, an
// upload queued on a replica with a reference to the platform's file (and no bytes) is
// downloaded by the worker that takes its job, through that worker's RemoteFiles, and indexed;
// the uploader's outcome comes once. A download that fails for good, or a worker without the
// platform's token, fails the job with its reason, reported to the uploader once. The indexer
// itself never takes a reference.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { FindimageError, InvalidImageError } from '../errors.js';
import { ImageIndexer, type ImageToIndex } from '../indexing/image-indexer.js';
import { UploadQueue, type UploadOutcome } from '../indexing/upload-queue.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { FleetIndexing } from './fleet-indexing.js';
import { FleetWorker, type JobEnd } from './fleet-worker.js';
import { imageOfJob, jobDataOf, type IndexJobData } from './index-job.js';
import { QUEUE_PREFIX, indexQueueName } from './index-queue-names.js';
import { PlatformFiles, type RemoteFile, type RemoteFiles } from './remote-file.js';
import { queueConnection } from './redis-connection.js';

const logger = createSilentLogger();
const LEASE_MS = 2_000;

const FILE: RemoteFile = { platform: 'slack', url: 'https://files.slack.com/files-pri/T1-F1/cat.png', name: 'cat.png', size: 24, mimetype: 'image/png', fileId: 'F1' };

/** A Slack upload queued by reference, as the intake queues it in fleet mode. */
const referenced = (file: RemoteFile = FILE): ImageToIndex => ({
  bytes: new Uint8Array(0),
  remote: file,
  filename: file.name,
  tenant: 'T1',
  source: 'slack',
  share: { conversation: 'C1', isPublic: true, sharedAt: '2026-01-02T03:04:05.000Z', messageId: '1770000001.000100', fileId: 'F1', uploader: 'U1' },
});

/** A platform's file host as a worker sees it: answers each file (by url) or throws. */
class FakeFileHost implements RemoteFiles {
  readonly fetched: RemoteFile[] = [];
  constructor(private readonly answer: (file: RemoteFile) => Uint8Array) {}
  async fetch(file: RemoteFile): Promise<Uint8Array> {
    this.fetched.push(file);
    return this.answer(file);
  }
}

describe('chat uploads by reference in fleet mode', () => {
  let redis: TestRedisServer;
  let dir: string;
  let store: VectorStore;
  let modelId: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });
  afterAll(async () => {
    await redis.remove();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-remote-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    // Each test its own queue, so that no job of one reaches another.
    modelId = `test-${Math.floor(Math.random() * 1e9)}`;
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const indexer = () => new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, logger });
  const worker = (remoteFiles: RemoteFiles | undefined, ends: JobEnd[] = []) => {
    const w = new FleetWorker({
      redisUrl: redis.url,
      modelId,
      indexer: indexer(),
      concurrency: 2,
      leaseMs: LEASE_MS,
      logger,
      onJobEnd: (end) => ends.push(end),
      transientDelayMs: 10,
      ...(remoteFiles === undefined ? {} : { remoteFiles }),
    });
    closers.push(() => w.close());
    w.start();
    return w;
  };
  /** A replica's durable upload queue forwarding to the fleet, with every outcome it reports. */
  const replicaQueue = () => {
    const fleet = new FleetIndexing({ redisUrl: redis.url, modelId, logger });
    const queue = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer: fleet, logger, retryDelayMs: 5, maxRetryDelayMs: 20 });
    closers.push(() => fleet.close());
    closers.push(() => queue.stop());
    const outcomes: UploadOutcome[] = [];
    queue.onOutcome((o) => outcomes.push(o));
    queue.start();
    return { queue, outcomes };
  };
  /** The job data BullMQ holds for each job added so far. */
  const jobsInRedis = async (): Promise<IndexJobData[]> => {
    const queue = new Queue<IndexJobData>(indexQueueName(modelId), { connection: queueConnection(redis.url), prefix: QUEUE_PREFIX });
    try {
      return (await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])).map((job) => job.data);
    } finally {
      await queue.close();
    }
  };

  it('queues the reference, not the bytes, and the worker downloads and indexes the file', async () => {
    const host = new FakeFileHost(() => jsonImage([1, 0, 0, 0]));
    const { queue, outcomes } = replicaQueue();
    const jobId = queue.enqueue(referenced());
    await waitUntil(async () => (await jobsInRedis()).length === 1, 'the job added');
    const [data] = await jobsInRedis();
    // What travels through Redis is the platform's file reference, without any bytes.
    expect(data?.file).toEqual(FILE);
    expect(data?.bytes).toBeUndefined();
    expect(data?.image).not.toHaveProperty('remote');

    const ends: JobEnd[] = [];
    worker(new PlatformFiles({ slack: host }), ends);
    await waitUntil(() => outcomes.length === 1, 'the outcome');
    expect(host.fetched).toEqual([FILE]);
    expect(outcomes[0]).toMatchObject({ status: 'indexed', jobId, result: { payload: { tenant: 'T1', filename: 'cat.png', shares: [{ conversation: 'C1', fileId: 'F1' }] } } });
    expect(await store.count()).toBe(1);
    expect(queue.pending()).toBe(0);
    await queue.whenIdle();
    expect(outcomes).toHaveLength(1);
    expect(ends.map((e) => e.outcome)).toEqual(['indexed']);
  });

  it('fails a file the platform will not serve as an image for good, telling the uploader once', async () => {
    const host = new FakeFileHost((file) => {
      throw new InvalidImageError('image_unsupported', `${file.name} is not an image (Slack served it as text/plain).`);
    });
    const { queue, outcomes } = replicaQueue();
    const jobId = queue.enqueue(referenced());
    const ends: JobEnd[] = [];
    worker(new PlatformFiles({ slack: host }), ends);
    await waitUntil(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ status: 'rejected', jobId, error: { code: 'image_unsupported', message: 'cat.png is not an image (Slack served it as text/plain).' } });
    expect(await store.count()).toBe(0);
    expect(queue.pending()).toBe(0);
    await queue.whenIdle();
    expect(outcomes).toHaveLength(1);
    // A few attempts (another worker may fare better), then it stops.
    expect(ends.at(-1)?.outcome).toBe('failed');
  });

  it('fails a Slack upload on a worker without the Slack bot token, saying which token to give it', async () => {
    const discordOnly = new FakeFileHost(() => jsonImage([0, 1, 0, 0]));
    const { queue, outcomes } = replicaQueue();
    queue.enqueue(referenced());
    worker(new PlatformFiles({ discord: discordOnly }));
    await waitUntil(() => outcomes.length === 1, 'the outcome');
    const outcome = outcomes[0];
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'config_invalid' } });
    const error = (outcome as { error: FindimageError }).error;
    expect(error.message).toContain('This worker was given no Slack bot token, so it cannot download Slack files');
    // The uploader is told something fit for chat, not the operator's advice.
    expect(error.publicMessage).toBe('A findimage worker could not download this file from Slack; whoever runs findimage has been told why in its log.');
    expect(discordOnly.fetched).toEqual([]);
  });

  it('fails such a job on a worker given no RemoteFiles at all, the same way', async () => {
    const { queue, outcomes } = replicaQueue();
    queue.enqueue(referenced({ ...FILE, platform: 'discord' }));
    worker(undefined);
    await waitUntil(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ status: 'rejected', error: { code: 'config_invalid' } });
    expect((outcomes[0] as { error: FindimageError }).error.message).toContain('given no Discord bot token');
  });
});

describe('a reference without its bytes', () => {
  it('is refused by the indexer, which would otherwise store every such upload as one empty image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'findimage-remote-'));
    const store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    try {
      const local = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store, prepare: prepareJsonImage, logger });
      await expect(local.index(referenced())).rejects.toMatchObject({ code: 'internal' });
      expect(await store.count()).toBe(0);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('goes through a job and back as the same reference, and a folder image still carries its bytes', () => {
    const upload = referenced();
    const data = jobDataOf(upload);
    expect(data).toMatchObject({ file: FILE });
    expect(data.bytes).toBeUndefined();
    expect(imageOfJob(JSON.parse(JSON.stringify(data)) as IndexJobData)).toMatchObject({ remote: FILE, bytes: new Uint8Array(0), filename: 'cat.png' });

    const folder: ImageToIndex = { bytes: jsonImage([1, 2, 3, 4]), filename: 'a.json', tenant: 'local', source: 'local', path: '/photos/a.json' };
    const back = imageOfJob(JSON.parse(JSON.stringify(jobDataOf(folder))) as IndexJobData);
    expect(Buffer.from(back.bytes).toString()).toBe('[1,2,3,4]');
    expect(back.remote).toBeUndefined();
  });
});
