// /findimage index #channel end to end: walks conversations.history page by page, reports in a
// thread, resumes from its saved cursor, and waits out a 429's Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../fakes/slack/eventually.js';
import type { FakeFileObject, PostedMessage } from '../fakes/slack/fake-slack-api.js';
import { CHANNELS, SlackHarness, TEAM, webClientRetryLine } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
const RANDOM = CHANNELS.random.id;

describe('Slack backfill, end to end', () => {
  let h: SlackHarness;
  let files: FakeFileObject[];

  beforeEach(async () => {
    h = await SlackHarness.start({ backfillPageSize: 2 });
    files = [await h.servePng('red'), await h.servePng('green'), await h.servePng('blue')];
    const pdf = h.api.addFile({ id: 'FPDF', name: 'notes.pdf', mimetype: 'application/pdf', bytes: new Uint8Array([1]) });
    // Newest first, as conversations.history returns it: 6 messages, 3 pages of 2.
    h.api.setHistory(RANDOM, [
      { type: 'message', ts: '1770000006.000100', user: 'U6', text: 'no file' },
      { type: 'message', ts: '1770000005.000100', user: 'U5', files: [files[2]] },
      { type: 'message', ts: '1770000004.000100', user: 'U4', files: [pdf] },
      { type: 'message', ts: '1770000003.000100', user: 'U3', files: [files[1]] },
      { type: 'message', ts: '1770000002.000100', user: 'U2', text: 'hello' },
      { type: 'message', ts: '1770000001.000100', user: 'U1', files: [files[0]] },
    ]);
  });
  afterEach(async () => {
    await h.stop();
  });

  const parent = () => h.api.posted().find((m) => m.threadTs === undefined);
  const threadOf = (message: PostedMessage | undefined) =>
    message === undefined ? [] : h.api.posted().filter((m) => m.threadTs === message.ts);
  const summary = async () =>
    eventually(() => threadOf(parent()).find((m) => m.text.startsWith(':white_check_mark:') || m.text.startsWith(':warning:')), 'the summary');

  it('walks the history page by page, queues every image with its message, and posts a summary in a thread', async () => {
    const ack = await h.command(`index <#${RANDOM}|random>`, GENERAL);
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: 'Checking that channel before indexing its history…' });
    const done = await summary();
    expect(h.api.responses.map((r) => r.text)).toEqual([
      `Indexing <#${RANDOM}>. I'll report progress in the thread under my message in <#${GENERAL}>.`,
    ]);
    expect(parent()).toMatchObject({ channel: GENERAL, text: `:hourglass_flowing_sand: Indexing the images already shared in <#${RANDOM}> (started by <@U1>).` });
    expect(done.text).toBe(
      ':white_check_mark: Done: read 6 messages and queued 3 images.\n3 newly indexed, 0 already indexed, 0 refused.',
    );
    expect(h.api.callsTo('conversations.history').map((c) => [c.args.channel, c.args.limit, c.args.cursor])).toEqual([
      [RANDOM, '2', undefined],
      [RANDOM, '2', 'c2'],
      [RANDOM, '2', 'c4'],
    ]);
    expect(await h.store.count({ tenant: TEAM, share: { conversations: [RANDOM] } })).toBe(3);
    const [green] = await h.store.query(Float32Array.from([0, 1, 0, 0]), { filter: { tenant: TEAM }, limit: 1 });
    expect(green?.payload.shares).toEqual([
      expect.objectContaining({ conversation: RANDOM, isPublic: true, uploader: 'U3', messageId: '1770000003.000100', fileId: files[1]?.id }),
    ]);
    // History is not news: no reactions on old messages.
    expect(h.api.callsTo('reactions.add')).toEqual([]);
    expect(h.api.fileStats('FPDF').requests).toBe(0);
  });

  it('resumes from the saved cursor after Slack stops it, and then only reads newer messages', async () => {
    let calls = 0;
    h.api.on('conversations.history', () => (++calls === 2 ? { ok: false, error: 'ratelimited' } : undefined));
    await h.command(`index <#${RANDOM}|random>`, GENERAL);
    const stopped = await summary();
    expect(stopped.text).toBe(
      `:warning: The backfill stopped: Slack is rate-limiting me while reading the channel history. Please try again in a minute. Run \`/findimage index <#${RANDOM}>\` again to resume where it stopped.`,
    );
    expect(h.api.callsTo('conversations.history').map((c) => c.args.cursor)).toEqual([undefined, 'c2']);

    await h.command(`index <#${RANDOM}|random>`, GENERAL);
    await eventually(() => threadOf(h.api.posted().filter((m) => m.threadTs === undefined)[1]).length === 1, 'the second summary');
    const second = threadOf(h.api.posted().filter((m) => m.threadTs === undefined)[1])[0];
    expect(h.api.callsTo('conversations.history').map((c) => c.args.cursor)).toEqual([undefined, 'c2', 'c2', 'c4']);
    expect(second?.text).toBe(
      ':white_check_mark: Done (resumed where the last run stopped): read 6 messages and queued 3 images.\n2 newly indexed, 0 already indexed, 0 refused.',
    );
    expect(await h.store.count({ tenant: TEAM })).toBe(3);

    // A third run after a finished one asks only for messages newer than the newest seen.
    await h.command(`index <#${RANDOM}|random>`, GENERAL);
    await eventually(() => h.api.callsTo('conversations.history').length === 5, 'the third walk');
    expect(h.api.callsTo('conversations.history')[4]?.args).toMatchObject({ oldest: '1770000006.000100' });
  });

  it('waits out a 429 for its Retry-After and carries on', async () => {
    h.api.setHistory(RANDOM, [{ type: 'message', ts: '1770000001.000100', user: 'U1', files: [files[0]] }]);
    h.api.rateLimitNext('conversations.history', 1);
    await h.command(`index <#${RANDOM}|random>`, GENERAL);
    const done = await summary();
    const [limited, retried, ...more] = h.api.callsTo('conversations.history');
    expect((limited?.reply as { error?: string }).error).toBe('ratelimited');
    expect(retried?.reply).toMatchObject({ ok: true });
    expect(more).toEqual([]);
    // Logged by the Web API client only when it waits out the Retry-After (1 s) before retrying.
    expect(h.logged(webClientRetryLine(1))).toHaveLength(1);
    expect(done.text).toBe(':white_check_mark: Done: read 1 messages and queued 1 images.\n1 newly indexed, 0 already indexed, 0 refused.');
  });

  it('indexes the channel the command runs in when none is named', async () => {
    h.api.setHistory(GENERAL, [{ type: 'message', ts: '1770000001.000100', user: 'U1', files: [files[0]] }]);
    await h.command('index', GENERAL);
    await summary();
    expect(h.api.callsTo('conversations.history')[0]?.args.channel).toBe(GENERAL);
  });

  it('says privately to invite the bot when it is not in the channel, before posting or reading anything', async () => {
    await h.command(`index <#${CHANNELS.outside.id}|outside>`, GENERAL);
    await eventually(() => h.api.responses.length === 1, 'a private reply');
    expect(h.api.responses[0]?.text).toBe(
      `I'm not a member of <#${CHANNELS.outside.id}>, so I can't read its history. Invite me there with \`/invite @findimage\`, then run \`/findimage index\` again.`,
    );
    expect(h.api.callsTo('conversations.history')).toEqual([]);
    expect(h.api.posted()).toEqual([]);
  });

  it('says it cannot see a channel that Slack does not find', async () => {
    await h.command('index <#CNOPE00001|gone>', GENERAL);
    await eventually(() => h.api.responses.length === 1, 'a private reply');
    expect(h.api.responses[0]?.text).toBe(
      "I can't see that conversation (I was looking up the conversation). If it is private or a DM, invite me with /invite @findimage first.",
    );
  });
});
