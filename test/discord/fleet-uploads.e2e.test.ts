// Discord attachments in fleet mode, end to end through the real discord.js Client and a real
// redis-server: the bot queues a posted image as a reference to its attachment without
// downloading it, and a fleet worker downloads it from the (fake) CDN, refreshing an expired
// link with its own bot token, and indexes it. What needs no download (too large by Discord's
// word, a link off Discord's CDN) is refused at once, and a file that fails on the worker is
// named in the same single reply.
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { DiscordRemoteFiles } from '../../src/bots/discord/discord-remote-files.js';
import { FleetIndexing } from '../../src/core/fleet/fleet-indexing.js';
import { FleetWorker } from '../../src/core/fleet/fleet-worker.js';
import type { IndexJobData } from '../../src/core/fleet/index-job.js';
import { QUEUE_PREFIX, indexQueueName } from '../../src/core/fleet/index-queue-names.js';
import { PlatformFiles } from '../../src/core/fleet/remote-file.js';
import { queueConnection } from '../../src/core/fleet/redis-connection.js';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { NO_WAIT_DOWNLOAD_RETRY } from '../slack/slack-harness.js';
import { CHANNELS, DiscordHarness, GUILD, USER } from './discord-harness.js';

const RED = Float32Array.from([1, 0, 0, 0]);
const logger = createSilentLogger();

describe('Discord attachments in fleet mode, end to end', () => {
  let redis: TestRedisServer;
  let h: DiscordHarness;
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
    modelId = `discord-${Math.floor(Math.random() * 1e9)}`;
    fleet = new FleetIndexing({ redisUrl: redis.url, modelId, logger });
    h = await DiscordHarness.start({ fleet, discord: { maxFileBytes: 4_000 } });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await fleet.close();
    await h.stop();
  });

  /** A `findimage worker` of the fleet: downloads with its own DISCORD_TOKEN and DISCORD_API_URL. */
  const startWorker = () => {
    const files = new DiscordRemoteFiles({ token: h.fake.token, apiUrl: h.fake.apiUrl, maxFileBytes: 4_000 }, logger, NO_WAIT_DOWNLOAD_RETRY);
    worker = new FleetWorker({ redisUrl: redis.url, modelId, indexer: h.indexer, concurrency: 2, leaseMs: 2_000, logger, remoteFiles: new PlatformFiles({ discord: files }) });
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
  const replies = (channel: string) => (h.fake.messages.get(channel) ?? []).filter((m) => (m.author as { id: string }).id === h.fake.botUser.id);
  const indexedMark = async (channel: string, id: string) =>
    eventually(() => (h.fake.messages.get(channel) ?? []).find((m) => m.id === id && Array.isArray(m.botReactions)), 'the indexed reaction');
  const cdnGets = (attachmentId: string) => h.fake.requestsTo('GET', new RegExp(`/attachments/\\d+/${attachmentId}/`));

  test('a posted image is queued as a reference, and the worker downloads and indexes it', async () => {
    const attachment = await h.attachment('red', CHANNELS.general, 'team photo.png');
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    await eventually(async () => (await jobsInRedis()).length === 1, 'the job in Redis');
    // The bot did not download it: the job carries the attachment's link, not the bytes.
    expect(cdnGets(attachment.id)).toEqual([]);
    const [job] = await jobsInRedis();
    expect(job?.bytes).toBeUndefined();
    expect(job?.file).toEqual({ platform: 'discord', url: attachment.url, name: 'team photo.png', size: attachment.size, mimetype: 'image/png', fileId: attachment.id });

    startWorker();
    const marked = await indexedMark(CHANNELS.general, message.id);
    expect(marked.botReactions).toEqual(['🖼️']);
    const [hit] = await h.store.query(RED, { filter: { tenant: GUILD }, limit: 1 });
    expect(hit?.payload).toMatchObject({ source: 'discord', filename: 'team photo.png', shares: [{ conversation: CHANNELS.general, messageId: message.id, fileId: attachment.id, uploader: USER }] });
    await h.queueIdle();
    expect(replies(CHANNELS.general)).toEqual([]);
  });

  test('the worker refreshes a link that expired while the job waited, with its own token', async () => {
    const attachment = await h.attachment('red', CHANNELS.general);
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    await eventually(async () => (await jobsInRedis()).length === 1, 'the job in Redis');
    h.fake.expired.add(attachment.id);
    startWorker();
    await indexedMark(CHANNELS.general, message.id);
    // refresh-urls answers only a request with the bot token (else 401).
    expect(h.fake.requestsTo('POST', /^\/attachments\/refresh-urls$/).map((r) => [r.status, r.body])).toEqual([[200, { attachment_urls: [attachment.url] }]]);
    expect(cdnGets(attachment.id).map((r) => r.status)).toEqual([404, 200]);
  });

  test('refusals that need no download come at once, and a file that fails on the worker joins them in one reply', async () => {
    const huge = h.fake.addAttachment(CHANNELS.general, 'huge.png', new Uint8Array(10_000));
    const offsite = { ...(await h.attachment('red', CHANNELS.general, 'offsite.png')), url: 'https://images.example.com/red.png' };
    const corrupt = h.fake.addAttachment(CHANNELS.general, 'broken.png', new TextEncoder().encode('not a png at all'));
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [huge, offsite, corrupt] });
    // Only the corrupt one became a job; the other two were refused by the bot itself.
    await eventually(async () => (await jobsInRedis()).length === 1, 'the job in Redis');
    expect((await jobsInRedis())[0]?.file?.name).toBe('broken.png');
    expect(cdnGets(huge.id)).toEqual([]);

    startWorker();
    const [reply] = await eventually(() => (replies(CHANNELS.general).length > 0 ? replies(CHANNELS.general) : undefined), 'the failure reply');
    expect(reply?.message_reference).toMatchObject({ message_id: message.id });
    const content = String(reply?.content);
    expect(content).toContain("I couldn't index 3 of the images in this message");
    expect(content).toMatch(/huge\.png: huge\.png is 0\.0 MB; I index images up to 0\.0 MB/);
    expect(content).toContain("offsite.png: I only download attachments from Discord's CDN");
    expect(content).toContain('broken.png: The file is damaged');
    await h.queueIdle();
    expect(replies(CHANNELS.general)).toHaveLength(1);
    expect(await h.store.count({ tenant: GUILD })).toBe(0);
  });
});
