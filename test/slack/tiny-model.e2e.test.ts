// The Slack bot on the real engine: openFindimage with the tiny test model (random weights, so
// only the plumbing is asserted, never the ranking) behind the real Bolt App and the fakes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatBot } from '../../src/bots/chat-bot.js';
import { slackBotFactory } from '../../src/bots/slack/slack-bot.js';
import { loadConfig } from '../../src/config.js';
import { openFindimage, type Findimage } from '../../src/findimage.js';
import { createSilentLogger } from '../../src/logger.js';
import { cardsOf } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { FakeSlackApi } from '../fakes/slack/fake-slack-api.js';
import { FakeSocketMode } from '../fakes/slack/fake-socket-mode.js';
import { APP_TOKEN, BOT_TOKEN, CHANNELS, TEAM, pngOf } from './slack-harness.js';

describe('Slack bot on openFindimage with the tiny test model', () => {
  let dir: string;
  let api: FakeSlackApi;
  let socket: FakeSocketMode;
  let findimage: Findimage;
  let bot: ChatBot | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-slack-tiny-'));
    api = await FakeSlackApi.start([BOT_TOKEN, APP_TOKEN]);
    socket = await FakeSocketMode.start();
    api.socketUrl = socket.url;
    api.channels.set(CHANNELS.general.id, { ...CHANNELS.general });
    const config = loadConfig({
      FINDIMAGE_MODEL: 'tiny-test',
      FINDIMAGE_DATA: join(dir, 'data'),
      FINDIMAGE_CACHE: join(dir, 'cache'),
      FINDIMAGE_DEVICE: 'cpu',
      FINDIMAGE_MIN_RELATIVE_SCORE: '0',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: api.apiUrl,
    });
    const logger = createSilentLogger();
    findimage = await openFindimage({ config, logger });
    bot = await slackBotFactory(config, findimage, logger);
    await bot?.start();
    await socket.waitForConnection();
  });
  afterAll(async () => {
    await bot?.stop();
    await socket.waitForClose().catch(() => undefined);
    await socket.close();
    await findimage.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('indexes a shared image with the model and finds it with /findimage', async () => {
    expect(bot?.platform).toBe('slack');
    const file = api.addFile({ id: 'FTINY', name: 'square.png', mimetype: 'image/png', bytes: await pngOf('red', 64) });
    await socket.sendEvent({ type: 'message', subtype: 'file_share', channel: CHANNELS.general.id, user: 'U1', ts: '1770000500.000100', files: [file] });
    await eventually(() => api.callsTo('reactions.add').length === 1, 'the image to be indexed', 15_000);
    const [point] = await findimage.store.query(new Float32Array(findimage.store.dimension).fill(1 / Math.sqrt(findimage.store.dimension)), {
      filter: { tenant: TEAM },
      limit: 1,
    });
    expect(point?.payload).toMatchObject({ modelId: 'tiny-test' });
    expect(point?.payload.shares).toEqual([expect.objectContaining({ fileId: 'FTINY', conversation: CHANNELS.general.id, isPublic: true })]);

    await socket.send('slash_commands', {
      team_id: TEAM,
      channel_id: CHANNELS.general.id,
      user_id: 'U1',
      command: '/findimage',
      text: 'a red square',
      response_url: api.responseUrl(),
    });
    // The results come privately to the searcher; nothing is posted to the channel.
    const preview = await eventually(() => api.responses[0], 'the results', 15_000);
    expect(preview.text).toBe('Results for “a red square” (1–1)');
    expect(cardsOf(preview).map((c) => c.title.text)).toEqual(['#1 square.png']);
    expect(cardsOf(preview)[0]?.subtitle.text).toMatch(/^score -?\d\.\d{3} · <@U1> in <#CGENERAL01> on /);
    expect(api.posted()).toEqual([]);
  });
});
