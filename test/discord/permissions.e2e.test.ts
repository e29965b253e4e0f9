// Who sees what, end to end: a channel is public only when @everyone may view it and read its
// history (worked out by discord.js's permission helpers from the overwrites), a result shown
// in a channel comes from that channel or a public one, threads follow their parent, private
// threads are private, a thread whose parent is unknown sees only its own images (core's rule for
// unknown facts), a DM sees only its own images and nothing crosses guilds.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, OTHER_GUILD, USER, buttonsOf, textOf } from './discord-harness.js';

let h: DiscordHarness;
beforeEach(async () => {
  h = await DiscordHarness.start();
});
afterEach(async () => {
  await h.stop();
});

/** Posts a PNG of `colour` named after the channel and waits until it is indexed; returns its share's isPublic. */
async function post(colour: 'red' | 'orange' | 'magenta' | 'blue' | 'green', channel: string, name: string): Promise<boolean | undefined> {
  const message = h.fake.postMessage(channel, { author: USER, attachments: [await h.attachment(colour, channel, name)] });
  await eventually(() => (h.fake.messages.get(channel) ?? []).some((m) => m.id === message.id && Array.isArray(m.botReactions)), `${name} to be indexed`);
  await h.queueIdle();
  const points = await h.store.scroll({ limit: 100 });
  return points.points.flatMap((p) => p.payload.shares).find((s) => s.messageId === message.id)?.isPublic;
}

const shown = async (channel: string): Promise<string> => textOf((await h.search('anything', channel)).reply);

describe('Discord permissions', () => {
  test('a channel that denies @everyone View Channel and allows a role is private; one @everyone can read is public', async () => {
    expect(await post('red', CHANNELS.general, 'general.png')).toBe(true);
    expect(await post('blue', CHANNELS.secret, 'secret.png')).toBe(false);
    // Viewing without reading history is not enough to make old images everyone's.
    expect(await post('green', CHANNELS.noHistory, 'announcements.png')).toBe(false);
  });

  test('a search in a public channel shows its own and public images, never the private channel\'s; the private channel sees both', async () => {
    await post('red', CHANNELS.general, 'general.png');
    await post('blue', CHANNELS.secret, 'secret.png');
    await post('green', CHANNELS.noHistory, 'announcements.png');

    const inRandom = await shown(CHANNELS.random);
    expect(inRandom).toContain('general.png');
    expect(inRandom).not.toContain('secret.png');
    expect(inRandom).not.toContain('announcements.png');

    const inSecret = await shown(CHANNELS.secret);
    expect(inSecret).toContain('general.png');
    expect(inSecret).toContain('secret.png');
    expect(inSecret).not.toContain('announcements.png');
  });

  test('a filter naming the private channel, typed in a public one, finds nothing', async () => {
    await post('blue', CHANNELS.secret, 'secret.png');
    const { reply } = await h.search('anything', CHANNELS.general, USER, [{ name: 'channel', type: 7, value: CHANNELS.secret }]);
    expect(textOf(reply)).not.toContain('secret.png');
    expect(textOf(reply)).toContain('No images match');
  });

  test('threads follow their parent; a private thread is private', async () => {
    expect(await post('red', CHANNELS.thread, 'thread.png')).toBe(true);
    expect(await post('blue', CHANNELS.privateThread, 'private-thread.png')).toBe(false);
    await post('green', CHANNELS.general, 'general.png');

    const inRandom = await shown(CHANNELS.random);
    expect(inRandom).toContain('thread.png');
    expect(inRandom).not.toContain('private-thread.png');

    const inPrivateThread = await shown(CHANNELS.privateThread);
    expect(inPrivateThread).toContain('private-thread.png');
    expect(inPrivateThread).toContain('general.png');
  });

  test('a thread whose parent the bot does not know has unknown facts: it sees only its own images, not even public ones', async () => {
    await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    await h.seed('blue', { channel: CHANNELS.orphanThread, isPublic: false });
    await h.seed('green', { channel: CHANNELS.unannounced, isPublic: false });
    const inOrphan = await shown(CHANNELS.orphanThread);
    expect(inOrphan).toContain('blue.png');
    expect(inOrphan).not.toContain('red.png');
    expect(inOrphan).not.toContain('green.png');
    // The same thread with its parent known sees its parent's and the guild's public images.
    expect(await shown(CHANNELS.thread)).toContain('red.png');
  });

  test('a DM sees only its own images, and a guild never sees a DM\'s', async () => {
    await post('red', CHANNELS.general, 'general.png');
    await post('blue', CHANNELS.dm, 'dm.png');
    const inDm = await shown(CHANNELS.dm);
    expect(inDm).toContain('dm.png');
    expect(inDm).not.toContain('general.png');
    expect(await shown(CHANNELS.general)).not.toContain('dm.png');
  });

  test('nothing crosses guilds', async () => {
    await post('red', CHANNELS.elsewhere, 'elsewhere.png');
    await post('blue', CHANNELS.general, 'general.png');
    const here = await shown(CHANNELS.general);
    expect(here).toContain('general.png');
    expect(here).not.toContain('elsewhere.png');
    const there = await shown(CHANNELS.elsewhere);
    expect(there).toContain('elsewhere.png');
    expect(there).not.toContain('general.png');
    expect(await h.store.count({ tenant: OTHER_GUILD })).toBe(1);
    expect(await h.store.count({ tenant: GUILD })).toBe(1);
  });

  test('a button of a preview from the private channel, pressed in a public one, is refused and sends nothing', async () => {
    await post('blue', CHANNELS.secret, 'secret.png');
    const { reply } = await h.search('anything', CHANNELS.secret);
    const send = buttonsOf(reply).find((id) => id.startsWith('fi:send:')) as string;
    const token = h.fake.pressButton({ ...reply, channel_id: CHANNELS.general }, USER, send);
    expect(textOf(await h.answerTo(token))).toContain('That search belongs to another conversation');
    expect(h.fake.requestsTo('POST', /^\/channels\/\d+\/messages$/)).toHaveLength(0);
  });
});
