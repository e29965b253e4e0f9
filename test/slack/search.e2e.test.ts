// End to end through the real Bolt App in Socket Mode: /findimage to carousel, paging,
// "More like this", the similar-images shortcut, and the bad queries.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHORTCUT_FIND_SIMILAR } from '../../src/bots/slack/result-blocks.js';
import { parseQuery } from '../../src/core/search/query-syntax.js';
import { eventually } from '../fakes/slack/eventually.js';
import type { PostedMessage } from '../fakes/slack/fake-slack-api.js';
import { CHANNELS, SlackHarness, type Colour } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
const ORANGE_SCORE = 1 / Math.hypot(1, 128 / 255);
const PURPLE_SCORE = 128 / 255 / Math.hypot(128 / 255, 1);

type Card = {
  title: { text: string };
  subtitle: { text: string };
  hero_image?: { slack_file: { id: string }; alt_text: string };
  actions: { action_id: string; value?: string; url?: string }[];
};

function blockOf(message: PostedMessage | { blocks: Record<string, unknown>[] }, type: string): Record<string, unknown> | undefined {
  return message.blocks.find((b) => b.type === type);
}
function cardsOf(message: { blocks: Record<string, unknown>[] }): Card[] {
  return (blockOf(message, 'carousel')?.elements ?? []) as Card[];
}
function buttonsOf(message: { blocks: Record<string, unknown>[] }): { action_id: string; value: string; text: { text: string } }[] {
  return (message.blocks.find((b) => b.type === 'actions' && b.block_id === 'findimage_paging')?.elements ?? []) as {
    action_id: string;
    value: string;
    text: { text: string };
  }[];
}

describe('Slack search, end to end in Socket Mode', () => {
  let h: SlackHarness;
  const ids = new Map<Colour, string>();

  const headers = () => h.api.posted().filter((m) => m.threadTs === undefined);
  const thread = (header: PostedMessage) => h.api.posted().filter((m) => m.threadTs === header.ts);
  const seedGeneral = async (colours: Colour[]) => {
    for (const colour of colours) ids.set(colour, await h.seed(colour, { channel: GENERAL, channelIsPublic: true, fileId: `F${colour.toUpperCase()}` }));
  };

  beforeEach(async () => {
    ids.clear();
    h = await SlackHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('acknowledges /findimage at once, then posts a carousel of the best images with scores and a thread message per result', async () => {
    await seedGeneral(['red', 'orange', 'purple', 'green']);
    const started = Date.now();
    const ack = await h.command('red');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(ack.payload ?? {}).toEqual({});

    await eventually(() => headers().length === 1 && thread(headers()[0] as PostedMessage).length === 4, 'results to be posted');
    const header = headers()[0] as PostedMessage;
    expect(header.channel).toBe(GENERAL);
    expect(header.text).toBe('Results for “red” (1–4)');
    const cards = cardsOf(header);
    expect(cards.map((c) => c.title.text)).toEqual(['#1 red.png', '#2 orange.png', '#3 purple.png', '#4 green.png']);
    expect(cards.map((c) => c.subtitle.text.slice(0, 11))).toEqual([
      'score 1.000',
      `score ${ORANGE_SCORE.toFixed(3)}`,
      `score ${PURPLE_SCORE.toFixed(3)}`,
      'score 0.000',
    ]);
    expect(cards[0]?.subtitle.text).toBe(`score 1.000 · <@U1> in <#${GENERAL}> on <!date^1768478400^{date_short}|2026-01-15>`);
    expect(cards[0]?.hero_image).toEqual({ type: 'image', slack_file: { id: 'FRED' }, alt_text: 'red.png' });
    expect(cards[0]?.actions).toEqual([
      { type: 'button', action_id: 'findimage_more_like_this:1', text: { type: 'plain_text', text: 'More like this' }, value: ids.get('red') },
      {
        type: 'button',
        action_id: 'findimage_open_original:1',
        text: { type: 'plain_text', text: 'Open original' },
        url: 'https://example.slack.com/files/U1/FRED/red.png',
      },
    ]);
    expect(buttonsOf(header)).toEqual([]);

    const results = thread(header);
    expect(results.map((m) => m.text)).toEqual([
      '#1 red.png (score 1.000)',
      `#2 orange.png (score ${ORANGE_SCORE.toFixed(3)})`,
      `#3 purple.png (score ${PURPLE_SCORE.toFixed(3)})`,
      '#4 green.png (score 0.000)',
    ]);
    expect(blockOf(results[0] as PostedMessage, 'image')).toEqual({ type: 'image', slack_file: { id: 'FRED' }, alt_text: 'red.png' });
    // Each result message is recorded as exactly one (query, image) pair.
    const recorded = await eventually(async () => {
      const found = await Promise.all(results.map((m) => h.labels.findResultMessage('T1', GENERAL, m.ts)));
      return found.every((r) => r !== undefined) && found;
    }, 'every result message to be recorded');
    expect(recorded.map((r) => r?.imageId)).toEqual([ids.get('red'), ids.get('orange'), ids.get('purple'), ids.get('green')]);
    expect(new Set(recorded.map((r) => r?.queryId)).size).toBe(1);
    expect(await h.labels.getQuery('T1', recorded[0]?.queryId ?? '')).toMatchObject({ text: 'red', searchText: 'red', user: 'U1' });
  });

  it('pages forward and back with chat.update, adding only the new page to the thread', async () => {
    await seedGeneral(['red', 'orange', 'purple', 'magenta', 'green', 'blue', 'cyan']);
    await h.command('red');
    await eventually(() => headers().length === 1 && thread(headers()[0] as PostedMessage).length === 5, 'page 1');
    const header = headers()[0] as PostedMessage;
    expect(header.text).toBe('Results for “red” (1–5)');
    const [next] = buttonsOf(header);
    expect(next?.text.text).toBe('Next');

    await h.press(next?.action_id ?? '', next?.value, header);
    await eventually(() => h.api.callsTo('chat.update').length === 1 && thread(header).length === 7, 'page 2');
    const update = h.api.callsTo('chat.update')[0]?.args as { ts: string; channel: string; text: string; blocks: Record<string, unknown>[] };
    expect(update.ts).toBe(header.ts);
    expect(update.channel).toBe(GENERAL);
    expect(update.text).toBe('Results for “red” (6–7)');
    expect(cardsOf(update).map((c) => c.title.text.slice(0, 3))).toEqual(['#6 ', '#7 ']);
    expect(buttonsOf(update).map((b) => b.text.text)).toEqual(['Previous']);
    expect(thread(header).slice(5).map((m) => m.text.slice(0, 3))).toEqual(['#6 ', '#7 ']);

    const [previous] = buttonsOf(update);
    await h.press(previous?.action_id ?? '', previous?.value, header);
    await eventually(() => h.api.callsTo('chat.update').length === 2, 'page 1 again');
    const back = h.api.callsTo('chat.update')[1]?.args as { text: string; blocks: Record<string, unknown>[] };
    expect(back.text).toBe('Results for “red” (1–5)');
    expect(cardsOf(back)[0]?.title.text).toBe('#1 red.png');
    // Page 1's results are already in the thread: nothing is posted twice.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(thread(header)).toHaveLength(7);
  });

  it('posts images like a result when "More like this" is pressed, leaving the image itself out', async () => {
    await seedGeneral(['red', 'orange', 'blue']);
    await h.command('red');
    await eventually(() => headers().length === 1, 'results');
    const header = headers()[0] as PostedMessage;
    const more = cardsOf(header)[0]?.actions[0];
    await h.press(more?.action_id ?? '', more?.value, header);

    await eventually(() => headers().length === 2 && thread(headers()[1] as PostedMessage).length === 2, 'similar results');
    const similar = headers()[1] as PostedMessage;
    expect(similar.text).toBe('Images like red.png (1–2)');
    expect(cardsOf(similar).map((c) => c.title.text)).toEqual(['#1 orange.png', '#2 blue.png']);
    const [first] = thread(similar);
    const recorded = await eventually(() => h.labels.findResultMessage('T1', GENERAL, first?.ts ?? ''), 'the result to be recorded');
    expect(await h.labels.getQuery('T1', recorded?.queryId ?? '')).toMatchObject({ kind: 'image', sourceImageId: ids.get('red') });
  });

  it('finds images like the one in a message through the shortcut, for an indexed and a new image', async () => {
    // Yellow would tie with magenta (both 0.707 from red): left out so the order is exact.
    await seedGeneral(['orange', 'blue', 'purple', 'magenta', 'cyan', 'green']);
    const red = await h.servePng('red');
    await h.shortcut(SHORTCUT_FIND_SIMILAR, { type: 'message', ts: '1770000900.000100', user: 'U2', files: [red] }, GENERAL);
    await eventually(() => headers().length === 1 && thread(headers()[0] as PostedMessage).length === 5, 'similar results');
    const header = headers()[0] as PostedMessage;
    expect(header.text).toBe('Images like red.png (1–5)');
    expect(cardsOf(header).map((c) => c.title.text).slice(0, 2)).toEqual(['#1 orange.png', '#2 magenta.png']);
    // Not indexed: pages come from the snapshot taken when the shortcut ran.
    const [next] = buttonsOf(header);
    await h.press(next?.action_id ?? '', next?.value, header);
    await eventually(() => h.api.callsTo('chat.update').length === 1, 'page 2');
    const update = h.api.callsTo('chat.update')[0]?.args as { text: string };
    expect(update.text).toBe('Images like red.png (6–6)');
  });

  it('answers the shortcut on a message with no image privately', async () => {
    await h.shortcut(SHORTCUT_FIND_SIMILAR, { type: 'message', ts: '1770000900.000100', user: 'U2', text: 'hello' }, GENERAL);
    await eventually(() => h.api.responses.length === 1, 'a private reply');
    expect(h.api.responses[0]).toMatchObject({ response_type: 'ephemeral', text: 'That message has no image I can search with.' });
    expect(h.api.posted()).toEqual([]);
  });

  it('replies with help, in the acknowledgement, to an empty query and to "help"', async () => {
    for (const text of ['', '   ', 'help']) {
      const ack = await h.command(text);
      expect(ack.payload?.response_type).toBe('ephemeral');
      expect(JSON.stringify(ack.payload)).toContain('`in:#channel`: only images shared in that channel');
    }
    expect(h.api.posted()).toEqual([]);
  });

  it('answers a malformed filter in the acknowledgement with what to write instead', async () => {
    const ack = await h.command('red after:2026-13-01');
    expect(ack.payload).toEqual({
      response_type: 'ephemeral',
      text: 'after:2026-13-01 is not a date. Write dates as YYYY-MM-DD, for example after:2026-01-31.\nType `/findimage help` for the syntax.',
    });
  });

  it('shortens a very long query, says so, and shows only the start of it', async () => {
    await seedGeneral(['red']);
    const long = 'red '.repeat(1000).trim();
    const searched = parseQuery(long).text;
    h.embedder.know(searched, [1, 0, 0, 0]);
    const ack = await h.command(long);
    expect(ack.payload ?? {}).toEqual({});
    await eventually(() => headers().length === 1, 'results');
    const header = headers()[0] as PostedMessage;
    expect(JSON.stringify(header.blocks)).toContain('Your description was shortened to its first 500 characters.');
    const heading = (header.blocks[0] as { text: { text: string } }).text.text;
    expect(heading).toBe(`*Results for “${'red '.repeat(50).slice(0, 199)}…”*  ·  1–1`);
  });

  it('escapes mrkdwn and mentions injected through the query and through file names', async () => {
    const injected = '*bold* <!channel> & _it_ `code` ~x~';
    h.embedder.know(injected, [1, 0, 0, 0]);
    ids.set('red', await h.seed('red', { channel: GENERAL, channelIsPublic: true, filename: '<!here> *urgent* <http://evil|click>.png' }));
    // Slack sends &, < and > of typed text as entities.
    await h.command('*bold* &lt;!channel&gt; &amp; _it_ `code` ~x~');
    await eventually(() => headers().length === 1 && thread(headers()[0] as PostedMessage).length === 1, 'results');
    const everything = JSON.stringify(h.api.posted());
    expect(everything).not.toContain('<!channel>');
    expect(everything).not.toContain('<!here>');
    expect(everything).not.toContain('<http://evil');
    expect(everything).not.toContain('*bold*');
    const header = headers()[0] as PostedMessage;
    expect(header.text).toBe('Results for “∗bold∗ &lt;!channel&gt; &amp; ˍitˍ ˋcodeˋ ∼x∼” (1–1)');
    expect(cardsOf(header)[0]?.title.text).toBe('#1 &lt;!here&gt; ∗urgent∗ &lt;http://evil|click&gt;.png');
  });

  it('says nothing matched, privately, with ways to widen the search', async () => {
    await seedGeneral(['red']);
    await h.command(`red in:<#${CHANNELS.random.id}|random>`);
    await eventually(() => h.api.responses.length === 1, 'a private reply');
    expect(h.api.responses[0]).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text:
        'No images I may show here match “red”. Try to use fewer or more general words; drop a filter (in:, from:, before:, after:, -word); ' +
        'run the search in the channel where the image was shared (private channels only show their own images); index older images with `/findimage index #channel`.',
    });
    expect(h.api.posted()).toEqual([]);
  });

  it('falls back to image and context blocks where Slack refuses the carousel', async () => {
    await seedGeneral(['red', 'orange']);
    h.api.on('chat.postMessage', (args) =>
      JSON.stringify(args.blocks ?? []).includes('"carousel"') ? { ok: false, error: 'invalid_blocks' } : undefined,
    );
    await h.command('red');
    await eventually(() => headers().length === 1 && thread(headers()[0] as PostedMessage).length === 2, 'results');
    const header = headers()[0] as PostedMessage;
    expect(blockOf(header, 'carousel')).toBeUndefined();
    expect(header.blocks.filter((b) => b.type === 'image')).toEqual([
      { type: 'image', slack_file: { id: 'FRED' }, alt_text: 'red.png' },
      { type: 'image', slack_file: { id: 'FORANGE' }, alt_text: 'orange.png' },
    ]);
    expect(JSON.stringify(header.blocks)).toContain('*#1* red.png · score 1.000 · <@U1>');
  });
});
