// Slack API errors met while serving a request: each gets a clear private reply or a log line,
// and the bot keeps working afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { SlackApiError } from '../../src/bots/slack/slack-api-error.js';
import { createSlackBot, type SlackCore } from '../../src/bots/slack/slack-bot.js';
import { ConfigError } from '../../src/core/errors.js';
import type { LabelStore } from '../../src/core/labels/label-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { BOT_TOKEN, CHANNELS, SlackHarness, TEAM } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;

describe('Slack API errors', () => {
  let h: SlackHarness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  async function searchReply(harness: SlackHarness, channel: string = GENERAL): Promise<string> {
    await harness.command('red', channel);
    await eventually(() => harness.api.responses.length === 1, 'a private reply');
    return String(harness.api.responses[0]?.text);
  }

  it('not_in_channel: asks to be invited when a search runs where the bot is not a member', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    expect(await searchReply(h, CHANNELS.outside.id)).toBe(
      "I'm not a member of this channel, so I can't post results here. Invite me with /invite @findimage and try again.",
    );
    expect(h.api.posted()).toEqual([]);
  });

  it('not_in_channel: asks to be invited when Slack refuses the post itself', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    h.api.failNext('chat.postMessage', 'not_in_channel');
    expect(await searchReply(h)).toBe("I'm not a member of that channel (I was posting the results). Invite me with /invite @findimage and try again.");
  });

  it('channel_not_found: says it cannot see the conversation', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: 'DUNKNOWN01', channelIsPublic: false });
    expect(await searchReply(h, 'DUNKNOWN01')).toBe(
      "I can't see that conversation (I was posting the results). If it is private or a DM, invite me with /invite @findimage first.",
    );
  });

  it('ratelimited: asks to try again in a minute, and the next search works', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    h.api.failNext('chat.postMessage', 'ratelimited');
    expect(await searchReply(h)).toBe('Slack is rate-limiting me while posting the results. Please try again in a minute.');
    await h.command('red');
    await eventually(() => h?.api.posted().length === 2, 'the next search to post');
  });

  it('invalid_auth: tells the user an admin must fix the token, and logs it as an error', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    h.api.validTokens.delete(BOT_TOKEN);
    expect(await searchReply(h)).toBe(
      'Slack refused my token while posting the results (invalid_auth). An admin must reinstall the app or update SLACK_BOT_TOKEN.',
    );
    expect(h.logs.some((line) => line.level === 50 && String(line.msg).includes('(invalid_auth)'))).toBe(true);
  });

  it('invalid_auth at start: start() fails with what the admin must do, instead of crashing later', async () => {
    const attempt = SlackHarness.start({ slack: { botToken: 'xoxb-revoked' } });
    await expect(attempt).rejects.toBeInstanceOf(SlackApiError);
    await expect(attempt).rejects.toThrow(
      'Slack refused my token while checking SLACK_BOT_TOKEN (invalid_auth). An admin must reinstall the app or update SLACK_BOT_TOKEN.',
    );
  });

  it('invalid_auth on the app token: start() says how to make a new one', async () => {
    await expect(SlackHarness.start({ slack: { appToken: 'xapp-revoked' } })).rejects.toThrow(
      'Slack refused SLACK_APP_TOKEN (invalid_auth). Generate an app-level token with the connections:write scope under Basic Information → App-Level Tokens, and set SLACK_APP_TOKEN to it.',
    );
  });

  it('refuses to build without a transport, naming the settings to set', () => {
    expect(() =>
      createSlackBot({
        config: { botToken: BOT_TOKEN, signingSecret: 'secret', indexedReaction: '' },
        findimage: {} as SlackCore,
        labels: {} as LabelStore,
        dataDir: '/nonexistent',
        logger: createSilentLogger(),
      }),
    ).toThrow(new ConfigError('Slack needs SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET and PORT for HTTP mode. See docs/slack.md.'));
  });

  it('logs an upload failure it cannot report in a thread, and keeps going', async () => {
    h = await SlackHarness.start();
    const huge = h.api.addFile({ id: 'FHUGE', name: 'huge.png', mimetype: 'image/png', size: 500 * 1024 * 1024 });
    h.api.failNext('chat.postMessage', 'ratelimited');
    await h.shareFiles([huge]);
    const [line] = await eventually(() => {
      const lines = h?.logged('could not tell the uploader why an image was not indexed') ?? [];
      return lines.length === 1 && lines;
    }, 'a log line');
    expect(line).toMatchObject({ filename: 'huge.png', reason: 'huge.png is 500 MB; I index images up to 50 MB.' });
    const good = await h.servePng('red');
    await h.shareFiles([good], GENERAL, '1770000999.000100');
    await eventually(() => h?.api.callsTo('reactions.add').length === 1, 'the next upload to be indexed');
  });

  it('indexes an upload as private when the conversation cannot be looked up', async () => {
    h = await SlackHarness.start();
    h.api.failNext('conversations.info', 'internal_error');
    const file = await h.servePng('red');
    await h.shareFiles([file]);
    await eventually(() => h?.api.callsTo('reactions.add').length === 1, 'the upload to be indexed');
    const [point] = await h.store.get([(await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: TEAM }, limit: 1 }))[0]?.id ?? '']);
    expect(point?.payload.channelIsPublic).toBe(false);
  });
});
