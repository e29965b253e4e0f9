// A Slack upload in fleet mode through the real binaries: a real redis-server, the fake Qdrant, the
// fake Slack (Web API, Socket Mode and file host), a `findimage serve` replica that takes no
// index jobs itself (FINDIMAGE_REPLICA_JOBS=0) and `findimage worker` processes. The replica
// queues a reference to Slack's file; the worker downloads it with the SLACK_BOT_TOKEN of its
// own environment, and the uploader gets the indexed reaction. A worker without that token fails
// the upload, and the uploader is told once, in the thread.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRedisServer } from '../../src/core/testing/redis-server.js';
import { waitUntil } from '../../src/core/testing/wait-until.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { FakeSlackApi } from '../fakes/slack/fake-slack-api.js';
import { FakeSocketMode } from '../fakes/slack/fake-socket-mode.js';
import { APP_TOKEN, BOT_TOKEN, CHANNELS, pngOf } from '../slack/slack-harness.js';
import { cliEnv, watchCli, type WatchedCli } from './cli-process.js';

/**
 * The worker's token. One Slack app has one bot token, which every process is given; the fake
 * accepts a second one here so that the download it records can only be the worker's.
 */
const WORKER_TOKEN = 'xoxb-same-app-on-the-worker';
const GENERAL = CHANNELS.general.id;
const COLLECTION = 'findimage_tiny-test';

describe('a Slack upload in fleet mode, downloaded by the worker', () => {
  let home: string;
  let redis: TestRedisServer;
  let qdrant: FakeQdrantServer;
  let api: FakeSlackApi;
  let socket: FakeSocketMode;
  const started: WatchedCli[] = [];

  const fleetEnv = (name: string, extra: Record<string, string> = {}) =>
    cliEnv(join(home, name), { QDRANT_URL: qdrant.url, REDIS_URL: redis.url, FINDIMAGE_FLEET_LEASE_MS: '2000', LOG_LEVEL: 'info', ...extra });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-fleet-uploads-'));
    for (const name of ['replica', 'tokenless', 'worker']) await mkdir(join(home, name));
    [redis, qdrant, api, socket] = await Promise.all([TestRedisServer.start(), FakeQdrantServer.start(), FakeSlackApi.start([BOT_TOKEN, APP_TOKEN, WORKER_TOKEN]), FakeSocketMode.start()]);
    api.socketUrl = socket.url;
    api.channels.set(GENERAL, { ...CHANNELS.general });
  }, 60_000);
  afterAll(async () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await socket.close();
    await api.close();
    await Promise.all([qdrant.stop(), redis.remove()]);
    await rm(home, { recursive: true, force: true });
  });

  it('is indexed by a worker with SLACK_BOT_TOKEN, and refused once by one without it', async () => {
    const replica = watchCli(['serve'], fleetEnv('replica', { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: api.apiUrl, FINDIMAGE_REPLICA_JOBS: '0' }));
    started.push(replica);
    await socket.waitForConnection();
    await waitUntil(() => replica.stderr.includes('slack bot connected.'), 'the replica connected', 60_000);

    // A worker without the bot's token: it says so when it starts, and fails Slack uploads.
    const tokenless = watchCli(['worker'], fleetEnv('tokenless'));
    started.push(tokenless);
    await waitUntil(() => tokenless.stderr.includes('Worker ready'), 'the tokenless worker ready', 60_000);
    expect(tokenless.stderr).toContain('no SLACK_BOT_TOKEN or DISCORD_TOKEN here');
    const first = api.addFile({ id: 'FFIRST', name: 'first.png', mimetype: 'image/png', bytes: await pngOf('red', 40) });
    await socket.sendEvent({ type: 'message', subtype: 'file_share', channel: GENERAL, user: 'U1', ts: '1770000600.000100', files: [first] });
    await waitUntil(() => api.posted().length === 1, 'the failure reply', 60_000);
    expect(api.posted()[0]).toMatchObject({
      threadTs: '1770000600.000100',
      text: ":warning: I couldn't index first.png: A findimage worker could not download this file from Slack; whoever runs findimage has been told why in its log.",
    });
    expect(tokenless.stderr).toContain('This worker has no SLACK_BOT_TOKEN to download Slack files; set it on every worker');
    expect(api.fileStats('FFIRST').requests).toBe(0);
    tokenless.child.kill('SIGTERM');
    expect(await tokenless.exited).toEqual({ code: 0, signal: null });

    // A worker with the token (and SLACK_API_URL, as the replica has) downloads and indexes it.
    const worker = watchCli(['worker'], fleetEnv('worker', { SLACK_BOT_TOKEN: WORKER_TOKEN, SLACK_API_URL: api.apiUrl }));
    started.push(worker);
    await waitUntil(() => worker.stderr.includes('Worker ready'), 'the worker ready', 60_000);
    const second = api.addFile({ id: 'FSECOND', name: 'second.png', mimetype: 'image/png', bytes: await pngOf('blue', 40) });
    await socket.sendEvent({ type: 'message', subtype: 'file_share', channel: GENERAL, user: 'U1', ts: '1770000601.000100', files: [second] });
    await waitUntil(() => api.callsTo('reactions.add').length === 1, 'the indexed reaction', 60_000);
    expect(api.callsTo('reactions.add')[0]?.args).toMatchObject({ channel: GENERAL, timestamp: '1770000601.000100' });
    // Downloaded once, by the worker: the replica never fetched it.
    expect(api.fileStats('FSECOND').authorizations).toEqual([`Bearer ${WORKER_TOKEN}`]);
    expect(qdrant.collection(COLLECTION)?.size).toBe(1);
    expect(api.posted()).toHaveLength(1);

    worker.child.kill('SIGTERM');
    replica.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await replica.exited).toEqual({ code: 0, signal: null });
  });
});
