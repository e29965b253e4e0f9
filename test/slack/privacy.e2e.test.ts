// Privacy end to end: an image is visible through any one of its shares, and only through a
// share the conversation may see. Each test here guards one rule that, broken, would show a
// private image where it must not appear (or keep one that must go).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageIdsOf } from '../fakes/slack/block-kit.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, SlackHarness, TEAM, pngOf } from './slack-harness.js';

const { general, random, secret } = CHANNELS;
/** A private channel as conversations.info describes one today: a channel that is private, no is_group. */
const PRIVATE_TODAY = { id: 'CPRIVATE01', name: 'private-today', is_channel: true, is_private: true, is_member: true };

describe('Slack privacy: what a search may show', () => {
  let h: SlackHarness;

  beforeEach(async () => {
    h = await SlackHarness.start();
    h.api.channels.set(PRIVATE_TODAY.id, { ...PRIVATE_TODAY });
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Runs /findimage in a conversation and returns the image ids its preview shows (none for a text reply). */
  async function shownIn(channel: string, text = 'anything', team = TEAM): Promise<string[]> {
    const before = h.api.responses.length;
    await h.command(text, channel, 'U1', team);
    return imageIdsOf(await eventually(() => h.api.responses[before], 'a preview or a reply')).sort();
  }

  /** Shares a red image as a live upload in `channel` and waits until it is indexed; returns the stored point. */
  async function upload(channel: string, ts: string) {
    const file = await h.servePng('red');
    await h.shareFiles([file], channel, ts);
    await eventually(() => h.api.callsTo('reactions.add').some((c) => c.args.timestamp === ts), 'the upload to be indexed');
    await h.queueIdle();
    const [hit] = await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: TEAM, share: { fileId: file.id } }, limit: 1 });
    if (hit === undefined) throw new Error('the upload was not indexed');
    return hit;
  }

  it('in:#secret typed in a public channel finds nothing from #secret, even for an image that also has a public share elsewhere', async () => {
    const onlySecret = await h.seed('magenta', { channel: secret.id, channelIsPublic: false });
    const bytes = await pngOf('red', 40);
    const both = await h.seed('red', { channel: secret.id, channelIsPublic: false, bytes, messageId: '1760000100.000100' });
    expect(await h.seed('red', { channel: random.id, channelIsPublic: true, bytes, messageId: '1760000200.000100' })).toBe(both);

    // The image with a public share is visible here, through that share...
    expect(await shownIn(general.id)).toEqual([both]);
    // ...but its share in #secret is not, so in:#secret matches nothing here.
    expect(await shownIn(general.id, 'anything in:#secret')).toEqual([]);
    expect(h.api.responses.at(-1)?.text).toMatch(/^No images I may show here match “anything”/);
    // In #secret itself, both are found through their #secret shares.
    expect(await shownIn(secret.id, 'anything in:#secret')).toEqual([onlySecret, both].sort());
  });

  it('indexes an upload as private when Slack cannot say whether its channel is public, and does not show it in another public channel', async () => {
    h.api.failNext('conversations.info', 'internal_error');
    const point = await upload(general.id, '1770000500.000100');
    expect(point.payload.shares).toEqual([expect.objectContaining({ conversation: general.id, isPublic: false, messageId: '1770000500.000100' })]);
    expect(await shownIn(random.id)).toEqual([]);
    expect(await shownIn(general.id)).toEqual([point.id]);
  });

  it('treats a private channel described as Slack does today (is_private, no is_group) as private', async () => {
    const point = await upload(PRIVATE_TODAY.id, '1770000600.000100');
    expect(point.payload.shares).toEqual([expect.objectContaining({ conversation: PRIVATE_TODAY.id, isPublic: false })]);
    expect(await shownIn(general.id)).toEqual([]);
    expect(await shownIn(PRIVATE_TODAY.id)).toEqual([point.id]);
  });

  it('never shows another workspace\'s image, even one shared in a channel with the same id (Slack Connect)', async () => {
    const theirs = await h.seed('red', { channel: general.id, channelIsPublic: true, tenant: 'T2' });
    const ours = await h.seed('orange', { channel: general.id, channelIsPublic: true });
    expect(await shownIn(general.id)).toEqual([ours]);
    expect(await shownIn(general.id, 'anything', 'T2')).toEqual([theirs]);
    expect(await shownIn(general.id, `anything in:<#${general.id}|general>`, 'T2')).toEqual([theirs]);
  });

  it('shows an image shared in #random and #secret through its public share until that message is deleted, and removes it with its last share', async () => {
    const bytes = await pngOf('red', 41);
    const id = await h.seed('red', { channel: random.id, channelIsPublic: true, bytes, messageId: '1760000300.000100' });
    await h.seed('red', { channel: secret.id, channelIsPublic: false, bytes, messageId: '1760000400.000100' });
    expect(await shownIn(general.id)).toEqual([id]);

    const deleted = (channel: string, ts: string) =>
      h.event({ type: 'message', subtype: 'message_deleted', hidden: true, channel, ts: '1770002000.000100', deleted_ts: ts, event_ts: '1770002000.000100' });
    await deleted(random.id, '1760000300.000100');
    const [kept] = await eventually(async () => {
      const points = await h.store.get([id], { tenant: TEAM });
      return points[0]?.payload.shares.length === 1 && points;
    }, 'the #random share to go');
    expect(kept?.payload.shares.map((s) => [s.conversation, s.isPublic])).toEqual([[secret.id, false]]);
    expect(await shownIn(general.id)).toEqual([]);
    expect(await shownIn(secret.id)).toEqual([id]);

    await deleted(secret.id, '1760000400.000100');
    await eventually(async () => (await h.store.get([id], { tenant: TEAM })).length === 0, 'the image to leave the index');
    expect(await shownIn(secret.id)).toEqual([]);
  });
});
