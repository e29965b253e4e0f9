// Who sees what, end to end: a result may be sent to the conversation a search runs in, where
// all its members see it, so even the private preview shows only images from that conversation
// and from the workspace's public channels. The scope comes from the event (team, channel),
// never from the query text or a button's value.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardsOf, imageIdsOf, labelled, queryIdOf } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, SlackHarness, TEAM } from './slack-harness.js';

const { general, random, secret, dm, shared } = CHANNELS;

describe('Slack permissions: what a conversation may see', () => {
  let h: SlackHarness;
  /** Image ids by name; names say where each image was shared. */
  const ids = new Map<string, string>();
  const nameOf = (id: string) => [...ids.entries()].find(([, v]) => v === id)?.[0] ?? id;

  beforeEach(async () => {
    h = await SlackHarness.start();
    ids.clear();
    ids.set('general', await h.seed('red', { channel: general.id, channelIsPublic: true, uploader: 'U1' }));
    ids.set('random', await h.seed('orange', { channel: random.id, channelIsPublic: true, uploader: 'U2' }));
    ids.set('secret', await h.seed('magenta', { channel: secret.id, channelIsPublic: false }));
    ids.set('dm', await h.seed('purple', { channel: dm.id, channelIsPublic: false }));
    ids.set('shared', await h.seed('yellow', { channel: shared.id, channelIsPublic: true }));
    ids.set('other team', await h.seed('green', { channel: general.id, channelIsPublic: true, tenant: 'T2' }));
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Runs /findimage in a conversation and returns the names of the images its preview shows. */
  async function visibleFrom(channel: string, text = 'anything', team = TEAM): Promise<string[]> {
    const before = h.api.responses.length;
    await h.command(text, channel, 'U1', team);
    const reply = await eventually(() => h.api.responses[before], 'a preview or a reply');
    return imageIdsOf(reply).map(nameOf).sort();
  }

  it('shows a public channel its own images and the public channels, never private ones', async () => {
    expect(await visibleFrom(general.id)).toEqual(['general', 'random', 'shared']);
  });

  it('shows a private channel its own images and the public channels', async () => {
    expect(await visibleFrom(secret.id)).toEqual(['general', 'random', 'secret', 'shared']);
  });

  it('shows a DM its own images and the public channels', async () => {
    expect(await visibleFrom(dm.id)).toEqual(['dm', 'general', 'random', 'shared']);
  });

  it('shows a channel shared with another organisation only its own images', async () => {
    expect(await visibleFrom(shared.id)).toEqual(['shared']);
  });

  it('shows only the conversation itself when its visibility cannot be looked up', async () => {
    h.api.failNext('conversations.info', 'internal_error');
    expect(await visibleFrom(general.id)).toEqual(['general']);
  });

  it('never crosses workspaces', async () => {
    expect(await visibleFrom(general.id, 'anything', 'T2')).toEqual(['other team']);
  });

  it('ignores in: filters for channels the conversation may not see', async () => {
    expect(await visibleFrom(general.id, `anything in:<#${secret.id}|secret>`)).toEqual([]);
    expect(h.api.responses.at(-1)?.text).toMatch(/^No images I may show here match “anything”/);
    expect(await visibleFrom(general.id, `anything in:<#${random.id}|random>`)).toEqual(['random']);
    expect(await visibleFrom(secret.id, `anything in:<#${secret.id}|secret>`)).toEqual(['secret']);
  });

  it('narrows by uploader and resolves a channel typed by name', async () => {
    expect(await visibleFrom(general.id, 'anything from:<@U2|ana>')).toEqual(['random']);
    expect(await visibleFrom(general.id, 'anything in:#random')).toEqual(['random']);
  });

  it('logs the scope built from the event with the query', async () => {
    await visibleFrom(secret.id);
    const query = await h.labels.getQuery(TEAM, queryIdOf(h.api.responses[0]));
    expect(query?.scope).toEqual({ tenant: TEAM, channels: [secret.id], includePublic: true });
    expect(query?.conversation).toBe(secret.id);
  });

  it('refuses "More like this" on an image the conversation may not see, without naming it', async () => {
    await h.press('findimage_more_like_this:1', ids.get('secret'), { channel: general.id, ts: '1770000001.000100' });
    await eventually(() => h.api.responses.length === 1, 'a private reply');
    expect(h.api.responses[0]?.text).toBe('That image is no longer in the index.');
    expect(h.api.posted()).toEqual([]);
  });

  it('does not let another workspace label a sent result', async () => {
    await visibleFrom(general.id);
    const send = labelled(cardsOf(h.api.responses[0])[0]?.actions ?? [], 'Send');
    await h.press(send.action_id, send.value, { channel: general.id, ts: '1770009999.000100' });
    const sent = await eventually(() => h.api.posted()[0], 'the sent image');
    await h.event(
      { type: 'reaction_added', user: 'U9', reaction: '+1', item: { type: 'message', channel: general.id, ts: sent.ts }, event_ts: '1.0' },
      'T2',
    );
    // The same reaction from this workspace is recorded: once it is, the other one has been handled too.
    await h.event({ type: 'reaction_added', user: 'U8', reaction: '+1', item: { type: 'message', channel: general.id, ts: sent.ts }, event_ts: '1.1' });
    await eventually(async () => (await h.labels.listLabels({ tenant: TEAM })).length === 1, 'the label from this workspace');
    expect(await h.labels.listLabels({ tenant: 'T2' })).toEqual([]);
    expect((await h.labels.listLabels({ tenant: TEAM })).map((l) => l.user)).toEqual(['U8']);
  });

  it('refuses to backfill a private channel from another conversation', async () => {
    await h.command(`index <#${secret.id}|secret>`, general.id);
    await eventually(() => h.api.responses.length === 1, 'a private reply');
    expect(h.api.responses[0]?.text).toBe('To index a private channel or a DM, run `/findimage index` inside it.');
    expect(h.api.callsTo('conversations.history')).toEqual([]);
  });
});
