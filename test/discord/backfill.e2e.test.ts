// Backfill end to end: a channel's history is walked page by page through the fake REST API and
// its images queued; a walk stopped by an API error resumes from its saved cursor without
// reading or downloading the first pages again; a finished one later walks only newer
// messages; `/findimage query: index #channel` runs the same walk and reports privately.
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { FakeMessage } from '../fakes/discord/fake-discord.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, USER, textOf } from './discord-harness.js';

let h: DiscordHarness;
beforeEach(async () => {
  h = await DiscordHarness.start({ backfillPageSize: 2 });
});
afterEach(async () => {
  await h.stop();
});

/** History of #general written before the bot joined: five images, a text message and a bot message. */
async function history(): Promise<FakeMessage[]> {
  const messages: FakeMessage[] = [];
  for (const colour of ['red', 'orange', 'magenta'] as const) messages.push(h.fake.userMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment(colour, CHANNELS.general)] }));
  messages.push(h.fake.userMessage(CHANNELS.general, { author: USER, content: 'no image here' }));
  messages.push(h.fake.userMessage(CHANNELS.general, { author: h.fake.botUser.id, attachments: [await h.attachment('cyan', CHANNELS.general)] }));
  for (const colour of ['green', 'blue'] as const) messages.push(h.fake.userMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment(colour, CHANNELS.general)] }));
  const bot = messages[4] as FakeMessage;
  bot.author = { ...h.fake.botUser };
  return messages;
}

const historyReads = () => h.fake.requestsTo('GET', new RegExp(`^/channels/${CHANNELS.general}/messages$`));
const downloads = () => h.fake.requestsTo('GET', /^\/attachments\//);

test('a backfill stopped by an API error resumes from its cursor, and a later one walks only newer messages', async () => {
  await history();
  h.fake.fail({ method: 'GET', path: new RegExp(`^/channels/${CHANNELS.general}/messages$`), status: 403, body: { message: 'Missing Access', code: 50001 }, skip: 1 });
  await expect(h.bot.backfill(CHANNELS.general)).rejects.toThrow();
  expect(downloads()).toHaveLength(2);
  // The first page held the two newest messages; the walk goes on before the older of them.
  const cursor = (h.fake.messages.get(CHANNELS.general) ?? []).at(-2)?.id;

  const report = await h.bot.backfill(CHANNELS.general);
  expect(report).toMatchObject({ resumed: true, indexed: 3, duplicates: 0, rejected: [] });
  expect(historyReads()[2]?.query.get('before')).toBe(cursor);
  // Five images in all, each downloaded once; the bot's own message is skipped.
  expect(downloads()).toHaveLength(5);
  await h.queueIdle();
  expect(await h.store.count({ tenant: GUILD })).toBe(5);

  h.fake.userMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment('yellow', CHANNELS.general)] });
  const again = await h.bot.backfill(CHANNELS.general);
  expect(again).toMatchObject({ resumed: false, messagesSeen: 1, indexed: 1 });
  expect(downloads()).toHaveLength(6);
});

test('/findimage query: index #channel walks the channel and reports privately', async () => {
  await history();
  const { token } = await h.search(`index <#${CHANNELS.general}>`);
  const done = await eventually(() => {
    const original = h.fake.originalOf(token);
    const text = original === undefined ? '' : textOf(original);
    return text.startsWith('Indexed') ? text : undefined;
  }, 'the backfill report');
  expect(done).toBe(`Indexed <#${CHANNELS.general}>: 5 new, 0 already indexed, 0 refused, from 7 messages.`);
});

/** Runs `/findimage query: index <#target>` in `from` and waits for its final answer. */
async function indexCommand(target: string, from: string): Promise<string> {
  const { token } = await h.search(`index <#${target}>`, from);
  return eventually(() => {
    const original = h.fake.originalOf(token);
    const text = original === undefined ? '' : textOf(original);
    return text.startsWith('Indexing') || text === '' ? undefined : text;
  }, 'the answer');
}

const readsOf = (channel: string) => h.fake.requestsTo('GET', new RegExp(`^/channels/${channel}/messages$`));

test('/findimage query: index refuses a channel in another guild', async () => {
  h.fake.userMessage(CHANNELS.elsewhere, { author: USER, attachments: [await h.attachment('red', CHANNELS.elsewhere)] });
  const answer = await indexCommand(CHANNELS.elsewhere, CHANNELS.general);
  expect(answer).toContain("I can't index");
  expect(answer).not.toContain('Indexed');
  expect(readsOf(CHANNELS.elsewhere)).toEqual([]);
  await h.queueIdle();
  expect(await h.store.count({ tenant: '100000000000000002' })).toBe(0);
});

test('/findimage query: index refuses a private channel from outside it, and indexes it from inside', async () => {
  h.fake.userMessage(CHANNELS.secret, { author: USER, attachments: [await h.attachment('red', CHANNELS.secret)] });
  const refused = await indexCommand(CHANNELS.secret, CHANNELS.general);
  expect(refused).toContain('run `/findimage query: index <#channel>` inside it');
  expect(readsOf(CHANNELS.secret)).toEqual([]);
  expect(await indexCommand(CHANNELS.privateThread, CHANNELS.general)).toContain('inside it');
  expect(readsOf(CHANNELS.privateThread)).toEqual([]);

  const inside = await indexCommand(CHANNELS.secret, CHANNELS.secret);
  expect(inside).toBe(`Indexed <#${CHANNELS.secret}>: 1 new, 0 already indexed, 0 refused, from 1 messages.`);
  await h.queueIdle();
  expect(await h.store.count({ tenant: GUILD })).toBe(1);
});

test('/findimage query: index of a public channel from another channel of the guild still works', async () => {
  h.fake.userMessage(CHANNELS.random, { author: USER, attachments: [await h.attachment('red', CHANNELS.random)] });
  expect(await indexCommand(CHANNELS.random, CHANNELS.general)).toBe(`Indexed <#${CHANNELS.random}>: 1 new, 0 already indexed, 0 refused, from 1 messages.`);
});
