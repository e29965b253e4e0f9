// Bad input and Discord's refusals, end to end: empty, 6,000-character and injected queries;
// Missing Access, Unknown Interaction, Unknown Message and a 429 rate limit. Each gets a clear
// reply or log line, never a crash, and nothing is lost silently.
import { DefaultRestOptions, RESTEvents, type RateLimitData } from 'discord.js';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseQuery } from '../../src/core/search/query-syntax.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, STAFF_ROLE, USER, buttonsOf, galleryOf, textOf } from './discord-harness.js';

let h: DiscordHarness;
beforeEach(async () => {
  h = await DiscordHarness.start();
});
afterEach(async () => {
  await h.stop();
});

const channelPosts = () => h.fake.requestsTo('POST', new RegExp(`^/channels/${CHANNELS.general}/messages$`));

describe('bad queries', () => {
  test('an empty query is answered privately with what to type, and nothing is searched', async () => {
    await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('   ');
    expect(textOf(reply)).toMatch(/describe/i);
    expect(galleryOf(reply)).toEqual([]);
    expect(h.embedder.calls.text).toBe(0);
  });

  test('a 6,000-character query is shortened, searched and says so', async () => {
    await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const long = Array.from({ length: 1_000 }, (_, i) => `red${i}`).join(' ').slice(0, 6_000);
    h.embedder.know(parseQuery(long).text, [1, 0, 0, 0]);
    const { reply } = await h.search(long);
    expect(galleryOf(reply)).toHaveLength(1);
    expect(textOf(reply)).toContain('Your description was shortened to its first 500 characters.');
  });

  test('markdown and mention injection in a query is shown inert and pings no one', async () => {
    const { token, reply } = await h.search(`@everyone <@&${STAFF_ROLE}> **bold** [x](https://evil.example)`);
    const text = textOf(reply);
    expect(text).toContain('@\u200beveryone');
    expect(text).not.toContain('@everyone');
    expect(text).not.toContain(`<@&${STAFF_ROLE}>`);
    expect(text).toContain('\\*\\*bold\\*\\*');
    for (const edit of h.fake.requestsTo('PATCH', new RegExp(`/${token}/messages/`))) {
      expect(edit.body).toMatchObject({ allowed_mentions: { parse: [] } });
    }
  });
});

describe('Discord API errors', () => {
  test('Missing Access when sending tells the person what permission to give, and records no share', async () => {
    const red = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('red');
    h.fake.fail({ method: 'POST', path: /^\/channels\/\d+\/messages$/, status: 403, body: { message: 'Missing Access', code: 50001 } });
    const pressed = h.fake.pressButton(reply, USER, buttonsOf(reply).find((id) => id.startsWith('fi:send:') && id.includes(red)) as string);
    expect(textOf(await h.answerTo(pressed))).toContain('I lack a permission in this channel');
    expect(channelPosts().map((r) => r.status)).toEqual([403]);
    expect(h.fake.messages.get(CHANNELS.general) ?? []).toEqual([]);
  });

  test('Unknown Interaction (answered too late) is logged, and the next command works', async () => {
    await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    h.fake.fail({ method: 'POST', path: /^\/interactions\/\d+\/[^/]+\/callback$/, status: 404, body: { message: 'Unknown interaction', code: 10062 } });
    h.fake.slashCommand(CHANNELS.general, USER, 'findimage', [{ name: 'query', type: 3, value: 'red' }]);
    await eventually(() => h.logged('Discord had already expired the interaction (answered after 3 s?); nothing was done').length === 1, 'the log line');
    const { reply } = await h.search('red');
    expect(galleryOf(reply)).toHaveLength(1);
  });

  test('Unknown Message when marking an indexed message is logged; the image stays indexed', async () => {
    h.fake.fail({ method: 'PUT', path: /\/reactions\//, status: 404, body: { message: 'Unknown Message', code: 10008 } });
    h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment('red', CHANNELS.general)] });
    await eventually(() => h.logged('could not add the indexed reaction').length === 1, 'the log line');
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(1);
  });

  test('a 429 is retried after its retry_after, and the image is sent once', async () => {
    const red = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('red');
    h.fake.fail({
      method: 'POST',
      path: /^\/channels\/\d+\/messages$/,
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 0.5, global: false },
      headers: { 'retry-after': '0.5', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.5', 'x-ratelimit-bucket': 'b1' },
    });
    // discord.js emits this only from its wait loop, right before sleeping timeToReset; the bucket
    // it waits on is the one the 429's headers reported (5 requests, resetting after 0.5 s).
    const waits: RateLimitData[] = [];
    h.bot.client.rest.on(RESTEvents.RateLimited, (info) => waits.push(info));
    const pressed = h.fake.pressButton(reply, USER, buttonsOf(reply).find((id) => id.startsWith('fi:send:') && id.includes(red)) as string);
    expect(textOf(await h.answerTo(pressed))).toContain('Sent #1');
    expect(channelPosts().map((r) => r.status)).toEqual([429, 200]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({ method: 'POST', route: '/channels/:id/messages', limit: 5, global: false });
    // Counted down from the reported 500 ms (plus discord.js's safety offset on both ends), never zero.
    expect(waits[0]?.timeToReset).toBeGreaterThan(0);
    expect(waits[0]?.timeToReset).toBeLessThanOrEqual(500 + 2 * DefaultRestOptions.offset);
    expect((h.fake.messages.get(CHANNELS.general) ?? []).filter((m) => (m.author as { id: string }).id === h.fake.botUser.id)).toHaveLength(1);
  });
});
