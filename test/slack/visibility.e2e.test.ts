// Visibility that follows Slack, end to end with the real Bolt App: a channel made private stops
// showing its images in other channels at once (and shows them again when made public), new
// uploads there follow the new privacy without waiting for cached facts to age out, and a channel
// shared outside the workspace (Slack Connect) stops showing the workspace's public images.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageIdsOf } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, SlackHarness, TEAM } from './slack-harness.js';

const { general, random } = CHANNELS;
const MADE_PRIVATE = 'conversation made private; its images show only inside it';
const CONVERTED = 'a channel was converted; its images follow its new privacy';
const FACTS_DROPPED = 'a channel changed; its cached facts were dropped';

describe('Slack: visibility follows the platform', () => {
  let h: SlackHarness;

  beforeEach(async () => {
    h = await SlackHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Runs /findimage in a conversation and returns the image ids its preview shows (none for a text reply). */
  async function shownIn(channel: string): Promise<string[]> {
    const before = h.api.responses.length;
    await h.command('anything', channel);
    return imageIdsOf(await eventually(() => h.api.responses[before], 'a preview or a reply')).sort();
  }

  /** Slack's own message in a channel whose privacy an admin changed. */
  async function convert(channel: string, to: 'private' | 'public'): Promise<void> {
    const convertedBefore = h.logged(CONVERTED).length;
    const facts = h.api.channels.get(channel);
    if (facts !== undefined) facts.is_private = to === 'private';
    await h.event({
      type: 'message',
      subtype: `channel_convert_to_${to}`,
      user: 'UADMIN',
      text: to === 'private' ? 'made this channel *private*.' : 'made this channel *public*.',
      channel,
      ts: '1770000900.000100',
      event_ts: '1770000900.000100',
      channel_type: to === 'private' ? 'group' : 'channel',
    });
    await eventually(() => h.logged(CONVERTED).length > convertedBefore, `#${channel} made ${to}`);
  }

  /** Shares a red image as a live upload in `channel`; resolves to its share's isPublic once indexed. */
  async function upload(channel: string, ts: string): Promise<boolean | undefined> {
    const file = await h.servePng('red');
    await h.shareFiles([file], channel, ts);
    await eventually(() => h.api.callsTo('reactions.add').some((c) => c.args.timestamp === ts), 'the upload to be indexed');
    await h.queueIdle();
    const [hit] = await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: TEAM, share: { fileId: file.id } }, limit: 1 });
    return hit?.payload.shares.find((s) => s.fileId === file.id)?.isPublic;
  }

  it('a channel made private: its images leave other channels\' results at once and stay in its own; made public again, they are back', async () => {
    const image = await h.seed('red', { channel: general.id, channelIsPublic: true });
    expect(await shownIn(random.id)).toEqual([image]);

    await convert(general.id, 'private');
    expect((await h.store.get([image]))[0]?.payload.shares.map((s) => s.isPublic)).toEqual([false]);
    expect(await shownIn(random.id)).toEqual([]);
    expect(await shownIn(general.id)).toEqual([image]);

    await convert(general.id, 'public');
    expect(await shownIn(random.id)).toEqual([image]);
  });

  it('a private channel made public: its images show in the other public channels', async () => {
    const image = await h.seed('blue', { channel: CHANNELS.secret.id, channelIsPublic: false });
    expect(await shownIn(random.id)).toEqual([]);
    await convert(CHANNELS.secret.id, 'public');
    expect(await shownIn(random.id)).toEqual([image]);
  });

  it('an upload right after the conversion is indexed with the new privacy, not the cached one', async () => {
    // The first upload caches #general's facts (public) for minutes.
    expect(await upload(general.id, '1770000500.000100')).toBe(true);
    await convert(general.id, 'private');
    expect(await upload(general.id, '1770000600.000100')).toBe(false);
    expect(await shownIn(random.id)).toEqual([]);
  });

  it('a channel just made private can no longer be indexed from another channel, without waiting for cached facts to age out', async () => {
    // A search in #general caches its facts (public) for minutes.
    await shownIn(general.id);
    await convert(general.id, 'private');
    const before = h.api.responses.length;
    await h.command(`index <#${general.id}|general>`, random.id);
    const reply = await eventually(() => h.api.responses[before], 'the answer to index');
    expect(reply.text).toBe('To index a private channel or a DM, run `/findimage index` inside it.');
  });

  it('a channel shared outside the workspace stops showing the workspace\'s public images, and shows them again once unshared', async () => {
    const image = await h.seed('red', { channel: general.id, channelIsPublic: true });
    // The search caches #random's facts: public, not shared.
    expect(await shownIn(random.id)).toEqual([image]);

    const facts = h.api.channels.get(random.id);
    if (facts === undefined) throw new Error('no #random');
    facts.is_ext_shared = true;
    await h.event({ type: 'channel_shared', connected_team_id: 'E0OUTSIDE1', channel: random.id, event_ts: '1770000901.000100' });
    await eventually(() => h.logged(FACTS_DROPPED).some((line) => line.type === 'channel_shared'), 'channel_shared to be handled');
    expect(await shownIn(random.id)).toEqual([]);

    facts.is_ext_shared = false;
    await h.event({ type: 'channel_unshared', previously_connected_team_id: 'E0OUTSIDE1', is_ext_shared: false, channel: random.id, event_ts: '1770000902.000100' });
    await eventually(() => h.logged(FACTS_DROPPED).some((line) => line.type === 'channel_unshared'), 'channel_unshared to be handled');
    expect(await shownIn(random.id)).toEqual([image]);
  });

  it('a renamed channel is looked up again rather than trusted from the cache', async () => {
    await shownIn(random.id);
    const lookups = h.api.callsTo('conversations.info').filter((c) => c.args.channel === random.id).length;
    await h.event({ type: 'channel_rename', channel: { id: random.id, name: 'random-renamed', created: 1360782804 } });
    await eventually(() => h.logged(FACTS_DROPPED).some((line) => line.type === 'channel_rename'), 'channel_rename to be handled');
    await shownIn(random.id);
    expect(h.api.callsTo('conversations.info').filter((c) => c.args.channel === random.id).length).toBe(lookups + 1);
  });

  it('a conversion message without a channel, or of another team\'s channel id, changes nothing here', async () => {
    const image = await h.seed('red', { channel: general.id, channelIsPublic: true });
    await h.event({ type: 'message', subtype: 'channel_convert_to_private', channel_type: 'group', ts: '1770000903.000100' });
    await h.event({ type: 'message', subtype: 'channel_convert_to_private', channel_type: 'group', channel: general.id, ts: '1770000904.000100' }, 'T-OTHER');
    await eventually(() => h.logged(CONVERTED).length > 0, 'the other team\'s conversion to be handled');
    // It found nothing of its team to change, so it is not logged as a change.
    expect(h.logged(CONVERTED).map((line) => line.sharesChanged)).toEqual([0]);
    expect(h.logged(MADE_PRIVATE)).toEqual([]);
    expect((await h.store.get([image]))[0]?.payload.shares.map((s) => s.isPublic)).toEqual([true]);
    expect(await shownIn(random.id)).toEqual([image]);
  });
});
