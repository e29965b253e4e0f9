// The Slack transport line follows the bot's own choice (slack-bot.ts): HTTP mode when a signing
// secret and a port are set, Socket Mode with an app-level token otherwise, and a failure naming
// the half that is missing. HTTP mode needs no call to Slack to be judged.
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { slackTransport } from './slack-bot.js';
import { slackChecks } from './slack-doctor.js';

const transport = (settings: { signingSecret?: string; port?: number; appToken?: string }) =>
  slackChecks({ config: { botToken: 'xoxb-t', indexedReaction: '', apiUrl: 'http://127.0.0.1:1/api/', ...settings }, logger: createSilentLogger() })
    .find((c) => c.name === 'slack transport')
    ?.run(new AbortController().signal);

describe('the Slack transport check', () => {
  it('passes HTTP mode with a signing secret and a port', async () => {
    expect(await transport({ signingSecret: 's3cret', port: 3000 })).toEqual({
      status: 'ok',
      summary: 'HTTP mode: Slack must reach port 3000 (PORT), requests are checked with SLACK_SIGNING_SECRET',
    });
  });

  it('says what the bot chooses when both transports are set: HTTP mode, the app token unused', async () => {
    const both = { signingSecret: 's3cret', port: 3000, appToken: 'xapp-t' };
    expect(slackTransport({ botToken: 'xoxb-t', indexedReaction: '', ...both })).toEqual({ mode: 'http', signingSecret: 's3cret', port: 3000 });
    expect(await transport(both)).toMatchObject({ status: 'ok', summary: expect.stringMatching(/^HTTP mode: .*; SLACK_APP_TOKEN is set but unused \(HTTP mode wins\)$/) });
    expect(slackTransport({ botToken: 'xoxb-t', indexedReaction: '', appToken: 'xapp-t', port: 3000 })).toEqual({ mode: 'socket', appToken: 'xapp-t' });
    expect(slackTransport({ botToken: 'xoxb-t', indexedReaction: '', signingSecret: 's3cret' })).toEqual({ mode: 'none' });
  });

  it('fails with neither transport, naming the half of HTTP mode that is missing', async () => {
    expect(await transport({ signingSecret: 's3cret' })).toMatchObject({ status: 'fail', summary: 'neither Socket Mode nor HTTP mode is configured (SLACK_SIGNING_SECRET is set, but PORT is not)' });
    expect(await transport({})).toMatchObject({ status: 'fail', action: expect.stringContaining('SLACK_APP_TOKEN') });
  });
});
