// Block Kit rendering of search sessions within Slack's limits: the private preview, a sent image,
// a shared page; pictures and carousels located so a refusal drops only them; buttons that read back.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, type SessionPage, type ShownHit } from '../../core/conversations/search-sessions.js';
import type { QueryRecord } from '../../core/labels/label-store.js';
import type { ImagePayload, ImageShare } from '../../core/store/vector-store.js';
import {
  MAX_BLOCKS_PER_MESSAGE,
  hitButtonValue,
  pageButtonValue,
  parseHitButtonValue,
  parsePageButtonValue,
  renderNoResults,
  renderPreview,
  renderSentImage,
  renderSharedPage,
  type RenderOptions,
  type SlackMessage,
} from './result-blocks.js';

const share = (overrides: Partial<ImageShare> = {}): ImageShare => ({
  conversation: 'C1',
  isPublic: true,
  sharedAt: '2026-01-15T12:00:00.000Z',
  uploader: 'U1',
  messageId: '1768478400.000100',
  fileId: 'F1',
  permalink: 'https://example.slack.com/files/U1/F1/cat.png',
  ...overrides,
});

const payload = (overrides: Partial<ImagePayload> = {}): ImagePayload => ({
  tenant: 'T1',
  source: 'slack',
  filename: 'cat.png',
  contentHash: 'h',
  modelId: 'm',
  createdAt: '2026-01-15T12:00:00.000Z',
  width: 10,
  height: 10,
  shares: [share()],
  ...overrides,
});

const hit = (rank: number, overrides: Partial<ImagePayload> = {}, shown: Partial<ImageShare> | null = {}): ShownHit => {
  const result: ShownHit = { imageId: `id-${rank}`, score: 0.3, rank, payload: payload(overrides) };
  if (shown !== null) result.share = share({ fileId: `F${rank}`, ...shown });
  return result;
};

const query = (overrides: Partial<QueryRecord> = {}): QueryRecord => ({
  queryId: 'q1',
  tenant: 'T1',
  kind: 'text',
  text: 'a cat',
  searchText: 'a cat',
  negativeTerms: [],
  scope: { tenant: 'T1', channels: ['C1'], includePublic: true },
  filters: {},
  user: 'U1',
  conversation: 'C1',
  createdAt: new Date('2026-02-01T00:00:00.000Z'),
  ...overrides,
});

const page = (hits: ShownHit[], extra: Partial<SessionPage> = {}): SessionPage => ({ query: query(), page: 0, hits, hasMore: false, ...extra });

const carousel: RenderOptions = { layout: 'carousel', noPicture: new Set() };
const blocks: RenderOptions = { layout: 'blocks', noPicture: new Set() };

type Element = { type: string; action_id: string; value?: string; url?: string; text?: { text: string }; placeholder?: { text: string } };
type Card = { title: { text: string }; subtitle: { text: string }; hero_image?: unknown; body?: { text: string }; actions: Element[] };

function cardsOf(message: SlackMessage): Card[] {
  return ((message.blocks.find((b) => b.type === 'carousel') as { elements?: Card[] } | undefined)?.elements ?? []) as Card[];
}
function labels(elements: readonly Element[]): string[] {
  return elements.map((e) => e.text?.text ?? e.placeholder?.text ?? '?');
}
function controlsOf(message: SlackMessage): Element[] {
  return ((message.blocks.find((b) => b.type === 'actions' && b.block_id === 'findimage_controls') as { elements?: Element[] } | undefined)
    ?.elements ?? []) as Element[];
}
/** Resolves a JSON pointer ("/blocks/1/elements/0/hero_image") inside a message. */
function at(message: SlackMessage, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], { blocks: message.blocks });
}

describe('result blocks', () => {
  it('keeps a full preview within Block Kit limits in both layouts, with unique action ids and short card texts', () => {
    const hits = Array.from({ length: PAGE_SIZE }, (_, i) => hit(i + 1, { filename: `${'x'.repeat(400)}.png` }, { uploader: 'U'.repeat(200) }));
    for (const options of [carousel, blocks]) {
      const message = renderPreview(page(hits, { page: 1, hasMore: true }), ['Filters: in <#C1>'], options);
      expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
      const actionIds = [...JSON.stringify(message.blocks).matchAll(/"action_id":"([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(actionIds).size).toBe(actionIds.length);
      if (options.layout === 'carousel') {
        const cards = cardsOf(message);
        expect(cards).toHaveLength(PAGE_SIZE);
        for (const card of cards) {
          expect(Array.from(card.title.text).length).toBeLessThanOrEqual(150);
          expect(Array.from(card.subtitle.text).length).toBeLessThanOrEqual(150);
        }
      } else {
        expect(cardsOf(message)).toEqual([]);
        expect(message.carousels).toEqual([]);
      }
    }
  });

  it('gives every preview card a vote pair and Send, and puts paging, Share all and the More like this menu below', () => {
    const message = renderPreview(page([hit(6), hit(7)], { page: 1, hasMore: true }), [], carousel);
    expect(message.text).toBe('Results for “a cat” (6–7)');
    for (const card of cardsOf(message)) expect(labels(card.actions)).toEqual([':+1:', ':-1:', 'Send']);
    const controls = controlsOf(message);
    expect(labels(controls)).toEqual(['Previous', 'Next', 'Share all', 'More like this…']);
    expect(parsePageButtonValue(controls[0]?.value)).toEqual({ queryId: 'q1', page: 0 });
    expect(parsePageButtonValue(controls[1]?.value)).toEqual({ queryId: 'q1', page: 2 });
    expect(parsePageButtonValue(controls[2]?.value)).toEqual({ queryId: 'q1', page: 1 });
    const send = cardsOf(message)[1]?.actions[2];
    expect(parseHitButtonValue(send?.value)).toEqual({ queryId: 'q1', imageId: 'id-7', rank: 7, score: 0.3 });
  });

  it('says where each picture and carousel sits, so a refusal can drop exactly that one', () => {
    const message = renderPreview(page([hit(1), hit(2), hit(3)]), [], carousel);
    expect([...message.pictures.values()]).toEqual(['id-1', 'id-2', 'id-3']);
    for (const [pointer, imageId] of message.pictures) {
      expect(at(message, pointer)).toMatchObject({ type: 'image', slack_file: { id: `F${imageId.slice(3)}` } });
    }
    expect(message.carousels.map((pointer) => (at(message, pointer) as { type: string }).type)).toEqual(['carousel']);

    const inBlocks = renderPreview(page([hit(1), hit(2)]), [], blocks);
    for (const [pointer, imageId] of inBlocks.pictures) {
      expect(at(inBlocks, pointer)).toMatchObject({ type: 'image', slack_file: { id: `F${imageId.slice(3)}` } });
    }
  });

  it('draws a result whose picture was refused without it, leaving the others as they were', () => {
    const message = renderPreview(page([hit(1), hit(2), hit(3)]), [], { layout: 'carousel', noPicture: new Set(['id-2']) });
    const cards = cardsOf(message);
    expect(cards.map((c) => c.hero_image !== undefined)).toEqual([true, false, true]);
    expect(cards[1]?.body?.text).toBe('<https://example.slack.com/files/U1/F1/cat.png|Open the original>');
    expect([...message.pictures.values()]).toEqual(['id-1', 'id-3']);
  });

  it('shows a picture only for file types Slack can draw from a file id, and a link or "(no preview)" otherwise', () => {
    const message = renderPreview(
      page([hit(1), hit(2, { filename: 'scan.heic' }), hit(3, {}, { fileId: undefined }), hit(4, { filename: 'raw.tiff' }, { permalink: 'javascript:alert(1)' })]),
      [],
      carousel,
    );
    const cards = cardsOf(message);
    expect(cards.map((c) => c.hero_image !== undefined)).toEqual([true, false, false, false]);
    expect(cards[1]?.body?.text).toContain('|Open the original>');
    expect(cards[3]?.body?.text).toBe('(no preview)');
    expect(JSON.stringify(message.blocks)).not.toContain('javascript:');
  });

  it('sends one result as image blocks, whatever the layout, saying who searched for what, with votes, More like this and the original', () => {
    const message = renderSentImage(query(), hit(1), 'U2', carousel);
    expect(message.carousels).toEqual([]);
    expect(message.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<@U2> searched for “a cat” and sent this:' } });
    expect(message.blocks[1]).toEqual({ type: 'image', slack_file: { id: 'F1' }, alt_text: 'cat.png' });
    const buttons = message.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b as { elements: Element[] }).elements);
    expect(labels(buttons)).toEqual([':+1:', ':-1:', 'More like this', 'Open original']);
    expect(buttons[3]?.url).toBe('https://example.slack.com/files/U1/F1/cat.png');
    expect(message.text).toBe('<@U2> sent a result for “a cat”: cat.png');
    // Posted to the channel: no rank (its readers never saw the ranking) and no mention of the
    // uploader, who would be notified every time someone sends their image.
    const context = JSON.stringify(message.blocks.filter((b) => b.type === 'context')[0]);
    expect(context).toContain('cat.png · score *0.300* · shared in <#C1> on');
    expect(context).not.toContain('#1');
    expect(JSON.stringify(message.blocks)).not.toContain('<@U1>');

    const image = renderSentImage(query({ kind: 'image', text: 'dog.png', searchText: '' }), hit(1, {}, { permalink: 'javascript:alert(1)' }), 'U2', blocks);
    expect((image.blocks[0] as { text: { text: string } }).text.text).toBe('<@U2> looked for images like dog.png and sent this:');
    expect(JSON.stringify(image.blocks)).not.toContain('Open original');
  });

  it('shares a page as one message whose cards vote and find more like them, with no Send', () => {
    const message = renderSharedPage(page([hit(1), hit(2)]), 'U3', carousel);
    expect(message.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<@U3> shared results for “a cat” (1–2):' } });
    for (const card of cardsOf(message)) expect(labels(card.actions)).toEqual([':+1:', ':-1:', 'More like this']);
    expect(cardsOf(message)[0]?.subtitle.text).toMatch(/^score 0\.300 · shared in <#C1> on /);
    expect(JSON.stringify(message.blocks)).not.toContain('<@U1>');
    expect(message.text).toBe('<@U3> shared results for “a cat”');
    expect(JSON.stringify(message.blocks)).not.toContain('findimage_send');
  });

  it('renders only well-formed ids as mentions, and escapes file names and queries', () => {
    const message = renderPreview(
      { ...page([hit(1, { filename: '<!channel> *x*.png' }, { uploader: 'U1|<!channel>', conversation: 'C2' })]), query: query({ searchText: '<!here> _hi_' }) },
      [],
      carousel,
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('U1|&lt;!channel&gt; in <#C2>');
    expect(text).not.toContain('<@U1|');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(cardsOf(message)[0]?.title.text).toBe('#1 &lt;!channel&gt; ∗x∗.png');
  });

  it('dates a result by the share it shows, in the reader\'s time zone with a UTC fallback', () => {
    const message = renderPreview(page([hit(1, {}, { sharedAt: '2026-03-01T08:00:00.000Z' })]), [], carousel);
    expect(cardsOf(message)[0]?.subtitle.text).toBe('score 0.300 · <@U1> in <#C1> on <!date^1772352000^{date_short}|2026-03-01>');
  });

  it('says nothing matched with ways to widen the search, naming filters only when there were some', () => {
    expect(renderNoResults(query(), false)).not.toContain('drop a filter');
    expect(renderNoResults(query(), true)).toContain('drop a filter (in:, from:, before:, after:, -word)');
    expect(renderNoResults(query({ kind: 'image', text: 'dog.png' }), false)).toMatch(/^I found no images like dog\.png that I may show here\./);
  });

  it('reads back its own button values and nothing else', () => {
    expect(parsePageButtonValue(pageButtonValue('q-1', 3))).toEqual({ queryId: 'q-1', page: 3 });
    expect(parsePageButtonValue('{"q":"x","p":-1}')).toBeUndefined();
    expect(parsePageButtonValue('{"q":"x","p":1.5}')).toBeUndefined();
    expect(parsePageButtonValue('{"q":1,"p":1}')).toBeUndefined();
    expect(parsePageButtonValue('not json')).toBeUndefined();
    expect(parsePageButtonValue(undefined)).toBeUndefined();
    expect(parseHitButtonValue(hitButtonValue('q-2', hit(4)))).toEqual({ queryId: 'q-2', imageId: 'id-4', rank: 4, score: 0.3 });
    expect(parseHitButtonValue('{"q":"x","i":"y","r":1.5,"s":0.1}')).toBeUndefined();
    expect(parseHitButtonValue('{"q":"x","i":2,"r":1,"s":0.1}')).toBeUndefined();
    expect(parseHitButtonValue('[1,2]')).toBeUndefined();
    expect(parseHitButtonValue(undefined)).toBeUndefined();
  });
});
