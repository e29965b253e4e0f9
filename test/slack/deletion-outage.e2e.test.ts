// A Slack message deleted while Qdrant is down: the real Bolt app takes the message_deleted
// event, the deletion is kept on disk through a restart of the bot, and once Qdrant is back the
// image can no longer be found, while an image of another message still can.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openQdrantStore } from '../../src/core/store/qdrant/qdrant-store.js';
import type { RetryPolicy } from '../../src/core/store/qdrant/retry-policy.js';
import { ReconnectingStore } from '../../src/core/store/reconnecting-store.js';
import type { VectorStore } from '../../src/core/store/vector-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, SlackHarness, TEAM } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
/** One quick try per call: the queue and the reconnecting store do the waiting. */
const ONE_TRY: RetryPolicy = { attempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 10 };
const RED_TS = '1770000100.000100';
const BLUE_TS = '1770000200.000100';

describe('a Slack message deleted while Qdrant is down', () => {
  let dir: string;
  let qdrant: FakeQdrantServer;
  const harnesses: SlackHarness[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-slack-deletion-'));
    qdrant = await FakeQdrantServer.start();
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.stop();
    await qdrant.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the bot on the shared data directory, its store Qdrant on the fake server, as `serve` opens it. */
  async function startBot(): Promise<SlackHarness> {
    const openStore = async (): Promise<VectorStore> =>
      new ReconnectingStore({
        open: () =>
          openQdrantStore({
            url: qdrant.url,
            modelId: 'known-vectors',
            dimension: 4,
            onDisk: false,
            quantization: false,
            logger: createSilentLogger(),
            retry: ONE_TRY,
            startupRetry: ONE_TRY,
          }),
        dimension: 4,
        description: `Qdrant at ${qdrant.url}`,
        logger: createSilentLogger(),
        retryDelayMs: 20,
        maxRetryDelayMs: 50,
      });
    const h = await SlackHarness.start({ dir, openStore });
    harnesses.push(h);
    // As serve does: what an earlier run left in the queue is taken up again.
    h.uploads.start();
    return h;
  }

  /** Runs /findimage `text` and returns the private answer's text. */
  async function answerTo(h: SlackHarness, text: string): Promise<string> {
    const before = h.api.responses.length;
    await h.command(text, GENERAL);
    return String((await eventually(() => h.api.responses[before], 'a private answer')).text);
  }

  it('is applied once Qdrant is back after a restart: the image is no longer found, and the other message’s image still is', async () => {
    const first = await startBot();
    await (first.store as ReconnectingStore).whenConnected();
    await first.shareFiles([await first.servePng('red')], GENERAL, RED_TS);
    await first.shareFiles([await first.servePng('blue')], GENERAL, BLUE_TS);
    await eventually(async () => (await first.store.count()) === 2, 'both images to be indexed');
    // The fake Qdrant ranks every image the searcher may see: both, red first.
    expect(await answerTo(first, 'red')).toBe('Results for “red” (1–2)');

    await qdrant.goDown();
    await first.event({
      type: 'message',
      subtype: 'message_deleted',
      hidden: true,
      channel: GENERAL,
      channel_type: 'channel',
      ts: '1770002000.000100',
      deleted_ts: RED_TS,
      event_ts: '1770002000.000100',
    });
    await eventually(() => first.logged('share update will be retried').length > 0, 'the deletion to be tried and kept');
    expect(first.uploads.pendingShareUpdates()).toBe(1);
    await first.stop();
    harnesses.splice(harnesses.indexOf(first), 1);

    const second = await startBot();
    await eventually(() => second.logged('share update will be retried').length > 0, 'the restarted bot to try the deletion again');
    await qdrant.comeUp();
    await second.queueIdle();
    expect(second.logged('message deleted; its shares left the index')).toHaveLength(1);
    expect(await answerTo(second, 'red')).toBe('Results for “red” (1–1)');
    expect(await second.store.count({ tenant: TEAM, share: { messageId: RED_TS } })).toBe(0);
    expect(await second.store.count({ tenant: TEAM, share: { messageId: BLUE_TS } })).toBe(1);
  });
});
