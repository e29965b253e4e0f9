// /findimage end to end through the real discord.js Client and the fake Discord: a deferred
// private Components V2 preview, paging in place, a vote, Send posting one message, thumbs on it
// as labels (and taking one back), More like this, and the "Find similar images" command.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MessageFlags } from 'discord.js';
import { eventually } from '../fakes/slack/eventually.js';
import { CHANNELS, DiscordHarness, GUILD, USER, buttonsOf, galleryOf, textOf } from './discord-harness.js';

let h: DiscordHarness;
beforeEach(async () => {
  h = await DiscordHarness.start();
});
afterEach(async () => {
  await h.stop();
});

describe('/findimage', () => {
  test('defers at once, then shows a private Components V2 preview with the best match first, signed image links and no mentions', async () => {
    await h.seed('blue', { channel: CHANNELS.general, isPublic: true });
    const red = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const { token, reply } = await h.search('red');

    const [callback] = h.fake.requestsTo('POST', new RegExp(`/interactions/\\d+/${token}/callback`));
    expect(callback?.body).toMatchObject({ type: 5, data: { flags: MessageFlags.Ephemeral } });
    const [edit] = h.fake.requestsTo('PATCH', new RegExp(`/webhooks/\\d+/${token}/messages/`));
    expect(edit?.body).toMatchObject({ flags: MessageFlags.IsComponentsV2, allowed_mentions: { parse: [] } });
    expect(reply.flags).toBe(MessageFlags.IsComponentsV2);

    const text = textOf(reply);
    expect(text).toContain('Results for “red”');
    expect(text.indexOf('red.png')).toBeLessThan(text.indexOf('blue.png'));
    expect(text).toContain(`<@${USER}>`);
    expect(text).toContain(`in <#${CHANNELS.general}>`);
    expect(text).toContain('2026-01-15');
    expect(text).toMatch(/score 1\.00/);
    const links = galleryOf(reply);
    expect(links).toHaveLength(2);
    expect(links[0]).toMatch(/^https:\/\/cdn\.discordapp\.com\/attachments\/200000000000000001\/6\d+\/red\.png\?.*hm=refreshed/);
    const buttons = buttonsOf(reply);
    expect(buttons.filter((id) => id.startsWith(`fi:send:`) && id.includes(red))).toHaveLength(1);
    // Nothing reached the channel.
    expect(h.fake.requestsTo('POST', /^\/channels\/\d+\/messages$/)).toHaveLength(0);
  });

  test('Next replaces the preview with the second page, and Previous brings the first back', async () => {
    for (const colour of ['red', 'orange', 'magenta', 'yellow', 'green', 'cyan', 'blue'] as const) await h.seed(colour, { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('anything');
    expect(galleryOf(reply)).toHaveLength(5);
    const next = buttonsOf(reply).find((id) => id.startsWith('fi:page:') && id.endsWith(':1'));
    expect(next).toBeDefined();

    const pressed = h.fake.pressButton(reply, USER, next as string);
    await eventually(() => h.fake.requestsTo('PATCH', new RegExp(`/${pressed}/messages/`)).length > 0, 'page 2');
    const [ack] = h.fake.requestsTo('POST', new RegExp(`/${pressed}/callback`));
    expect(ack?.body).toMatchObject({ type: 6 });
    const page2 = h.fake.originalOf(pressed);
    expect(page2).toBeDefined();
    expect(textOf(page2 as never)).toContain('Page 2');
    expect(textOf(page2 as never)).toContain('**#6**');
    expect(galleryOf(page2 as never)).toHaveLength(2);
    const previous = buttonsOf(page2 as never).find((id) => id.endsWith(':0') && id.startsWith('fi:page:'));
    expect(buttonsOf(page2 as never).some((id) => id.startsWith('fi:page:') && id.endsWith(':2'))).toBe(false);
    expect(previous).toBeDefined();

    const back = h.fake.pressButton(page2 as never, USER, previous as string);
    await eventually(() => h.fake.requestsTo('PATCH', new RegExp(`/${back}/messages/`)).length > 0, 'page 1 again');
    const page1 = textOf(h.fake.originalOf(back) as never);
    expect(page1).toContain('Page 1');
    expect(page1).toContain('**#1**');
    expect(h.fake.requestsTo('POST', /^\/channels\/\d+\/messages$/)).toHaveLength(0);
  });

  test('a vote button records a label for that person, and pressing it again takes it back', async () => {
    const red = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('red');
    const up = buttonsOf(reply).find((id) => id.startsWith('fi:vote:up:') && id.includes(red)) as string;

    const first = h.fake.pressButton(reply, USER, up);
    expect(textOf(await h.answerTo(first))).toContain('Thanks: your 👍 on #1 red.png is recorded');
    const labels = await h.labels.listLabels({ tenant: GUILD, imageId: red, user: USER });
    expect(labels.map((l) => l.value)).toEqual([1]);
    expect(labels[0]?.queryText).toBe('red');

    const second = h.fake.pressButton(reply, USER, up);
    expect(textOf(await h.answerTo(second))).toContain('taken back');
    expect(await h.labels.listLabels({ tenant: GUILD, imageId: red, user: USER })).toEqual([]);
  });

  test('Send posts the image as one message without mentions; 👍 on it is a label for that (query, image) and removing it removes the label', async () => {
    const red = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('red');
    const send = buttonsOf(reply).find((id) => id.startsWith('fi:send:') && id.includes(red)) as string;

    const pressed = h.fake.pressButton(reply, USER, send);
    expect(textOf(await h.answerTo(pressed))).toContain(`Sent #1 to <#${CHANNELS.general}>`);
    const posts = h.fake.requestsTo('POST', new RegExp(`^/channels/${CHANNELS.general}/messages$`));
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body).toMatchObject({ flags: MessageFlags.IsComponentsV2, allowed_mentions: { parse: [] } });
    const sent = (h.fake.messages.get(CHANNELS.general) ?? []).at(-1);
    expect(sent).toBeDefined();
    expect(galleryOf(sent as never)).toHaveLength(1);

    h.fake.react(sent as never, '400000000000000007', '👍🏽');
    const label = await eventually(async () => (await h.labels.listLabels({ tenant: GUILD, imageId: red, user: '400000000000000007' }))[0], 'the reaction label');
    expect(label.value).toBe(1);
    expect(label.queryText).toBe('red');
    h.fake.react(sent as never, '400000000000000007', '🎉');
    h.fake.react(sent as never, '400000000000000007', '👍🏽', false);
    await eventually(async () => (await h.labels.listLabels({ tenant: GUILD, imageId: red, user: '400000000000000007' })).length === 0, 'the label to go');
  });

  test('More like this opens a new private preview of similar images', async () => {
    const red = await h.seed('red', { channel: CHANNELS.general, isPublic: true });
    await h.seed('orange', { channel: CHANNELS.general, isPublic: true });
    await h.seed('blue', { channel: CHANNELS.general, isPublic: true });
    const { reply } = await h.search('red');
    const like = buttonsOf(reply).find((id) => id === `fi:like:${red}`) as string;
    const pressed = h.fake.pressButton(reply, USER, like);
    const preview = await h.answerTo(pressed);
    const text = textOf(preview);
    expect(text).toContain('images like red.png');
    expect(text.indexOf('orange.png')).toBeLessThan(text.indexOf('blue.png'));
  });

  test('"Find similar images" on a message searches with its image', async () => {
    await h.seed('orange', { channel: CHANNELS.general, isPublic: true });
    await h.seed('blue', { channel: CHANNELS.general, isPublic: true });
    const attachment = await h.attachment('red', CHANNELS.general, 'query.png');
    const message = h.fake.userMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    const token = h.fake.messageCommand(CHANNELS.general, USER, 'Find similar images', message);
    const text = textOf(await h.answerTo(token));
    expect(text).toContain('images like query.png');
    expect(text.indexOf('orange.png')).toBeLessThan(text.indexOf('blue.png'));
  });

  test('"Find similar images" on a message without an image says so', async () => {
    const message = h.fake.userMessage(CHANNELS.general, { author: USER, content: 'just words' });
    const token = h.fake.messageCommand(CHANNELS.general, USER, 'Find similar images', message);
    expect(textOf(await h.answerTo(token))).toBe('That message has no image I can search with.');
  });
});
