// End to end through the real Bolt App in Socket Mode: /findimage shows its results privately
// (one response_url message), pages them in place, and posts to the channel only what the
// searcher sends or shares. Also "More like this", the similar-images shortcut, and bad queries.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNEL_POST_INTERVAL_MS } from '../../src/core/conversations/post-pacer.js';
import { SHORTCUT_FIND_SIMILAR } from '../../src/bots/slack/result-blocks.js';
import { parseQuery } from '../../src/core/search/query-syntax.js';
import { cardsOf, controlsOf, elementsOf, hitOf, imageIdsOf, labelled, labelsOf, queryIdOf, type Element } from '../fakes/slack/block-kit.js';
import { eventually, settled } from '../fakes/slack/eventually.js';
import { CHANNELS, webClientRetryLine, SlackHarness, TEAM, type Colour } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
/** An ephemeral preview has a ts like any message; buttons on it carry it. */
const PREVIEW = { channel: GENERAL, ts: '1770009999.000100' };
const ORANGE_SCORE = 1 / Math.hypot(1, 128 / 255);
const PURPLE_SCORE = 128 / 255 / Math.hypot(128 / 255, 1);
/** Calls Bolt makes on its own (token check, Socket Mode URL), not in answer to anything. */
const STARTUP_CALLS = new Set(['auth.test', 'apps.connections.open']);

describe('Slack search, end to end in Socket Mode', () => {
  let h: SlackHarness;
  const ids = new Map<Colour, string>();

  const seedGeneral = async (colours: Colour[]) => {
    for (const colour of colours) ids.set(colour, await h.seed(colour, { channel: GENERAL, channelIsPublic: true, fileId: `F${colour.toUpperCase()}` }));
  };
  /** The Web API calls the bot made in answer to people (Bolt's own start-up calls left out). */
  const apiCalls = () => h.api.calls.filter((c) => !STARTUP_CALLS.has(c.method)).map((c) => c.method);
  /** Waits for the `n`th response_url message (1-based) and returns it. */
  const response = (n: number) =>
    eventually(() => h.api.responses.length >= n && h.api.responses[n - 1], `response_url message ${n}`);
  /** Presses an element of a private preview (in #general unless told otherwise). */
  const pressOnPreview = (element: Element, user = 'U1') => h.press(element.action_id, element.value, PREVIEW, user);
  /** Runs /findimage red over seven images and returns the first preview. */
  const searchRedOverSeven = async () => {
    await seedGeneral(['red', 'orange', 'purple', 'magenta', 'green', 'blue', 'cyan']);
    await h.command('red');
    return response(1);
  };

  beforeEach(async () => {
    ids.clear();
    h = await SlackHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  describe('the private preview', () => {
    it('acknowledges /findimage at once and shows the first five results only to the searcher, posting nothing to the channel', async () => {
      await seedGeneral(['red', 'orange', 'purple', 'magenta', 'green', 'blue', 'cyan']);
      // The search cannot finish until released, so an ack that arrives proves it waits for no
      // search: Slack's 3 s limit holds however slow the search is.
      const release = h.embedder.holdQueries();
      try {
        const ack = await settled(h.command('red'), 'the ack while the search is held');
        expect(ack.payload ?? {}).toEqual({});
        expect(h.api.responses).toEqual([]);
      } finally {
        release();
      }

      const preview = await response(1);
      expect(preview).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: 'Results for “red” (1–5)' });
      const cards = cardsOf(preview);
      expect(cards.map((c) => c.title.text)).toEqual(['#1 red.png', '#2 orange.png', '#3 magenta.png', '#4 purple.png', expect.stringMatching(/^#5 /)]);
      expect(cards.slice(0, 4).map((c) => c.subtitle.text.slice(0, 11))).toEqual([
        'score 1.000',
        `score ${ORANGE_SCORE.toFixed(3)}`,
        `score ${(1 / Math.SQRT2).toFixed(3)}`,
        `score ${PURPLE_SCORE.toFixed(3)}`,
      ]);
      expect(cards[0]?.subtitle.text).toBe(`score 1.000 · <@U1> in <#${GENERAL}> on <!date^1768478400^{date_short}|2026-01-15>`);
      expect(cards[0]?.hero_image).toEqual({ type: 'image', slack_file: { id: 'FRED' }, alt_text: 'red.png' });
      expect(cards.every((c) => c.hero_image !== undefined)).toBe(true);
      expect(labelsOf(cards[0]?.actions ?? [])).toEqual([':+1:', ':-1:', 'Send']);
      expect(hitOf(labelled(cards[0]?.actions ?? [], 'Send'))).toMatchObject({ imageId: ids.get('red'), rank: 1, score: 1 });
      expect(labelsOf(controlsOf(preview))).toEqual(['Next', 'Share all', 'More like this…']);
      const menu = labelled(controlsOf(preview), 'More like this…');
      expect(menu.type).toBe('static_select');
      expect(menu.options?.map((o) => o.value)).toEqual(imageIdsOf(preview));

      // One private message; the only Web API call is the conversation's visibility lookup.
      await h.queueIdle();
      expect(h.api.responses).toHaveLength(1);
      expect(h.api.posted()).toEqual([]);
      expect(apiCalls()).toEqual(['conversations.info']);
      const query = await h.labels.getQuery(TEAM, queryIdOf(preview));
      expect(query).toMatchObject({ text: 'red', searchText: 'red', user: 'U1', conversation: GENERAL });
    });

    it('replaces the preview with results 6–7 on Next and brings 1–5 back on Previous, without posting or looking anything up again', async () => {
      const first = await searchRedOverSeven();
      await pressOnPreview(labelled(controlsOf(first), 'Next'));
      const second = await response(2);
      expect(second).toMatchObject({ response_type: 'ephemeral', replace_original: true, text: 'Results for “red” (6–7)' });
      expect(cardsOf(second).map((c) => c.title.text.slice(0, 3))).toEqual(['#6 ', '#7 ']);
      expect(labelsOf(controlsOf(second))).toEqual(['Previous', 'Share all', 'More like this…']);
      // Pages never repeat an image.
      expect(imageIdsOf(second).filter((id) => imageIdsOf(first).includes(id))).toEqual([]);

      await pressOnPreview(labelled(controlsOf(second), 'Previous'));
      const third = await response(3);
      expect(third).toMatchObject({ replace_original: true, text: 'Results for “red” (1–5)' });
      expect(imageIdsOf(third)).toEqual(imageIdsOf(first));

      expect(h.api.responses).toHaveLength(3);
      expect(h.api.posted()).toEqual([]);
      // The visibility lookup is cached: paging makes no Web API call at all.
      expect(apiCalls()).toEqual(['conversations.info']);
    });

    it('says nothing matched, privately, with ways to widen the search', async () => {
      await seedGeneral(['red']);
      await h.command(`red in:<#${CHANNELS.random.id}|random>`);
      expect(await response(1)).toEqual({
        response_type: 'ephemeral',
        replace_original: false,
        text:
          'No images I may show here match “red”. Try to use fewer or more general words; drop a filter (in:, from:, before:, after:, -word); ' +
          'run the search in the channel where the image was shared (private channels only show their own images); index older images with `/findimage index #channel`.',
      });
      expect(h.api.posted()).toEqual([]);
    });

    it('replies with help, in the acknowledgement, to an empty query and to "help"', async () => {
      for (const text of ['', '   ', 'help']) {
        const ack = await h.command(text);
        expect(ack.payload?.response_type).toBe('ephemeral');
        expect(JSON.stringify(ack.payload)).toContain('`in:#channel`: only images shared in that channel');
      }
      expect(h.api.posted()).toEqual([]);
      expect(h.api.responses).toEqual([]);
    });

    it('answers a malformed filter in the acknowledgement with what to write instead', async () => {
      const ack = await h.command('red after:2026-13-01');
      expect(ack.payload).toEqual({
        response_type: 'ephemeral',
        text: 'after:2026-13-01 is not a date. Write dates as YYYY-MM-DD, for example after:2026-01-31.\nType `/findimage help` for the syntax.',
      });
      expect(h.api.responses).toEqual([]);
    });

    it('shortens a very long query, says so, and shows only the start of it', async () => {
      await seedGeneral(['red']);
      const long = 'red '.repeat(1000).trim();
      h.embedder.know(parseQuery(long).text, [1, 0, 0, 0]);
      const ack = await h.command(long);
      expect(ack.payload ?? {}).toEqual({});
      const preview = await response(1);
      expect(JSON.stringify(preview.blocks)).toContain('Your description was shortened to its first 500 characters.');
      const heading = (preview.blocks as { text: { text: string } }[])[0]?.text.text;
      expect(heading).toBe(`*Results for “${'red '.repeat(50).slice(0, 199)}…”*  ·  1–1`);
    });

    it('escapes mrkdwn and mentions injected through the query and through file names, in the preview and in what is sent', async () => {
      const injected = '*bold* <!channel> & _it_ `code` ~x~';
      h.embedder.know(injected, [1, 0, 0, 0]);
      const filename = '<!here> *urgent* <http://evil|click>.png';
      // Slack's permalinks are URL-encoded; a button's url is not mrkdwn.
      const permalink = `https://example.slack.com/files/U1/FEVIL/${encodeURIComponent(filename)}`;
      await h.seed('red', { channel: GENERAL, channelIsPublic: true, filename, fileId: 'FEVIL', permalink });
      // Slack sends &, < and > of typed text as entities.
      await h.command('*bold* &lt;!channel&gt; &amp; _it_ `code` ~x~');
      const preview = await response(1);
      expect(preview.text).toBe('Results for “∗bold∗ &lt;!channel&gt; &amp; ˍitˍ ˋcodeˋ ∼x∼” (1–1)');
      expect(cardsOf(preview)[0]?.title.text).toBe('#1 &lt;!here&gt; ∗urgent∗ &lt;http://evil|click&gt;.png');

      await pressOnPreview(labelled(cardsOf(preview)[0]?.actions ?? [], 'Send'));
      await eventually(() => h.api.posted().length === 1, 'the sent image');
      for (const everything of [JSON.stringify(h.api.responses), JSON.stringify(h.api.posted())]) {
        expect(everything).not.toContain('<!channel>');
        expect(everything).not.toContain('<!here>');
        expect(everything).not.toContain('<http://evil');
        expect(everything).not.toContain('*bold*');
      }
    });
  });

  describe('sending one result', () => {
    it('posts exactly one message saying who searched for what, tells the sender privately, and records the message as that result', async () => {
      const preview = await searchRedOverSeven();
      await pressOnPreview(labelled(cardsOf(preview)[0]?.actions ?? [], 'Send'));
      const told = await response(2);
      expect(told).toMatchObject({
        response_type: 'ephemeral',
        replace_original: false,
        text: `Sent #1 to <#${GENERAL}>. Reactions :+1: and :-1: on it count as votes.`,
      });

      expect(h.api.posted()).toHaveLength(1);
      const [sent] = h.api.posted();
      expect(sent?.channel).toBe(GENERAL);
      expect(sent?.threadTs).toBeUndefined();
      expect(sent?.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<@U1> searched for “red” and sent this:' } });
      expect(sent?.blocks.filter((b) => b.type === 'image')).toEqual([{ type: 'image', slack_file: { id: 'FRED' }, alt_text: 'red.png' }]);
      expect(labelsOf(elementsOf(sent))).toEqual([':+1:', ':-1:', 'More like this', 'Open original']);
      expect(labelled(elementsOf(sent), 'Open original').url).toBe('https://example.slack.com/files/U1/FRED/red.png');

      const recorded = await h.labels.findResultMessages(TEAM, GENERAL, sent?.ts ?? '');
      expect(recorded).toEqual([
        { tenant: TEAM, conversation: GENERAL, messageId: sent?.ts, queryId: queryIdOf(preview), imageId: ids.get('red'), rank: 1, score: 1, postedBy: 'U1' },
      ]);
    });

    it('counts a thumbs-up reaction on a sent image as a vote by whoever reacted, for exactly that search and image, and takes it back with the reaction', async () => {
      const preview = await searchRedOverSeven();
      await pressOnPreview(labelled(cardsOf(preview)[1]?.actions ?? [], 'Send'));
      await response(2);
      const [sent] = h.api.posted();
      const reaction = (type: string, name: string, user = 'U2') =>
        h.event({ type, user, reaction: name, item: { type: 'message', channel: GENERAL, ts: sent?.ts }, item_user: 'UBOT', event_ts: '1770001000.000100' });

      await reaction('reaction_added', '+1');
      const [label] = await eventually(async () => {
        const labels = await h.labels.listLabels({ tenant: TEAM });
        return labels.length === 1 && labels;
      }, 'a label');
      expect(label).toMatchObject({ tenant: TEAM, queryId: queryIdOf(preview), queryText: 'red', imageId: ids.get('orange'), user: 'U2', value: 1 });

      // Reactions that are no vote change nothing; a thumbs-down with a skin tone is a vote.
      await reaction('reaction_added', 'tada', 'U3');
      await reaction('reaction_added', '-1::skin-tone-3', 'U3');
      await eventually(async () => (await h.labels.listLabels({ tenant: TEAM })).length === 2, 'a second label');
      expect((await h.labels.listLabels({ tenant: TEAM, user: 'U3' })).map((l) => [l.imageId, l.value])).toEqual([[ids.get('orange'), -1]]);

      await reaction('reaction_removed', '+1');
      await eventually(async () => (await h.labels.listLabels({ tenant: TEAM, user: 'U2' })).length === 0, 'the label to go');
      expect(await h.labels.listLabels({ tenant: TEAM })).toHaveLength(1);
    });

    it('spaces two sends to one channel a pacing interval apart', async () => {
      const preview = await searchRedOverSeven();
      const cards = cardsOf(preview);
      await Promise.all([
        pressOnPreview(labelled(cards[0]?.actions ?? [], 'Send')),
        pressOnPreview(labelled(cards[1]?.actions ?? [], 'Send')),
      ]);
      await eventually(() => h.api.posted().length === 2, 'both sent images');
      expect(h.api.posted().map((m) => m.channel)).toEqual([GENERAL, GENERAL]);
      // The pacer's clock moves only when it waits: the first send had the channel's slot at once,
      // the second waited one whole interval for the next.
      expect(h.pacing.waits).toEqual([CHANNEL_POST_INTERVAL_MS]);
    });

    it('still sends the image when Slack answers 429, after waiting its Retry-After', async () => {
      const preview = await searchRedOverSeven();
      h.api.rateLimitNext('chat.postMessage', 1);
      await pressOnPreview(labelled(cardsOf(preview)[0]?.actions ?? [], 'Send'));
      expect((await response(2)).text).toBe(`Sent #1 to <#${GENERAL}>. Reactions :+1: and :-1: on it count as votes.`);
      const [limited, retried, ...more] = h.api.callsTo('chat.postMessage');
      expect((limited?.reply as { error?: string }).error).toBe('ratelimited');
      expect(retried?.reply).toMatchObject({ ok: true });
      expect(more).toEqual([]);
      // The Web API client logs this only on its waiting path, just before it sleeps the Retry-After
      // the fake sent and retries (a client that rejects rate-limited calls does not).
      expect(h.logged(webClientRetryLine(1))).toHaveLength(1);
      expect(h.api.posted()).toHaveLength(1);
    });
  });

  describe('voting with the buttons', () => {
    it('records a vote on the preview for the presser, confirms it privately, takes it back on a second press, and replaces it with the other thumb', async () => {
      const preview = await searchRedOverSeven();
      const [up, down] = cardsOf(preview)[0]?.actions ?? [];
      const labels = async () => (await h.labels.listLabels({ tenant: TEAM })).map((l) => [l.user, l.imageId, l.value, l.queryText]);

      await pressOnPreview(up as Element);
      expect((await response(2)).text).toBe('Thanks: your :+1: on #1 red.png is recorded. Press it again to take it back.');
      expect(await labels()).toEqual([['U1', ids.get('red'), 1, 'red']]);
      expect((await h.labels.listLabels({ tenant: TEAM }))[0]?.modelId).toBe('known-vectors');

      await pressOnPreview(up as Element);
      expect((await response(3)).text).toBe('Your :+1: on #1 red.png is taken back.');
      expect(await labels()).toEqual([]);

      await pressOnPreview(up as Element);
      await response(4);
      await pressOnPreview(down as Element);
      expect((await response(5)).text).toBe('Thanks: your :-1: on #1 red.png is recorded. Press it again to take it back.');
      expect(await labels()).toEqual([['U1', ids.get('red'), -1, 'red']]);
      expect(h.api.posted()).toEqual([]);
    });

    it('records a vote pressed on a sent image by someone else in the channel', async () => {
      const preview = await searchRedOverSeven();
      await pressOnPreview(labelled(cardsOf(preview)[0]?.actions ?? [], 'Send'));
      await response(2);
      const [sent] = h.api.posted();
      const up = labelled(elementsOf(sent), ':+1:');
      await h.press(up.action_id, up.value, { channel: GENERAL, ts: sent?.ts ?? '' }, 'U2');
      expect((await response(3)).text).toBe('Thanks: your :+1: on #1 red.png is recorded. Press it again to take it back.');
      expect((await h.labels.listLabels({ tenant: TEAM })).map((l) => [l.user, l.imageId, l.value])).toEqual([['U2', ids.get('red'), 1]]);
    });
  });

  describe('sharing a whole page', () => {
    it('posts one message with a carousel whose cards carry vote buttons, and records every result it shows', async () => {
      const preview = await searchRedOverSeven();
      await pressOnPreview(labelled(controlsOf(preview), 'Share all'));
      expect((await response(2)).text).toBe(`Shared 5 results with <#${GENERAL}>.`);
      expect(h.api.posted()).toHaveLength(1);
      const [shared] = h.api.posted();
      expect(shared?.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<@U1> shared results for “red” (1–5):' } });
      const cards = cardsOf(shared);
      expect(cards.map((c) => c.title.text)).toEqual(cardsOf(preview).map((c) => c.title.text));
      for (const card of cards) expect(labelsOf(card.actions)).toEqual([':+1:', ':-1:', 'More like this']);
      const recorded = await h.labels.findResultMessages(TEAM, GENERAL, shared?.ts ?? '');
      expect(recorded.map((r) => [r.imageId, r.rank, r.postedBy])).toEqual(imageIdsOf(preview).map((id, i) => [id, i + 1, 'U1']));

      // A vote button on one card of the shared message labels that card's image.
      const down = labelled(cards[2]?.actions ?? [], ':-1:');
      await h.press(down.action_id, down.value, { channel: GENERAL, ts: shared?.ts ?? '' }, 'U2');
      await response(3);
      expect((await h.labels.listLabels({ tenant: TEAM })).map((l) => [l.user, l.imageId, l.value])).toEqual([['U2', ids.get('magenta'), -1]]);
    });

    it('answers a thumbs reaction on a shared page privately with how to vote, and records no label', async () => {
      const preview = await searchRedOverSeven();
      await pressOnPreview(labelled(controlsOf(preview), 'Share all'));
      await response(2);
      const [shared] = h.api.posted();
      await h.event({ type: 'reaction_added', user: 'U2', reaction: '+1', item: { type: 'message', channel: GENERAL, ts: shared?.ts }, event_ts: '1770001000.000100' });
      const [explained] = await eventually(() => {
        const calls = h.api.callsTo('chat.postEphemeral');
        return calls.length === 1 && calls;
      }, 'a private explanation');
      expect(explained?.args).toMatchObject({
        channel: GENERAL,
        user: 'U2',
        text: "That message shows 5 images, so a reaction can't say which one you mean. Use the :+1: and :-1: buttons under each image instead.",
      });
      expect(await h.labels.listLabels({ tenant: TEAM })).toEqual([]);
      expect(h.api.posted()).toHaveLength(1);
    });
  });

  describe('more like this', () => {
    it('shows images like a result, privately, when it is picked in the preview menu, leaving the image itself out', async () => {
      await seedGeneral(['red', 'orange', 'blue']);
      await h.command('red');
      const preview = await response(1);
      await h.select(labelled(controlsOf(preview), 'More like this…').action_id, ids.get('red') ?? '', PREVIEW);
      const similar = await response(2);
      expect(similar).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: 'Images like red.png (1–2)' });
      expect(cardsOf(similar).map((c) => c.title.text)).toEqual(['#1 orange.png', '#2 blue.png']);
      expect(await h.labels.getQuery(TEAM, queryIdOf(similar))).toMatchObject({ kind: 'image', sourceImageId: ids.get('red') });
      expect(h.api.posted()).toEqual([]);
    });

    it('shows images like a sent image, privately, to whoever presses its More like this button', async () => {
      await seedGeneral(['red', 'orange', 'blue']);
      await h.command('red');
      const preview = await response(1);
      await pressOnPreview(labelled(cardsOf(preview)[0]?.actions ?? [], 'Send'));
      await response(2);
      const [sent] = h.api.posted();
      const more = labelled(elementsOf(sent), 'More like this');
      await h.press(more.action_id, more.value, { channel: GENERAL, ts: sent?.ts ?? '' }, 'U2');
      const similar = await response(3);
      expect(similar).toMatchObject({ response_type: 'ephemeral', text: 'Images like red.png (1–2)' });
      expect((await h.labels.getQuery(TEAM, queryIdOf(similar)))?.user).toBe('U2');
      expect(h.api.posted()).toHaveLength(1);
    });

    it('finds images like the one in a message through the shortcut, privately, paging a new image from its snapshot', async () => {
      // Yellow would tie with magenta (both 0.707 from red): left out so the order is exact.
      await seedGeneral(['orange', 'blue', 'purple', 'magenta', 'cyan', 'green']);
      const red = await h.servePng('red');
      await h.shortcut(SHORTCUT_FIND_SIMILAR, { type: 'message', ts: '1770000900.000100', user: 'U2', files: [red] }, GENERAL);
      const preview = await response(1);
      expect(preview).toMatchObject({ response_type: 'ephemeral', text: 'Images like red.png (1–5)' });
      expect(cardsOf(preview).map((c) => c.title.text).slice(0, 2)).toEqual(['#1 orange.png', '#2 magenta.png']);
      // Not indexed: pages come from the snapshot taken when the shortcut ran.
      expect((await h.labels.getQuery(TEAM, queryIdOf(preview)))?.snapshot).toHaveLength(6);
      await pressOnPreview(labelled(controlsOf(preview), 'Next'));
      expect(await response(2)).toMatchObject({ replace_original: true, text: 'Images like red.png (6–6)' });
      expect(h.api.posted()).toEqual([]);
      expect(await h.store.count({ tenant: TEAM })).toBe(6);
    });

    it('answers the shortcut on a message with no image privately', async () => {
      await h.shortcut(SHORTCUT_FIND_SIMILAR, { type: 'message', ts: '1770000900.000100', user: 'U2', text: 'hello' }, GENERAL);
      expect(await response(1)).toMatchObject({ response_type: 'ephemeral', text: 'That message has no image I can search with.' });
      expect(h.api.posted()).toEqual([]);
    });
  });

  describe('when Slack cannot draw a picture or a carousel', () => {
    it('sends the preview again with only the missing file\'s card left without its picture', async () => {
      await seedGeneral(['red', 'orange', 'purple']);
      h.api.missingFiles.add('FORANGE');
      await h.command('red');
      const preview = await response(1);
      expect(h.api.refusedResponses).toHaveLength(1);
      const cards = cardsOf(preview);
      expect(cards.map((c) => c.hero_image?.slack_file.id)).toEqual(['FRED', undefined, 'FPURPLE']);
      expect(cards[1]?.body?.text).toBe('<https://example.slack.com/files/U1/FORANGE/orange.png|Open the original>');
      expect(cards[1]?.title.text).toBe('#2 orange.png');
    });

    it('shows image blocks where the workspace refuses carousels, goes straight to them on the next search, and still tries carousels for another workspace', async () => {
      await seedGeneral(['red', 'orange']);
      await h.seed('red', { channel: GENERAL, channelIsPublic: true, tenant: 'T2', fileId: 'FT2RED' });
      h.api.refuseCarousels = true;

      await h.command('red');
      const preview = await response(1);
      expect(h.api.refusedResponses).toHaveLength(1);
      expect(cardsOf(preview)).toEqual([]);
      expect(preview.blocks as unknown[]).toContainEqual({ type: 'image', slack_file: { id: 'FRED' }, alt_text: 'red.png' });
      expect(preview.blocks as unknown[]).toContainEqual({ type: 'image', slack_file: { id: 'FORANGE' }, alt_text: 'orange.png' });
      expect(JSON.stringify(preview.blocks)).toContain('*#1* red.png · score *1.000* · <@U1>');
      expect(labelsOf(elementsOf(preview))).toEqual([':+1:', ':-1:', 'Send', ':+1:', ':-1:', 'Send', 'Share all', 'More like this…']);

      await h.command('red');
      await response(2);
      expect(h.api.refusedResponses).toHaveLength(1);

      // Sharing in this workspace posts image blocks at once, without a refused carousel first.
      await pressOnPreview(labelled(controlsOf(h.api.responses[1]), 'Share all'));
      await response(3);
      expect(h.api.callsTo('chat.postMessage')).toHaveLength(1);
      expect(h.api.posted()[0]?.blocks.filter((b) => b.type === 'image')).toHaveLength(2);

      await h.command('red', GENERAL, 'U9', 'T2');
      const other = await response(4);
      expect(h.api.refusedResponses).toHaveLength(2);
      expect(cardsOf(other)).toEqual([]);
    });

    it('shows a HEIC result as a card without a picture and a link to the original', async () => {
      ids.set('red', await h.seed('red', { channel: GENERAL, channelIsPublic: true, filename: 'scan.heic', fileId: 'FHEIC' }));
      await h.command('red');
      const [card] = cardsOf(await response(1));
      expect(card?.title.text).toBe('#1 scan.heic');
      expect(card?.hero_image).toBeUndefined();
      expect(card?.body?.text).toBe('<https://example.slack.com/files/U1/FHEIC/scan.heic|Open the original>');
      expect(h.api.refusedResponses).toEqual([]);
    });
  });
});
