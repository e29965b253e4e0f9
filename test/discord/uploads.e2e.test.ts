// Attachments end to end through the real discord.js Client: an image posted in a channel goes
// through the durable queue with the guild as tenant and its channel, author, message and
// attachment as the share; deleting the message, editing the attachment away or deleting the
// channel unindexes it; bad attachments get one clear reply, and nothing is lost silently.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import { DOWNLOAD_ATTEMPTS } from '../../src/bots/download-retry.js';
import { CHANNELS, DiscordHarness, GUILD, USER } from './discord-harness.js';

const RED = Float32Array.from([1, 0, 0, 0]);

describe('Discord attachments', () => {
  let h: DiscordHarness;
  beforeEach(async () => {
    h = await DiscordHarness.start({ discord: { maxFileBytes: 4_000 } });
  });
  afterEach(async () => {
    await h.stop();
  });

  const replies = (channel: string) => (h.fake.messages.get(channel) ?? []).filter((m) => (m.author as { id: string }).id === h.fake.botUser.id);
  const indexedMark = async (channel: string, id: string) =>
    eventually(() => (h.fake.messages.get(channel) ?? []).find((m) => m.id === id && Array.isArray(m.botReactions)), 'the indexed reaction');

  test('an image posted in a public channel is indexed with its guild, channel, author, message and attachment, and marked 🖼️', async () => {
    const attachment = await h.attachment('red', CHANNELS.general, 'team photo.png');
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    const marked = await indexedMark(CHANNELS.general, message.id);
    expect(marked.botReactions).toEqual(['🖼️']);
    await h.queueIdle();

    const [hit] = await h.store.query(RED, { filter: { tenant: GUILD }, limit: 1 });
    expect(hit?.payload).toMatchObject({ tenant: GUILD, source: 'discord', filename: 'team photo.png' });
    expect(hit?.payload.shares).toEqual([
      {
        conversation: CHANNELS.general,
        isPublic: true,
        sharedAt: message.timestamp,
        messageId: message.id,
        fileId: attachment.id,
        uploader: USER,
        permalink: `https://discord.com/channels/${GUILD}/${CHANNELS.general}/${message.id}`,
      },
    ]);
    expect(replies(CHANNELS.general)).toEqual([]);
  });

  test('deleting the message unindexes its image', async () => {
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment('red', CHANNELS.general)] });
    await indexedMark(CHANNELS.general, message.id);
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(1);
    h.fake.deleteMessage(message);
    await eventually(async () => (await h.store.count({ tenant: GUILD })) === 0, 'the image to leave the index');
  });

  test('editing one attachment away unindexes only that image', async () => {
    const red = await h.attachment('red', CHANNELS.general);
    const blue = await h.attachment('blue', CHANNELS.general);
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [red, blue] });
    await indexedMark(CHANNELS.general, message.id);
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(2);
    h.fake.editAttachments(message, [blue]);
    await eventually(async () => (await h.store.count({ tenant: GUILD })) === 1, 'the red image to leave the index');
    const [left] = await h.store.query(RED, { filter: { tenant: GUILD }, limit: 1 });
    expect(left?.payload.filename).toBe('blue.png');
  });

  test('an edit of a message sent before a restart (uncached) keeps the images it still holds indexed', async () => {
    const red = await h.attachment('red', CHANNELS.general);
    const blue = await h.attachment('blue', CHANNELS.general);
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [red, blue] });
    await indexedMark(CHANNELS.general, message.id);
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(2);
    // As after a restart: the bot no longer has the message cached.
    const channel = h.bot.client.channels.cache.get(CHANNELS.general);
    if (channel === undefined || !('messages' in channel)) throw new Error('no cached #general');
    channel.messages.cache.delete(message.id);
    h.fake.editAttachments(message, [blue]);
    await eventually(() => h.logged('message edited; its shares left the index').length > 0, 'the edit to be handled');
    await eventually(async () => (await h.store.count({ tenant: GUILD })) === 1, 'the blue image to be indexed again');
    // The queue applied the edit before the re-upload queued after it: once it has drained, the
    // re-upload is still indexed, never withdrawn.
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(1);
    expect(h.logged('upload withdrawn: its message, file or conversation was deleted or edited after it was queued')).toEqual([]);
    const left = await h.store.query(RED, { filter: { tenant: GUILD }, limit: 5 });
    expect(left.map((hit) => hit.payload.filename)).toEqual(['blue.png']);
    expect(left[0]?.payload.shares).toMatchObject([{ messageId: message.id, fileId: blue.id }]);
  });

  test('deleting the channel unindexes what it held, and nothing else', async () => {
    const inRandom = h.fake.postMessage(CHANNELS.random, { author: USER, attachments: [await h.attachment('red', CHANNELS.random)] });
    const inGeneral = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [await h.attachment('blue', CHANNELS.general)] });
    await indexedMark(CHANNELS.random, inRandom.id);
    await indexedMark(CHANNELS.general, inGeneral.id);
    await h.queueIdle();
    h.fake.deleteChannel(GUILD, CHANNELS.random);
    await eventually(async () => (await h.store.count({ tenant: GUILD })) === 1, 'the channel images to leave the index');
  });

  test('an image in a DM is its own tenant', async () => {
    const message = h.fake.postMessage(CHANNELS.dm, { author: USER, attachments: [await h.attachment('red', CHANNELS.dm)] });
    await indexedMark(CHANNELS.dm, message.id);
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(0);
    expect(await h.store.count({ tenant: `dm:${CHANNELS.dm}` })).toBe(1);
  });

  test('an expired attachment link is refreshed through refresh-urls before the download', async () => {
    const attachment = await h.attachment('red', CHANNELS.general);
    h.fake.expired.add(attachment.id);
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    await indexedMark(CHANNELS.general, message.id);
    const refreshes = h.fake.requestsTo('POST', /^\/attachments\/refresh-urls$/);
    expect(refreshes.map((r) => r.body)).toEqual([{ attachment_urls: [attachment.url] }]);
    expect(h.fake.requestsTo('GET', new RegExp(`/attachments/\\d+/${attachment.id}/`)).map((r) => r.status)).toEqual([404, 200]);
  });

  test('a download that failed for a reason that may pass is retried with backoff, then indexed without a reply', async () => {
    const attachment = await h.attachment('red', CHANNELS.general);
    const path = new RegExp(`^/attachments/\\d+/${attachment.id}/`);
    h.fake.faults.push({ method: 'GET', path, status: 502, body: undefined, times: 1 }, { method: 'GET', path, status: 429, body: undefined, headers: { 'retry-after': '3' }, times: 1 });
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    await indexedMark(CHANNELS.general, message.id);
    await h.queueIdle();
    expect(await h.store.count({ tenant: GUILD })).toBe(1);
    expect(h.fake.requestsTo('GET', path).map((r) => r.status)).toEqual([502, 429, 200]);
    expect(h.logged('download failed for a reason that may pass; trying again').map((line) => line.retryInMs)).toEqual([1000, 3000]);
    expect(replies(CHANNELS.general)).toEqual([]);
  });

  test('a download that keeps failing is tried DOWNLOAD_ATTEMPTS times, then the poster is told once', async () => {
    const attachment = await h.attachment('red', CHANNELS.general, 'down.png');
    const path = new RegExp(`^/attachments/\\d+/${attachment.id}/`);
    h.fake.faults.push({ method: 'GET', path, status: 503, body: undefined, times: 100 });
    h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [attachment] });
    const [reply] = await eventually(() => (replies(CHANNELS.general).length > 0 ? replies(CHANNELS.general) : undefined), 'the failure reply');
    expect(String(reply?.content)).toContain('Discord answered HTTP 503 when I downloaded down.png');
    expect(h.fake.requestsTo('GET', path)).toHaveLength(DOWNLOAD_ATTEMPTS);
    await h.queueIdle();
    expect(replies(CHANNELS.general)).toHaveLength(1);
    expect(await h.store.count({ tenant: GUILD })).toBe(0);
  });

  test('bad attachments get one reply naming each and why; a file that is not an image is skipped with a log line', async () => {
    const text = h.fake.addAttachment(CHANNELS.general, 'notes.txt', new TextEncoder().encode('hello'), 'text/plain');
    const huge = h.fake.addAttachment(CHANNELS.general, 'huge.png', new Uint8Array(10_000));
    const corrupt = h.fake.addAttachment(CHANNELS.general, 'broken.png', new TextEncoder().encode('not a png at all'));
    const offsite = { ...(await h.attachment('red', CHANNELS.general, 'offsite.png')), url: 'https://images.example.com/red.png' };
    const message = h.fake.postMessage(CHANNELS.general, { author: USER, attachments: [text, huge, corrupt, offsite] });
    const [reply] = await eventually(() => (replies(CHANNELS.general).length > 0 ? replies(CHANNELS.general) : undefined), 'the failure reply');
    await h.queueIdle();

    expect(reply?.message_reference).toMatchObject({ message_id: message.id });
    expect(reply?.allowed_mentions).toEqual({ parse: [], replied_user: false });
    const content = String(reply?.content);
    expect(content).toContain("I couldn't index 3 of the images in this message");
    expect(content).toMatch(/huge\.png: huge\.png is 0\.0 MB; I index images up to 0\.0 MB/);
    expect(content).toContain('broken.png: The file is damaged');
    expect(content).toContain("offsite.png: I only download attachments from Discord's CDN");
    expect(content).not.toContain('notes.txt');
    expect(h.logged('skipped an attachment that is not an image')).toHaveLength(1);
    // The oversized one was refused from its declared size, without a download.
    expect(h.fake.requestsTo('GET', new RegExp(`/attachments/\\d+/${huge.id}/`))).toEqual([]);
    expect(await h.store.count({ tenant: GUILD })).toBe(0);
    expect(replies(CHANNELS.general)).toHaveLength(1);
  });
});
