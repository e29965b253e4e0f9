// Visibility that follows Discord, end to end with the real discord.js Client: a channel whose
// overwrites stop @everyone reading it stops showing its images in other channels at once (its
// public threads too), and shows them again when the overwrites open it; a change of @everyone's
// guild-wide permissions re-evaluates every channel of that guild, and no other guild.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import { EVERYONE_PERMISSION_BITS, PERMISSION } from '../fakes/discord/fake-discord.js';
import { CHANNELS, DiscordHarness, GUILD, OTHER_GUILD, STAFF_ROLE, textOf } from './discord-harness.js';

let h: DiscordHarness;
beforeEach(async () => {
  h = await DiscordHarness.start();
});
afterEach(async () => {
  await h.stop();
});

// Each change is recorded as a job of the upload queue (these lines), then applied by it.
const MADE_PRIVATE = 'conversation made private; recorded, to be applied to the index';
const MADE_PUBLIC = 'conversation made public; recorded, to be applied to the index';

/** Filenames a search in `channel` shows. */
const shown = async (channel: string): Promise<string> => textOf((await h.search('anything', channel)).reply);

/** Whether the stored share of image `id` in `channel` is public. */
async function isPublic(id: string, channel: string, tenant = GUILD): Promise<boolean | undefined> {
  const [point] = await h.store.get([id], { tenant });
  return point?.payload.shares.find((s) => s.conversation === channel)?.isPublic;
}

/** Waits until `channel` has been made private (or public) `times` times in all, and the queue applied it. */
async function madeBy(msg: string, channel: string, times = 1): Promise<void> {
  await eventually(() => h.logged(msg).filter((line) => line.conversation === channel).length >= times, `${channel}: ${msg}`);
  await h.queueIdle();
}

const HIDE_FROM_EVERYONE = [
  { id: GUILD, type: 0 as const, allow: 0n, deny: PERMISSION.viewChannel },
  { id: STAFF_ROLE, type: 0 as const, allow: PERMISSION.viewChannel, deny: 0n },
];

describe('Discord: visibility follows the platform', () => {
  test('a channel closed to @everyone: its images leave other channels\' results and stay in its own; opened again, they are back', async () => {
    const image = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    expect(await shown(CHANNELS.random)).toContain('red.png');

    h.fake.updateOverwrites(GUILD, CHANNELS.general, HIDE_FROM_EVERYONE);
    await madeBy(MADE_PRIVATE, CHANNELS.general);
    expect(await isPublic(image, CHANNELS.general)).toBe(false);
    expect(await shown(CHANNELS.random)).not.toContain('red.png');
    expect(await shown(CHANNELS.general)).toContain('red.png');

    h.fake.updateOverwrites(GUILD, CHANNELS.general, []);
    await madeBy(MADE_PUBLIC, CHANNELS.general);
    expect(await isPublic(image, CHANNELS.general)).toBe(true);
    expect(await shown(CHANNELS.random)).toContain('red.png');
  });

  test('a private channel opened to @everyone: its images show in the other channels', async () => {
    const image = await h.seed('blue', { channel: CHANNELS.secret, isPublic: false });
    expect(await shown(CHANNELS.random)).not.toContain('blue.png');
    h.fake.updateOverwrites(GUILD, CHANNELS.secret, []);
    await madeBy(MADE_PUBLIC, CHANNELS.secret);
    expect(await isPublic(image, CHANNELS.secret)).toBe(true);
    expect(await shown(CHANNELS.random)).toContain('blue.png');
  });

  test('a public thread follows its parent channel when the parent is closed', async () => {
    const image = await h.seed('green', { channel: CHANNELS.thread, isPublic: true });
    h.fake.updateOverwrites(GUILD, CHANNELS.general, HIDE_FROM_EVERYONE);
    await madeBy(MADE_PRIVATE, CHANNELS.thread);
    expect(await isPublic(image, CHANNELS.thread)).toBe(false);
    expect(await shown(CHANNELS.random)).not.toContain('green.png');
  });

  test('an overwrite change that leaves @everyone reading it changes nothing', async () => {
    await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    // The staff role is denied sending: who can read #general is the same.
    h.fake.updateOverwrites(GUILD, CHANNELS.general, [{ id: STAFF_ROLE, type: 0, allow: 0n, deny: PERMISSION.sendMessages }]);
    // Then a change that does matter, to know the first one has been handled before it.
    h.fake.updateOverwrites(GUILD, CHANNELS.random, HIDE_FROM_EVERYONE);
    await madeBy(MADE_PRIVATE, CHANNELS.random);
    expect([...h.logged(MADE_PRIVATE), ...h.logged(MADE_PUBLIC)].filter((line) => line.conversation === CHANNELS.general)).toEqual([]);
    expect(await shown(CHANNELS.thread)).toContain('red.png');
  });

  test('@everyone losing View Channel guild-wide makes every channel of that guild private, and getting it back public again', async () => {
    const general = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const random = await h.seed('blue', { channel: CHANNELS.random, isPublic: true });
    const elsewhere = await h.seed('green', { channel: CHANNELS.elsewhere, isPublic: true, tenant: OTHER_GUILD });

    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS & ~PERMISSION.viewChannel);
    await madeBy(MADE_PRIVATE, CHANNELS.general);
    await madeBy(MADE_PRIVATE, CHANNELS.random);
    expect(await isPublic(general, CHANNELS.general)).toBe(false);
    expect(await isPublic(random, CHANNELS.random)).toBe(false);
    // Nothing of the other guild changed.
    expect(await isPublic(elsewhere, CHANNELS.elsewhere, OTHER_GUILD)).toBe(true);

    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS);
    await madeBy(MADE_PUBLIC, CHANNELS.general, 1);
    await eventually(async () => (await isPublic(random, CHANNELS.random)) === true, '#random public again');
    expect(await isPublic(general, CHANNELS.general)).toBe(true);
    // #secret still denies @everyone View Channel itself: it stays private.
    expect(h.logged(MADE_PUBLIC).filter((line) => line.conversation === CHANNELS.secret)).toEqual([]);
  });

  test('a role change that leaves permissions as they were re-evaluates nothing', async () => {
    const image = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    h.fake.updateRolePermissions(GUILD, STAFF_ROLE, 0n);
    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS & ~PERMISSION.viewChannel);
    await madeBy(MADE_PRIVATE, CHANNELS.general);
    expect(h.logged('a role\'s permissions changed; re-evaluating which channels are public')).toHaveLength(1);
    expect(await isPublic(image, CHANNELS.general)).toBe(false);
  });
});
