// Slack API errors met while serving a request: each gets a clear private reply or a log line,
// and the bot keeps working afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { SlackApiError } from '../../src/bots/slack/slack-api-error.js';
import { createSlackBot, type SlackCore } from '../../src/bots/slack/slack-bot.js';
import { ConfigError } from '../../src/core/errors.js';
import { createSilentLogger } from '../../src/logger.js';
import { cardsOf, labelled } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { BOT_TOKEN, CHANNELS, SlackHarness } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;

describe('Slack API errors', () => {
  let h: SlackHarness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  /** Runs /findimage red in `channel`, presses Send on the first result, and returns the private answer. */
  async function sendReply(harness: SlackHarness, channel: string = GENERAL): Promise<string> {
    const before = harness.api.responses.length;
    await harness.command('red', channel);
    const preview = await eventually(() => harness.api.responses[before], 'the preview');
    const send = labelled(cardsOf(preview)[0]?.actions ?? [], 'Send');
    await harness.press(send.action_id, send.value, { channel, ts: '1770009999.000100' });
    return String((await eventually(() => harness.api.responses[before + 1], 'a private reply')).text);
  }

  it('not_in_channel: previews privately where the bot is not a member, and asks to be invited when Send is pressed', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    expect(await sendReply(h, CHANNELS.outside.id)).toBe(
      "I'm not a member of that channel (I was posting the results). Invite me with /invite @findimage and try again.",
    );
    expect(h.api.posted()).toEqual([]);
  });

  it('channel_not_found: says it cannot see the conversation when Send is pressed there', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: 'DUNKNOWN01', channelIsPublic: false });
    expect(await sendReply(h, 'DUNKNOWN01')).toBe(
      "I can't see that conversation (I was posting the results). If it is private or a DM, invite me with /invite @findimage first.",
    );
  });

  it('ratelimited: asks to try again in a minute, and the next Send works', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    h.api.failNext('chat.postMessage', 'ratelimited');
    expect(await sendReply(h)).toBe('Slack is rate-limiting me while posting the results. Please try again in a minute.');
    expect(await sendReply(h)).toBe(`Sent #1 to <#${GENERAL}>. Reactions :+1: and :-1: on it count as votes.`);
    expect(h.api.posted()).toHaveLength(1);
  });

  it('invalid_auth: still previews (narrowed to this conversation), tells the user an admin must fix the token on Send, and logs it as an error', async () => {
    h = await SlackHarness.start();
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    h.api.validTokens.delete(BOT_TOKEN);
    expect(await sendReply(h)).toBe(
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
      const lines = h?.logged('could not tell the uploader why images were not indexed') ?? [];
      return lines.length === 1 && lines;
    }, 'a log line');
    expect(line).toMatchObject({ channel: GENERAL, files: ['huge.png'] });
    const good = await h.servePng('red');
    await h.shareFiles([good], GENERAL, '1770000999.000100');
    await eventually(() => h?.api.callsTo('reactions.add').length === 1, 'the next upload to be indexed');
  });
});
