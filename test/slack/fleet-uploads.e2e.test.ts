// Slack uploads in fleet mode, end to end through the real Bolt App and a real redis-server: the
// bot queues a shared image as a reference to Slack's file without downloading it, a fleet
// worker downloads it from the (fake) Slack file host with its own bot token and indexes it, and
// the uploader gets the indexed reaction; a file the worker cannot download is reported in one
// thread reply; what needs no download (too large by Slack's word) is still refused at once.
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackRemoteFiles } from '../../src/bots/slack/slack-remote-files.js';
import { FleetIndexing } from '../../src/core/fleet/fleet-indexing.js';
import { FleetWorker } from '../../src/core/fleet/fleet-worker.js';
import type { IndexJobData } from '../../src/core/fleet/index-job.js';
import { QUEUE_PREFIX, indexQueueName } from '../../src/core/fleet/index-queue-names.js';
import { PlatformFiles } from '../../src/core/fleet/remote-file.js';
import { queueConnection } from '../../src/core/fleet/redis-connection.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { BOT_TOKEN, CHANNELS, NO_WAIT_DOWNLOAD_RETRY, SlackHarness, TEAM } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
const MB = 1024 * 1024;
const logger = createSilentLogger();

describe('Slack uploads in fleet mode, end to end', () => {
  let redis: TestRedisServer;
  let h: SlackHarness;
  let modelId: string;
  let fleet: FleetIndexing;
  let worker: FleetWorker | undefined;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
  });
  afterAll(async () => {
    await redis.remove();
  });
  beforeEach(async () => {
    // Each test its own queue, so that no job of one reaches another.
    modelId = `slack-${Math.floor(Math.random() * 1e9)}`;
    fleet = new FleetIndexing({ redisUrl: redis.url, modelId, logger });
    h = await SlackHarness.start({ fleet });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await fleet.close();
    await h.stop();
  });

  /** A `findimage worker` of the fleet: downloads with its own token (SLACK_BOT_TOKEN, SLACK_API_URL). */
  const startWorker = () => {
    const files = new SlackRemoteFiles({ botToken: BOT_TOKEN, apiUrl: h.api.apiUrl }, logger, NO_WAIT_DOWNLOAD_RETRY);
    worker = new FleetWorker({ redisUrl: redis.url, modelId, indexer: h.indexer, concurrency: 2, leaseMs: 2_000, logger, remoteFiles: new PlatformFiles({ slack: files }) });
    worker.start();
  };
  const jobsInRedis = async (): Promise<IndexJobData[]> => {
    const queue = new Queue<IndexJobData>(indexQueueName(modelId), { connection: queueConnection(redis.url), prefix: QUEUE_PREFIX });
    try {
      return (await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])).map((job) => job.data);
    } finally {
      await queue.close();
    }
  };
  const replies = (ts: string) => h.api.posted().filter((m) => m.threadTs === ts);

  it('queues a shared image as a reference, and the worker downloads it with the bot token and indexes it', async () => {
    const file = await h.servePng('red', 'team photo.png');
    await h.shareFiles([file], GENERAL, '1770000500.000100', 'U7');
    await eventually(async () => (await jobsInRedis()).length === 1, 'the job in Redis');
    // The bot did not download it: the job carries Slack's link, not the bytes.
    expect(h.api.fileStats(file.id).requests).toBe(0);
    const [job] = await jobsInRedis();
    expect(job?.bytes).toBeUndefined();
    expect(job?.file).toEqual({ platform: 'slack', url: file.url_private_download, name: 'team photo.png', size: file.size, mimetype: 'image/png', fileId: file.id });

    startWorker();
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction');
    expect(h.api.fileStats(file.id).authorizations).toEqual([`Bearer ${BOT_TOKEN}`]);
    const [hit] = await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: TEAM }, limit: 1 });
    expect(hit?.payload).toMatchObject({ source: 'slack', filename: 'team photo.png', shares: [{ conversation: GENERAL, uploader: 'U7', fileId: file.id, permalink: file.permalink }] });
    await h.queueIdle();
    expect(h.api.posted()).toEqual([]);
  });

  it('tells the uploader once, in the thread, when the worker cannot download the file', async () => {
    const gone = h.api.addFile({ id: 'FGONE', name: 'gone.png', mimetype: 'image/png', size: 1000, serving: 'missing' });
    await h.shareFiles([gone], GENERAL, '1770000501.000100');
    startWorker();
    await eventually(() => replies('1770000501.000100').length === 1, 'the failure reply');
    expect(replies('1770000501.000100')[0]?.text).toBe(":warning: I couldn't index gone.png: Slack answered HTTP 404 when I downloaded gone.png. Please share it again.");
    await h.queueIdle();
    expect(replies('1770000501.000100')).toHaveLength(1);
    expect(h.api.callsTo('reactions.add')).toEqual([]);
    expect(await h.store.count()).toBe(0);
  });

  it('still refuses at once what needs no download: a file Slack says is too large', async () => {
    const huge = h.api.addFile({ id: 'FHUGE', name: 'huge.png', mimetype: 'image/png', size: 200 * MB, serving: 'huge-declared' });
    await h.shareFiles([huge], GENERAL, '1770000600.000100');
    // No worker runs: the answer comes from the bot's own checks.
    await eventually(() => replies('1770000600.000100').length === 1, 'the refusal');
    expect(replies('1770000600.000100')[0]?.text).toBe(":warning: I couldn't index huge.png: huge.png is 200 MB; I index images up to 50 MB.");
    expect(h.api.fileStats('FHUGE').requests).toBe(0);
    expect(await jobsInRedis()).toEqual([]);
  });
});
