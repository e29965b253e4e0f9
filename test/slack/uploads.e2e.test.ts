// End to end through the real Bolt App in Socket Mode: an upload is indexed with where it was
// shared, the same image shared again adds a share, deleting a message or file takes its share
// away, and bad files are refused with one thread reply per message that says why.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import { DOWNLOAD_ATTEMPTS } from '../../src/bots/download-retry.js';
import { CHANNELS, SlackHarness, TEAM, pngOf } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
const MB = 1024 * 1024;

describe('Slack uploads, labels and deletions, end to end', () => {
  let h: SlackHarness;

  beforeEach(async () => {
    h = await SlackHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  const replies = (ts: string) => h.api.posted().filter((m) => m.threadTs === ts);

  it('indexes an image shared in a channel with where it came from, and adds only the configured reaction', async () => {
    const file = await h.servePng('red', 'team photo.png');
    await h.shareFiles([file], GENERAL, '1770000500.000100', 'U7');
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction');
    await h.queueIdle();

    expect(await h.store.count({ tenant: TEAM })).toBe(1);
    const [hit] = await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: TEAM }, limit: 1 });
    expect(hit?.payload).toMatchObject({ tenant: TEAM, source: 'slack', filename: 'team photo.png', createdAt: '2026-02-02T02:48:20.000Z' });
    expect(hit?.payload.shares).toEqual([
      {
        conversation: GENERAL,
        isPublic: true,
        sharedAt: '2026-02-02T02:48:20.000Z',
        uploader: 'U7',
        messageId: '1770000500.000100',
        fileId: file.id,
        permalink: file.permalink,
      },
    ]);
    expect(h.api.callsTo('reactions.add')[0]?.args).toEqual({ channel: GENERAL, timestamp: '1770000500.000100', name: 'frame_with_picture' });
    expect(h.api.fileStats(file.id).authorizations).toEqual(['Bearer xoxb-test-bot']);
    expect(h.api.posted()).toEqual([]);
  });

  it('stores the same image shared again elsewhere once, with both shares', async () => {
    const bytes = await pngOf('red', 30);
    const first = h.api.addFile({ id: 'FONE', name: 'one.png', mimetype: 'image/png', bytes });
    const second = h.api.addFile({ id: 'FTWO', name: 'two.png', mimetype: 'image/png', bytes });
    await h.shareFiles([first], GENERAL, '1770000501.000100', 'U1');
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the first upload to be indexed');
    await h.queueIdle();
    await h.shareFiles([second], CHANNELS.secret.id, '1770000502.000100', 'U2');
    await eventually(() => h.api.callsTo('reactions.add').length === 2, 'the second upload to be taken in');
    await h.queueIdle();
    expect(await h.store.count({ tenant: TEAM })).toBe(1);
    const [point] = await h.store.query(Float32Array.from([1, 0, 0, 0]), { filter: { tenant: TEAM }, limit: 1 });
    expect(point?.payload.shares.map((s) => [s.conversation, s.isPublic, s.fileId, s.uploader])).toEqual([
      [GENERAL, true, 'FONE', 'U1'],
      [CHANNELS.secret.id, false, 'FTWO', 'U2'],
    ]);
  });

  it('marks images from a private channel as not public', async () => {
    const file = await h.servePng('blue');
    await h.shareFiles([file], CHANNELS.secret.id);
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction');
    const [point] = await h.store.query(Float32Array.from([0, 0, 1, 0]), { filter: { tenant: TEAM }, limit: 1 });
    expect(point?.payload.shares).toEqual([expect.objectContaining({ conversation: CHANNELS.secret.id, isPublic: false })]);
  });

  it('never downloads or indexes files from a channel the bot is not a member of', async () => {
    const file = await h.servePng('red');
    await h.shareFiles([file], CHANNELS.outside.id);
    await eventually(() => h.logged('not indexing files from a channel I am not a member of').length === 1, 'the upload to be turned down');
    expect(h.api.fileStats(file.id).requests).toBe(0);
    expect(await h.store.count()).toBe(0);
  });

  it('removes the images of a deleted message and of a deleted file from the index', async () => {
    await h.seed('red', { channel: GENERAL, channelIsPublic: true, messageId: '1770000001.000100', fileId: 'FRED' });
    await h.seed('blue', { channel: GENERAL, channelIsPublic: true, messageId: '1770000002.000100', fileId: 'FBLUE' });
    await h.seed('green', { channel: CHANNELS.random.id, channelIsPublic: true, messageId: '1770000001.000100', fileId: 'FGREEN' });
    expect(await h.store.count({ tenant: TEAM })).toBe(3);

    await h.event({
      type: 'message',
      subtype: 'message_deleted',
      hidden: true,
      channel: GENERAL,
      channel_type: 'channel',
      ts: '1770002000.000100',
      deleted_ts: '1770000001.000100',
      event_ts: '1770002000.000100',
      previous_message: { type: 'message', ts: '1770000001.000100' },
    });
    // Same ts in another channel is another message: only general's red goes.
    await eventually(async () => (await h.store.count({ tenant: TEAM })) === 2, 'the message images to go');
    expect(await h.store.count({ tenant: TEAM, share: { fileId: 'FGREEN' } })).toBe(1);

    await h.event({ type: 'file_deleted', file_id: 'FBLUE', event_ts: '1770002001.000100' });
    await eventually(async () => (await h.store.count({ tenant: TEAM })) === 1, 'the file image to go');
    expect(await h.store.count({ tenant: TEAM, share: { fileId: 'FGREEN' } })).toBe(1);
  });

  it('removes an image whose message was deleted while it was still being indexed: the deletion waits for it', async () => {
    const release = h.embedder.holdImages();
    const file = await h.servePng('red');
    await h.shareFiles([file], GENERAL, '1770000777.000100');
    await eventually(() => h.embedder.imagesStarted === 1, 'indexing to begin');
    await h.event({
      type: 'message',
      subtype: 'message_deleted',
      hidden: true,
      channel: GENERAL,
      channel_type: 'channel',
      ts: '1770002000.000100',
      deleted_ts: '1770000777.000100',
      event_ts: '1770002000.000100',
    });
    try {
      // Events are acknowledged before they are handled: wait for the deletion to be recorded.
      await eventually(() => h.logged('message deleted; recorded, to be applied to the index').length === 1, 'the deletion to be recorded');
      // It is not applied while the upload it is about is still being indexed.
      expect(h.logged('message deleted; its shares left the index')).toEqual([]);
    } finally {
      release();
    }
    await h.queueIdle();
    expect(h.logged('message deleted; its shares left the index')).toHaveLength(1);
    expect(await h.store.count()).toBe(0);
    expect(h.api.callsTo('reactions.add')).toEqual([]);
  });

  it('skips a file that is not an image without downloading it or replying', async () => {
    const pdf = h.api.addFile({ id: 'FPDF', name: 'report.pdf', mimetype: 'application/pdf', bytes: new Uint8Array([37, 80, 68, 70]) });
    await h.shareFiles([pdf]);
    await eventually(() => h.logged('skipped a shared file that is not an image').length === 1, 'the file to be skipped');
    expect(h.api.fileStats('FPDF').requests).toBe(0);
    expect(h.api.posted()).toEqual([]);
    expect(await h.store.count()).toBe(0);
    expect(h.logged('skipped a shared file that is not an image')).toMatchObject([{ fileId: 'FPDF', mimetype: 'application/pdf' }]);
  });

  it('refuses a 200 MB image without downloading it and tells the uploader why in a thread', async () => {
    const huge = h.api.addFile({ id: 'FHUGE', name: 'huge.png', mimetype: 'image/png', size: 200 * MB, serving: 'huge-declared' });
    await h.shareFiles([huge], GENERAL, '1770000600.000100');
    await eventually(() => replies('1770000600.000100').length === 1, 'a thread reply');
    expect(replies('1770000600.000100')[0]?.text).toBe(":warning: I couldn't index huge.png: huge.png is 200 MB; I index images up to 50 MB.");
    expect(h.api.fileStats('FHUGE').requests).toBe(0);
    expect(h.api.callsTo('reactions.add')).toEqual([]);
  });

  it('tells the uploader a corrupt image could not be read, and indexes the good image beside it', async () => {
    const broken = h.api.addFile({ id: 'FBROKEN', name: 'broken.png', mimetype: 'image/png', bytes: (await pngOf('red')).slice(0, 40) });
    const good = await h.servePng('green');
    await h.shareFiles([broken, good], GENERAL, '1770000700.000100');
    await eventually(() => replies('1770000700.000100').length === 1, 'a thread reply');
    expect(replies('1770000700.000100')[0]?.text).toBe(
      ":warning: I couldn't index broken.png: The file is damaged or is not an image findimage can read.",
    );
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction for the good image');
    expect(await h.store.count({ tenant: TEAM, share: { fileId: good.id } })).toBe(1);
    expect(await h.store.count({ tenant: TEAM, share: { fileId: 'FBROKEN' } })).toBe(0);
  });

  it('tells the uploader when Slack serves its sign-in page instead of the image', async () => {
    const file = h.api.addFile({ id: 'FLOGIN', name: 'photo.png', mimetype: 'image/png', bytes: await pngOf('red'), serving: 'login-page' });
    await h.shareFiles([file], GENERAL, '1770000800.000100');
    await eventually(() => replies('1770000800.000100').length === 1, 'a thread reply');
    expect(replies('1770000800.000100')[0]?.text).toBe(
      ":warning: I couldn't index photo.png: Slack sent a web page (probably its sign-in page) instead of photo.png: the app may lack the files:read permission.",
    );
    expect(await h.store.count()).toBe(0);
  });

  it('retries a download that failed for a reason that may pass, then indexes the image without a word to the uploader', async () => {
    const file = h.api.addFile({
      id: 'FFLAKY',
      name: 'flaky.png',
      mimetype: 'image/png',
      bytes: await pngOf('red'),
      failures: [{ status: 503 }, 'reset', { status: 429, retryAfter: '7' }],
    });
    await h.shareFiles([file], GENERAL, '1770000850.000100');
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction');
    await h.queueIdle();
    expect(await h.store.count({ tenant: TEAM, share: { fileId: 'FFLAKY' } })).toBe(1);
    expect(h.api.fileStats('FFLAKY').requests).toBe(4);
    // Exponential backoff, then the wait the 429 asked for.
    expect(h.logged('download failed for a reason that may pass; trying again').map((line) => line.retryInMs)).toEqual([1000, 2000, 7000]);
    expect(h.api.posted()).toEqual([]);
  });

  it('tells the uploader once when a download keeps failing, after the retries', async () => {
    const file = h.api.addFile({ id: 'FDOWN', name: 'down.png', mimetype: 'image/png', bytes: await pngOf('red'), serving: 'unavailable' });
    await h.shareFiles([file], GENERAL, '1770000860.000100');
    await eventually(() => replies('1770000860.000100').length === 1, 'a thread reply');
    expect(replies('1770000860.000100')[0]?.text).toBe(":warning: I couldn't index down.png: Slack answered HTTP 503 when I downloaded down.png. Please share it again.");
    expect(h.api.fileStats('FDOWN').requests).toBe(DOWNLOAD_ATTEMPTS);
    await h.queueIdle();
    expect(replies('1770000860.000100')).toHaveLength(1);
    expect(await h.store.count()).toBe(0);
  });

  it('tells the uploader at once, without retrying, when the file is gone (404)', async () => {
    const file = h.api.addFile({ id: 'FGONE', name: 'gone.png', mimetype: 'image/png', bytes: await pngOf('red'), serving: 'missing' });
    await h.shareFiles([file], GENERAL, '1770000870.000100');
    await eventually(() => replies('1770000870.000100').length === 1, 'a thread reply');
    expect(h.api.fileStats('FGONE').requests).toBe(1);
    expect(h.logged('download failed for a reason that may pass; trying again')).toEqual([]);
  });

  it('escapes a file name that carries mrkdwn or mentions in the reply', async () => {
    const file = h.api.addFile({ id: 'FEVIL', name: '<!channel> *x*.png', mimetype: 'image/png', size: 200 * MB });
    await h.shareFiles([file], GENERAL, '1770000900.000100');
    await eventually(() => replies('1770000900.000100').length === 1, 'a thread reply');
    expect(replies('1770000900.000100')[0]?.text).toBe(
      ":warning: I couldn't index &lt;!channel&gt; ∗x∗.png: &lt;!channel&gt; ∗x∗.png is 200 MB; I index images up to 50 MB.",
    );
  });

  it('answers a message with three files, two of them bad, with one thread reply listing both and one indexed reaction', async () => {
    const huge = h.api.addFile({ id: 'FHUGE', name: 'huge.png', mimetype: 'image/png', size: 200 * MB, serving: 'huge-declared' });
    const broken = h.api.addFile({ id: 'FBROKEN', name: 'broken.png', mimetype: 'image/png', bytes: (await pngOf('red')).slice(0, 40) });
    const good = await h.servePng('green');
    await h.shareFiles([huge, good, broken], GENERAL, '1770000950.000100');
    await eventually(() => replies('1770000950.000100').length === 1, 'a thread reply');
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction');
    await h.queueIdle();
    expect(replies('1770000950.000100').map((m) => m.text)).toEqual([
      [
        ":warning: I couldn't index 2 of the files in this message:",
        '• huge.png: huge.png is 200 MB; I index images up to 50 MB.',
        '• broken.png: The file is damaged or is not an image findimage can read.',
      ].join('\n'),
    ]);
    expect(h.api.posted()).toHaveLength(1);
    expect(h.api.callsTo('reactions.add')).toHaveLength(1);
    expect(await h.store.count({ tenant: TEAM, share: { fileId: good.id } })).toBe(1);
  });

  it('adds the indexed reaction once to a message sharing several images', async () => {
    const files = [await h.servePng('red'), await h.servePng('green'), await h.servePng('blue')];
    await h.shareFiles(files, GENERAL, '1770000960.000100');
    await eventually(() => h.api.callsTo('reactions.add').length === 1, 'the indexed reaction');
    await h.queueIdle();
    expect(await h.store.count({ tenant: TEAM })).toBe(3);
    expect(h.api.callsTo('reactions.add')).toHaveLength(1);
    expect(h.api.posted()).toEqual([]);
  });
});
