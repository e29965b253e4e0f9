// Visibility that follows Discord, end to end with the real discord.js Client: a channel whose
// overwrites stop @everyone reading it stops showing its images in other channels at once (its
// public threads too, archived ones included), and shows them again when the overwrites open it;
// a change of @everyone's guild-wide permissions re-evaluates every channel of that guild, and no
// other guild, and another role's change re-evaluates nothing.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNEL_TYPE, EVERYONE_PERMISSION_BITS, PERMISSION } from '../fakes/discord/fake-discord.js';
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

const ROLE_WALK_DONE = 'every channel re-evaluated after a role change';

/**
 * Adds `count` archived public threads under `parent` to the fake guild, archived a minute apart
 * (the first one earliest); discord.js has none of them cached. Returns their ids, oldest first.
 */
function archiveThreads(parent: string, count: number): string[] {
  const guild = h.fake.guilds.get(GUILD);
  if (guild === undefined) throw new Error('the fake has no guild');
  const ids = Array.from({ length: count }, (_, i) => `3000000000000${String(i).padStart(5, '0')}`);
  ids.forEach((id, i) =>
    guild.channels.push({
      id,
      type: CHANNEL_TYPE.publicThread,
      name: `archived-${i}`,
      parentId: parent,
      archived: true,
      archivedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    }),
  );
  return ids;
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

  test('archived public threads follow their parent too, every page of them, though Discord sends them only when asked', async () => {
    // More than one page (Discord gives at most 100 a request): the oldest is on the second page.
    const archived = archiveThreads(CHANNELS.general, 101);
    const oldest = await h.seed('green', { channel: archived[0] as string, isPublic: true });
    const newest = await h.seed('blue', { channel: archived[100] as string, isPublic: true });
    expect(await shown(CHANNELS.random)).toContain('green.png');

    h.fake.updateOverwrites(GUILD, CHANNELS.general, HIDE_FROM_EVERYONE);
    await eventually(async () => (await isPublic(oldest, archived[0] as string)) === false, 'the oldest archived thread made private');
    expect(await isPublic(newest, archived[100] as string)).toBe(false);
    expect(await shown(CHANNELS.random)).not.toContain('green.png');
    const asked = h.fake.requests.filter((r) => r.path === `/channels/${CHANNELS.general}/threads/archived/public`);
    expect(asked.map((r) => r.query.get('before'))).toEqual([null, new Date(Date.UTC(2026, 0, 1, 0, 1)).toISOString()]);

    h.fake.updateOverwrites(GUILD, CHANNELS.general, []);
    await eventually(async () => (await isPublic(oldest, archived[0] as string)) === true, 'the oldest archived thread public again');
    expect(await isPublic(newest, archived[100] as string)).toBe(true);
  });

  test('archived public threads follow @everyone losing View Channel guild-wide', async () => {
    const [thread] = archiveThreads(CHANNELS.random, 1);
    const image = await h.seed('green', { channel: thread as string, isPublic: true });
    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS & ~PERMISSION.viewChannel);
    await eventually(() => h.logged(ROLE_WALK_DONE).length === 1, 'the role walk done');
    await h.queueIdle();
    expect(await isPublic(image, thread as string)).toBe(false);
  });

  test('an overwrite change that leaves @everyone reading it changes nothing', async () => {
    await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    await h.seed('blue', { channel: CHANNELS.random, isPublic: true });
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
    const secret = await h.seed('red', { channel: CHANNELS.secret, isPublic: false });
    const elsewhere = await h.seed('green', { channel: CHANNELS.elsewhere, isPublic: true, tenant: OTHER_GUILD });

    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS & ~PERMISSION.viewChannel);
    await madeBy(MADE_PRIVATE, CHANNELS.general);
    await madeBy(MADE_PRIVATE, CHANNELS.random);
    expect(await isPublic(general, CHANNELS.general)).toBe(false);
    expect(await isPublic(random, CHANNELS.random)).toBe(false);
    // Nothing of the other guild changed.
    expect(await isPublic(elsewhere, CHANNELS.elsewhere, OTHER_GUILD)).toBe(true);

    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS);
    // Wait for the whole walk, so that #secret has been re-evaluated when it is checked below.
    await eventually(() => h.logged(ROLE_WALK_DONE).length === 2, 'the second role walk done');
    await h.queueIdle();
    expect(await isPublic(random, CHANNELS.random)).toBe(true);
    expect(await isPublic(general, CHANNELS.general)).toBe(true);
    // #secret still denies @everyone View Channel itself: it stays private.
    expect(await isPublic(secret, CHANNELS.secret)).toBe(false);
    expect(h.logged(MADE_PUBLIC).filter((line) => line.conversation === CHANNELS.secret)).toEqual([]);
  });

  test('a role change that leaves permissions as they were, or another role\'s change, re-evaluates nothing', async () => {
    const image = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    h.fake.updateRolePermissions(GUILD, STAFF_ROLE, 0n);
    // Another role than @everyone: whether @everyone can read a channel does not depend on it.
    h.fake.updateRolePermissions(GUILD, STAFF_ROLE, PERMISSION.viewChannel);
    h.fake.updateRolePermissions(GUILD, GUILD, EVERYONE_PERMISSION_BITS & ~PERMISSION.viewChannel);
    await madeBy(MADE_PRIVATE, CHANNELS.general);
    expect(h.logged('a role\'s permissions changed; re-evaluating which channels are public')).toHaveLength(1);
    expect(await isPublic(image, CHANNELS.general)).toBe(false);
  });
});
