// HTTP mode end to end: the real Bolt App behind its HTTP receiver, driven by requests signed
// as Slack signs them; a bad or stale signature is refused before any listener runs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardsOf, controlsOf, labelled } from '../fakes/slack/block-kit.js';
import { eventually, settled } from '../fakes/slack/eventually.js';
import { postEvent, postInteraction, postSlashCommand, slackSignature } from '../fakes/slack/signed-request.js';
import { CHANNELS, SIGNING_SECRET, SlackHarness, TEAM, buttonPayload } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;

describe('Slack bot in HTTP mode', () => {
  let h: SlackHarness;
  const signed = { secret: SIGNING_SECRET };
  const command = (text: string) => ({
    token: 'verification-token',
    team_id: TEAM,
    team_domain: 'test',
    channel_id: GENERAL,
    channel_name: 'general',
    user_id: 'U1',
    user_name: 'someone',
    command: '/findimage',
    text,
    api_app_id: 'A1',
    response_url: h.api.responseUrl(),
    trigger_id: '1.2.3',
  });

  beforeEach(async () => {
    h = await SlackHarness.start({ http: true });
  });
  afterEach(async () => {
    await h.stop();
  });

  it('runs in HTTP mode when a signing secret and a port are set', () => {
    expect(h.bot.mode).toBe('http');
    expect(h.bot.httpPort).toBeGreaterThan(0);
  });

  it('answers a signed /findimage at once and shows the results privately', async () => {
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    // The search cannot finish until released, so an answer that arrives proves the ack waits for
    // no search: Slack's 3 s limit holds however slow the search is.
    const release = h.embedder.holdQueries();
    try {
      const response = await settled(postSlashCommand(h.eventsUrl, command('red'), signed), 'the ack while the search is held');
      expect(response.status).toBe(200);
      expect(h.api.responses).toEqual([]);
    } finally {
      release();
    }
    await eventually(() => h.api.responses.length === 1, 'the preview');
    expect(h.api.responses[0]).toMatchObject({ response_type: 'ephemeral', text: 'Results for “red” (1–1)' });
    expect(h.api.posted()).toEqual([]);
  });

  it('returns help in the response to an empty signed command', async () => {
    const response = await postSlashCommand(h.eventsUrl, command(''), signed);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral', text: 'How to use /findimage' });
  });

  it('rejects a request with a bad signature before any listener runs', async () => {
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await postSlashCommand(h.eventsUrl, command('red'), {
      secret: SIGNING_SECRET,
      timestamp,
      signature: slackSignature('not-the-secret', timestamp, 'anything'),
    });
    expect(response.status).toBe(401);
    // Bolt checks its token with auth.test when it starts; nothing else may have been called.
    expect(h.api.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(h.api.responses).toEqual([]);
  });

  it('rejects a correctly signed request that is more than five minutes old', async () => {
    const response = await postSlashCommand(h.eventsUrl, command('red'), { ...signed, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(response.status).toBe(401);
    expect(h.api.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
  });

  it('rejects a correctly signed request stamped more than five minutes in the future', async () => {
    const response = await postSlashCommand(h.eventsUrl, command('red'), { ...signed, timestamp: Math.floor(Date.now() / 1000) + 600 });
    expect(response.status).toBe(401);
    expect(h.api.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(h.api.responses).toEqual([]);
  });

  it('accepts a correctly signed request stamped four minutes in the future (clock skew within the window)', async () => {
    const response = await postSlashCommand(h.eventsUrl, command(''), { ...signed, timestamp: Math.floor(Date.now() / 1000) + 240 });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ text: 'How to use /findimage' });
  });

  it('answers Slack\'s URL verification challenge', async () => {
    const response = await postEvent(h.eventsUrl, { type: 'url_verification', token: 't', challenge: 'abc123' }, signed);
    expect(response.status).toBe(200);
    expect(response.body).toContain('abc123');
  });

  it('indexes an upload sent as a signed event and pages results on a signed button press', async () => {
    for (const colour of ['orange', 'magenta', 'purple', 'blue', 'cyan'] as const) {
      await h.seed(colour, { channel: GENERAL, channelIsPublic: true });
    }
    const file = await h.servePng('red');
    const event = {
      token: 'verification-token',
      team_id: TEAM,
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: 'Ev1',
      event_time: 1770000500,
      event: { type: 'message', subtype: 'file_share', channel: GENERAL, user: 'U1', ts: '1770000500.000100', files: [file] },
    };
    expect((await postEvent(h.eventsUrl, event, signed)).status).toBe(200);
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the upload to be indexed');
    expect(await h.store.count({ tenant: TEAM, share: { fileId: file.id } })).toBe(1);

    await postSlashCommand(h.eventsUrl, command('red'), signed);
    const preview = await eventually(() => h.api.responses[0], 'page 1');
    expect(preview.text).toBe('Results for “red” (1–5)');
    const next = labelled(controlsOf(preview), 'Next');
    const payload = buttonPayload(next.action_id, next.value, { channel: GENERAL, ts: '1770009999.000100' }, 'U1', TEAM, h.api.responseUrl('action'));
    expect((await postInteraction(h.eventsUrl, payload, signed)).status).toBe(200);
    const second = await eventually(() => h.api.responses[1], 'page 2');
    expect(second).toMatchObject({ replace_original: true, text: 'Results for “red” (6–6)' });

    // Send, signed too: the one message that reaches the channel.
    const send = labelled(cardsOf(second)[0]?.actions ?? [], 'Send');
    const sendPayload = buttonPayload(send.action_id, send.value, { channel: GENERAL, ts: '1770009999.000100' }, 'U1', TEAM, h.api.responseUrl('action'));
    expect((await postInteraction(h.eventsUrl, sendPayload, signed)).status).toBe(200);
    await eventually(() => h.api.posted().length === 1, 'the sent image');
    expect(h.api.posted()[0]?.blocks[0]).toMatchObject({ text: { text: '<@U1> searched for “red” and sent this:' } });
  });
});
