// Requests that must not do what they seem to ask, end to end: a preview's buttons pressed in
// another conversation or workspace, buttons on an image deleted since, stale button values, and
// requests Slack sends twice. Each is refused politely or acted on once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardsOf, controlsOf, labelled, type Element } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, SlackHarness, TEAM, buttonPayload } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
const RANDOM = CHANNELS.random.id;
const PREVIEW = { channel: GENERAL, ts: '1770009999.000100' };
const ELSEWHERE = 'That search belongs to another conversation. Run it again here to use it.';
const GONE = 'That search is no longer available here. Please run it again.';
const IMAGE_GONE = 'That image has since been deleted or is no longer shown here, so nothing was recorded.';
const REPLAY_LOGGED = 'ignored a replayed Slack request';

describe('Slack requests that must be refused or acted on once', () => {
  let h: SlackHarness;
  let preview: Record<string, unknown>;

  /** Waits for the `n`th response_url message (1-based) and returns it. */
  const response = (n: number) =>
    eventually(() => h.api.responses.length >= n && h.api.responses[n - 1], `response_url message ${n}`);

  beforeEach(async () => {
    h = await SlackHarness.start();
    for (const colour of ['red', 'orange', 'magenta', 'purple', 'green', 'blue'] as const) {
      await h.seed(colour, { channel: GENERAL, channelIsPublic: true, fileId: `F${colour.toUpperCase()}`, messageId: `1760000000.${colour}` });
    }
    await h.command('red');
    preview = await response(1);
  });
  afterEach(async () => {
    await h.stop();
  });

  const firstCard = () => cardsOf(preview)[0]?.actions ?? [];

  it('refuses Next, a vote and Send pressed on a search from another conversation, and does nothing', async () => {
    const pressed: Element[] = [labelled(controlsOf(preview), 'Next'), labelled(firstCard(), ':+1:'), labelled(firstCard(), 'Send'), labelled(controlsOf(preview), 'Share all')];
    for (const [i, button] of pressed.entries()) {
      // The same button value, pressed on a message in #random: the search belongs to #general.
      await h.press(button.action_id, button.value, { channel: RANDOM, ts: PREVIEW.ts });
      expect(await response(2 + i)).toEqual({ response_type: 'ephemeral', replace_original: false, text: ELSEWHERE });
    }
    expect(h.api.posted()).toEqual([]);
    expect(await h.labels.listLabels({ tenant: TEAM })).toEqual([]);
  });

  it('refuses a preview button pressed from another workspace as no longer available', async () => {
    const pressed = [labelled(controlsOf(preview), 'Next'), labelled(firstCard(), ':-1:'), labelled(firstCard(), 'Send')];
    for (const [i, button] of pressed.entries()) {
      await h.press(button.action_id, button.value, PREVIEW, 'U1', 'T2');
      expect((await response(2 + i)).text).toBe(GONE);
    }
    expect(h.api.posted()).toEqual([]);
    expect(await h.labels.listLabels({ tenant: TEAM })).toEqual([]);
    expect(await h.labels.listLabels({ tenant: 'T2' })).toEqual([]);
  });

  it('says an image was deleted since when its vote or Send button is pressed, and records or posts nothing', async () => {
    await h.event({ type: 'message', subtype: 'message_deleted', hidden: true, channel: GENERAL, ts: '1770002000.000100', deleted_ts: '1760000000.red', event_ts: '1770002000.000100' });
    await eventually(async () => (await h.store.count({ tenant: TEAM })) === 5, 'the red image to leave the index');
    await h.press(labelled(firstCard(), ':+1:').action_id, labelled(firstCard(), ':+1:').value, PREVIEW);
    expect((await response(2)).text).toBe(IMAGE_GONE);
    await h.press(labelled(firstCard(), 'Send').action_id, labelled(firstCard(), 'Send').value, PREVIEW);
    expect((await response(3)).text).toBe(IMAGE_GONE);
    expect(await h.labels.listLabels({ tenant: TEAM })).toEqual([]);
    expect(h.api.posted()).toEqual([]);
  });

  it('tells whoever presses a button with a value it cannot read to run the search again', async () => {
    await h.press('findimage_send:1', 'not json', PREVIEW);
    expect((await response(2)).text).toBe('That button is from an older version of findimage. Please run the search again.');
    await h.press('findimage_page:next', JSON.stringify({ q: 'x', p: -1 }), PREVIEW);
    expect((await response(3)).text).toBe('That button is from an older version of findimage. Please run the search again.');
    expect(h.api.posted()).toEqual([]);
  });

  it('answers a slash command that Slack sends twice (same trigger id) only once', async () => {
    await h.command('red', GENERAL, 'U1', TEAM, 'trigger-replayed');
    await h.command('red', GENERAL, 'U1', TEAM, 'trigger-replayed');
    await eventually(() => h.logged(REPLAY_LOGGED).length === 1, 'the replay to be ignored');
    await eventually(() => h.api.responses.length === 2, 'the first copy to be answered');
    // A different trigger id is a new command.
    await h.command('red', GENERAL, 'U1', TEAM, 'trigger-new');
    await response(3);
    expect(h.api.responses.map((r) => r.text)).toEqual(['Results for “red” (1–5)', 'Results for “red” (1–5)', 'Results for “red” (1–5)']);
    expect(h.logged(REPLAY_LOGGED)).toHaveLength(1);
  });

  it('sends an image once when the Send press reaches the bot twice', async () => {
    const send = labelled(firstCard(), 'Send');
    const payload = buttonPayload(send.action_id, send.value, PREVIEW, 'U1', TEAM, h.api.responseUrl('action'));
    await h.interact(payload);
    await h.interact(payload);
    await eventually(() => h.logged(REPLAY_LOGGED).length === 1, 'the replay to be ignored');
    await response(2);
    expect(h.api.posted()).toHaveLength(1);
    expect(h.api.responses).toHaveLength(2);
  });

  it('indexes an upload once when its event reaches the bot twice', async () => {
    const file = await h.servePng('cyan');
    const event = { type: 'message', subtype: 'file_share', channel: GENERAL, user: 'U1', ts: '1770000500.000100', files: [file] };
    await h.eventWithId(event, 'EvReplayed');
    await h.eventWithId(event, 'EvReplayed');
    await eventually(() => h.logged(REPLAY_LOGGED).length === 1, 'the replay to be ignored');
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the upload to be indexed');
    await h.queueIdle();
    expect(h.api.fileStats(file.id).requests).toBe(1);
    expect(h.api.callsTo('reactions.add')).toHaveLength(1);
  });
});
