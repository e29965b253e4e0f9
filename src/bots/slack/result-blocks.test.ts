// Block Kit rendering of results within Slack's limits: blocks, cards, images, mentions, buttons.
import { describe, expect, it } from 'vitest';
import type { ImagePayload } from '../../core/store/vector-store.js';
import {
  MAX_BLOCKS_PER_MESSAGE,
  PAGE_SIZE,
  pageButtonValue,
  parsePageButtonValue,
  renderResultMessage,
  renderResultsHeader,
  type ResultsView,
  type ShownHit,
} from './result-blocks.js';

const payload = (overrides: Partial<ImagePayload> = {}): ImagePayload => ({
  tenant: 'T1',
  source: 'slack',
  filename: 'cat.png',
  contentHash: 'h',
  modelId: 'm',
  createdAt: '2026-01-15T12:00:00.000Z',
  width: 10,
  height: 10,
  channel: 'C1',
  uploader: 'U1',
  fileId: 'F1',
  permalink: 'https://example.slack.com/files/U1/F1/cat.png',
  ...overrides,
});

const hit = (rank: number, overrides: Partial<ImagePayload> = {}): ShownHit => ({
  imageId: `id-${rank}`,
  score: 0.3,
  rank,
  payload: payload(overrides),
});

const view = (hits: ShownHit[], extra: Partial<ResultsView> = {}): ResultsView => ({
  queryId: 'q1',
  heading: 'a cat',
  kind: 'text',
  page: 0,
  hits,
  hasMore: false,
  notes: [],
  ...extra,
});

describe('result blocks', () => {
  it('keeps a full page within Block Kit limits in both layouts, with unique action ids', () => {
    const hits = Array.from({ length: PAGE_SIZE }, (_, i) => hit(i + 1, { filename: `${'x'.repeat(400)}.png` }));
    for (const layout of ['carousel', 'blocks'] as const) {
      const message = renderResultsHeader(view(hits, { page: 1, hasMore: true, notes: ['Filters: in <#C1>'] }), layout);
      expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
      const json = JSON.stringify(message.blocks);
      const actionIds = [...json.matchAll(/"action_id":"([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(actionIds).size).toBe(actionIds.length);
      if (layout === 'carousel') {
        const cards = (message.blocks.find((b) => b.type === 'carousel') as { elements: { title: { text: string } }[] }).elements;
        expect(cards).toHaveLength(PAGE_SIZE);
        for (const card of cards) expect(Array.from(card.title.text).length).toBeLessThanOrEqual(150);
      }
    }
  });

  it('shows a hero image only for file types Slack can render from a file id', () => {
    const header = renderResultsHeader(view([hit(1), hit(2, { filename: 'scan.heic' }), hit(3, { fileId: undefined })]), 'carousel');
    const cards = (header.blocks.find((b) => b.type === 'carousel') as { elements: { hero_image?: unknown }[] }).elements;
    expect(cards.map((c) => c.hero_image !== undefined)).toEqual([true, false, false]);
  });

  it('drops images entirely when asked, for a workspace that refuses file references', () => {
    const message = renderResultMessage(hit(1), view([]), false);
    expect(message.blocks.some((b) => b.type === 'image')).toBe(false);
  });

  it('renders only well-formed ids as mentions', () => {
    const message = renderResultMessage(hit(1, { uploader: 'U1|<!channel>', channel: 'C2' }), view([]));
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('U1|&lt;!channel&gt; in <#C2>');
    expect(text).not.toContain('<@U1|');
  });

  it('leaves the Open original button out when the permalink is not a web link', () => {
    const header = renderResultsHeader(view([hit(1, { permalink: 'javascript:alert(1)' })]), 'carousel');
    expect(JSON.stringify(header.blocks)).not.toContain('Open original');
  });

  it('reads back its own paging values and nothing else', () => {
    expect(parsePageButtonValue(pageButtonValue('q-1', 3))).toEqual({ queryId: 'q-1', page: 3 });
    expect(parsePageButtonValue('{"q":"x","p":-1}')).toBeUndefined();
    expect(parsePageButtonValue('{"q":1,"p":1}')).toBeUndefined();
    expect(parsePageButtonValue('not json')).toBeUndefined();
    expect(parsePageButtonValue(undefined)).toBeUndefined();
  });
});
