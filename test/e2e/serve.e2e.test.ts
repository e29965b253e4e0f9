// `findimage serve` as a user runs it: the real binary, configured only through the
// environment, connects to Slack (fake Web API and Socket Mode on 127.0.0.1), indexes an
// upload, answers /findimage, and stops cleanly on SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardsOf } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { FakeSlackApi } from '../fakes/slack/fake-slack-api.js';
import { FakeSocketMode } from '../fakes/slack/fake-socket-mode.js';
import { APP_TOKEN, BOT_TOKEN, CHANNELS, TEAM, pngOf } from '../slack/slack-harness.js';
import { cliEnv, startCli } from './cli-process.js';

describe('findimage serve', () => {
  let home: string;
  let api: FakeSlackApi;
  let socket: FakeSocketMode;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-serve-'));
    api = await FakeSlackApi.start([BOT_TOKEN, APP_TOKEN]);
    socket = await FakeSocketMode.start();
    api.socketUrl = socket.url;
    api.channels.set(CHANNELS.general.id, { ...CHANNELS.general });
  });
  afterAll(async () => {
    await socket.close();
    await api.close();
    await rm(home, { recursive: true, force: true });
  });

  it('runs the Slack bot from the environment until SIGTERM', async () => {
    const child = startCli(
      ['serve'],
      cliEnv(home, {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: api.apiUrl,
        FINDIMAGE_MIN_RELATIVE_SCORE: '0',
      }),
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await socket.waitForConnection();
      await eventually(() => stderr.includes('slack bot connected.'), 'the serve banner', 15_000);

      const file = api.addFile({ id: 'FSERVE', name: 'red square.png', mimetype: 'image/png', bytes: await pngOf('red', 64) });
      await socket.sendEvent({ type: 'message', subtype: 'file_share', channel: CHANNELS.general.id, user: 'U1', ts: '1770000600.000100', files: [file] });
      await eventually(() => api.callsTo('reactions.add').length === 1, 'the upload to be indexed', 15_000);

      const ack = await socket.send('slash_commands', {
        team_id: TEAM,
        channel_id: CHANNELS.general.id,
        user_id: 'U1',
        command: '/findimage',
        text: 'a red square',
        response_url: api.responseUrl(),
      });
      expect(ack).toBeDefined();
      const preview = await eventually(() => api.responses[0], 'the results', 15_000);
      expect(preview).toMatchObject({ response_type: 'ephemeral', text: 'Results for “a red square” (1–1)' });
      expect(cardsOf(preview).map((c) => c.title.text)).toEqual(['#1 red square.png']);
      expect(api.posted()).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
