// The gateway connection end to end: a dropped connection is resumed (RESUME, not a new
// IDENTIFY) and the events sent while the bot was away are replayed and handled, none lost.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, USER } from './discord-harness.js';

let h: DiscordHarness;
beforeEach(async () => {
  h = await DiscordHarness.start();
});
afterEach(async () => {
  await h.stop();
});

test('a dropped gateway connection is resumed, and an upload and a deletion sent meanwhile are both handled', async () => {
  const before = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment('blue', CHANNELS.general)] });
  await eventually(() => (h.fake.messages.get(CHANNELS.general) ?? []).some((m) => m.id === before.id && Array.isArray(m.botReactions)), 'the first upload');
  await h.queueIdle();

  h.fake.gateway.drop();
  const during = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment('red', CHANNELS.general)] });
  h.fake.deleteMessage(before);
  expect(h.fake.gateway.connected).toBe(false);

  await eventually(() => (h.fake.messages.get(CHANNELS.general) ?? []).some((m) => m.id === during.id && Array.isArray(m.botReactions)), 'the upload sent while away');
  await h.queueIdle();
  await eventually(async () => (await h.store.count({ tenant: GUILD })) === 1, 'the deleted image to leave');
  const [left] = await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: GUILD }, limit: 1 });
  expect(left?.payload.filename).toBe('red.png');
  expect(h.fake.gateway.handshakes.map((s) => s.op)).toEqual(['identify', 'resume']);
  expect(h.logged('Discord gateway session resumed')).toHaveLength(1);
});

test('a wrong token is refused at start with a message saying where to get one', async () => {
  await expect(DiscordHarness.start({ discord: { token: 'not-the-token' } })).rejects.toThrow(/Discord refused DISCORD_TOKEN/);
});
