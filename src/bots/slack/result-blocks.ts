// Block Kit rendering of search results: the header message (a carousel of cards, or image and
// context blocks where carousels are refused) and the one-result thread messages that take
// reactions. Every piece of user text goes through escapeMrkdwn.
import type { types } from '@slack/bolt';
import type { ImagePayload } from '../../core/store/vector-store.js';
import { escapeAndTruncate, escapeMrkdwn, plainText } from './slack-text.js';

type KnownBlock = types.KnownBlock;
type Button = types.Button;
type CardBlock = types.CardBlock;

/** action_id prefixes; a suffix keeps ids unique within one message, as Block Kit requires. */
export const ACTION_PAGE = 'findimage_page';
export const ACTION_MORE_LIKE_THIS = 'findimage_more_like_this';
export const ACTION_OPEN_ORIGINAL = 'findimage_open_original';
/** callback_id of the "Find similar images" message shortcut (see slack-app-manifest.yaml). */
export const SHORTCUT_FIND_SIMILAR = 'findimage_find_similar';

/** Results per page: five cards fit a carousel on a laptop screen and keep the thread short. */
export const PAGE_SIZE = 5;
/** Block Kit refuses a message with more blocks than this. */
export const MAX_BLOCKS_PER_MESSAGE = 50;
/** Block Kit's carousel takes 1 to 10 cards. */
export const MAX_CAROUSEL_CARDS = 10;
/** Query text shown in a heading; the whole query stays in the query log. */
export const MAX_SHOWN_QUERY_CHARS = 200;
/** Card field limits from Block Kit's card block reference. */
const CARD_TITLE_MAX = 150;
const CARD_SUBTITLE_MAX = 150;
/** Alt text of an image; Block Kit allows 2,000 characters, a file name needs far fewer. */
const ALT_TEXT_MAX = 200;
/** Room for a file name inside a section or context text (whose limits are 3,000 characters). */
const FILENAME_MAX = 150;
/** Block Kit accepts slack_file image references only for these file types. */
const PREVIEWABLE_TYPES = new Set(['png', 'jpg', 'jpeg', 'gif']);
/** Slack user and channel ids: only these are rendered as mentions, anything else is escaped. */
const SLACK_ID = /^[A-Z0-9]{2,}$/;

/** One hit as shown to people. */
export interface ShownHit {
  /** Point id of the image. */
  imageId: string;
  /** Cosine score. */
  score: number;
  /** 1-based position in the query's results. */
  rank: number;
  /** What is known about the image. */
  payload: ImagePayload;
}

/** One page of a query's results. */
export interface ResultsView {
  /** The query's id, carried by the paging buttons. */
  queryId: string;
  /** What was searched: the query as typed, or the name of the image for "more like this". */
  heading: string;
  /** "text": results for a description; "image": images like another. */
  kind: 'text' | 'image';
  /** 0-based page number. */
  page: number;
  /** The page's hits, best first. */
  hits: ShownHit[];
  /** Whether a next page exists. */
  hasMore: boolean;
  /** Remarks shown under the heading, as mrkdwn the caller has already made safe (escapeMrkdwn). */
  notes: string[];
}

/** A message as chat.postMessage and chat.update take it. */
export interface SlackMessage {
  /** Notification and fallback text. */
  text: string;
  /** Block Kit blocks. */
  blocks: KnownBlock[];
}

/** "carousel": cards in a carousel block; "blocks": image, context and actions blocks. */
export type ResultLayout = 'carousel' | 'blocks';

/** The heading of a results message, escaped. */
export function headingOf(view: Pick<ResultsView, 'heading' | 'kind'>): string {
  const shown = escapeAndTruncate(view.heading, MAX_SHOWN_QUERY_CHARS);
  return view.kind === 'text' ? `Results for “${shown}”` : `Images like ${shown}`;
}

/** The value of a paging button: the query id and the page it leads to. */
export function pageButtonValue(queryId: string, page: number): string {
  return JSON.stringify({ q: queryId, p: page });
}

/** Reads a paging button's value; undefined when it is not one of ours. */
export function parsePageButtonValue(value: string | undefined): { queryId: string; page: number } | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as { q?: unknown; p?: unknown };
    if (typeof parsed.q !== 'string' || typeof parsed.p !== 'number' || !Number.isInteger(parsed.p) || parsed.p < 0) {
      return undefined;
    }
    return { queryId: parsed.q, page: parsed.p };
  } catch {
    return undefined;
  }
}

/**
 * The header message: heading, one card (or block group) per hit, paging buttons. Without
 * `withImages`, hits show no picture (for when Slack refuses a file reference).
 */
export function renderResultsHeader(view: ResultsView, layout: ResultLayout, withImages = true): SlackMessage {
  const heading = headingOf(view);
  const first = view.page * PAGE_SIZE + 1;
  const last = view.page * PAGE_SIZE + view.hits.length;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${heading}*  ·  ${first}–${last}` } },
  ];
  if (view.notes.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: view.notes.join('\n') }] });
  }
  const hits = view.hits.slice(0, MAX_CAROUSEL_CARDS);
  if (layout === 'carousel') {
    blocks.push({ type: 'carousel', elements: hits.map((hit) => cardFor(hit, withImages)) });
  } else {
    for (const hit of hits) blocks.push(...blocksFor(hit, withImages));
  }
  const paging = pagingButtons(view);
  if (paging.length > 0) blocks.push({ type: 'actions', block_id: 'findimage_paging', elements: paging });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: 'React :+1: or :-1: to a result in the thread to teach findimage what fits.' }],
  });
  return { text: `${heading} (${first}–${last})`, blocks: blocks.slice(0, MAX_BLOCKS_PER_MESSAGE) };
}

/** The thread message for one hit: the only message a reaction on which labels that hit. */
export function renderResultMessage(
  hit: ShownHit,
  view: Pick<ResultsView, 'heading' | 'kind'>,
  withImages = true,
): SlackMessage {
  const name = escapeAndTruncate(hit.payload.filename, FILENAME_MAX);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*#${hit.rank}*  ${name}  ·  score *${scoreText(hit.score)}*\n${provenance(hit.payload)}` },
    },
  ];
  const image = withImages ? imageFor(hit.payload) : undefined;
  if (image !== undefined) blocks.push({ type: 'image', ...image });
  const about = view.kind === 'text' ? `“${escapeAndTruncate(view.heading, MAX_SHOWN_QUERY_CHARS)}”` : 'this search';
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `React :+1: or :-1: on this message to say whether it fits ${about}.` }],
  });
  return { text: `#${hit.rank} ${name} (score ${scoreText(hit.score)})`, blocks };
}

/** `/findimage help`. */
export function renderHelp(): SlackMessage {
  const text = [
    '*Search the images shared in this workspace by describing them.*',
    '`/findimage a whiteboard sketch of the login page`',
    '',
    '*Filters* (combine freely):',
    '• `in:#channel`: only images shared in that channel',
    '• `from:@person`: only images that person shared',
    '• `after:2026-01-31`, `before:2026-03-01`, `on:2026-02-14`: by the day it was shared (UTC)',
    '• `-word` or `-"two words"`: leave out images that look like that',
    '',
    '*More:*',
    '• Click *More like this* on a result, or use the *Find similar images* shortcut on any message with an image.',
    '• React :+1: or :-1: to a result in the thread to teach findimage what fits.',
    '• `/findimage index #channel`: index the images already shared in a channel (I must be a member).',
    '',
    'Results show images from this conversation and from public channels only.',
  ].join('\n');
  return { text: 'How to use /findimage', blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** The reply when nothing matched, with ways to widen the search. */
export function renderNoResults(view: Pick<ResultsView, 'heading' | 'kind'>, filtered: boolean): string {
  const tips = [
    'use fewer or more general words',
    ...(filtered ? ['drop a filter (in:, from:, before:, after:, -word)'] : []),
    'run the search in the channel where the image was shared (private channels only show their own images)',
    'index older images with `/findimage index #channel`',
  ];
  const shown = escapeAndTruncate(view.heading, MAX_SHOWN_QUERY_CHARS);
  const what = view.kind === 'text' ? `No images I may show here match “${shown}”.` : `No images I may show here look like ${shown}.`;
  return `${what} Try to ${tips.join('; ')}.`;
}

function cardFor(hit: ShownHit, withImages: boolean): CardBlock {
  const card: CardBlock = {
    type: 'card',
    title: { type: 'mrkdwn', text: `#${hit.rank} ${escapeAndTruncate(hit.payload.filename, CARD_TITLE_MAX - 5)}` },
    subtitle: { type: 'mrkdwn', text: fitted(`score ${scoreText(hit.score)} · ${provenance(hit.payload)}`, CARD_SUBTITLE_MAX) },
    actions: hitButtons(hit),
  };
  const image = withImages ? imageFor(hit.payload) : undefined;
  if (image !== undefined) card.hero_image = { type: 'image', ...image };
  return card;
}

function blocksFor(hit: ShownHit, withImages: boolean): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const image = withImages ? imageFor(hit.payload) : undefined;
  if (image !== undefined) blocks.push({ type: 'image', ...image });
  const name = escapeAndTruncate(hit.payload.filename, FILENAME_MAX);
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `*#${hit.rank}* ${name} · score ${scoreText(hit.score)} · ${provenance(hit.payload)}` }],
  });
  blocks.push({ type: 'actions', elements: hitButtons(hit) });
  return blocks;
}

function hitButtons(hit: ShownHit): Button[] {
  const buttons: Button[] = [
    {
      type: 'button',
      action_id: `${ACTION_MORE_LIKE_THIS}:${hit.rank}`,
      text: { type: 'plain_text', text: 'More like this' },
      value: hit.imageId,
    },
  ];
  if (hit.payload.permalink !== undefined && /^https?:\/\//.test(hit.payload.permalink)) {
    buttons.push({
      type: 'button',
      action_id: `${ACTION_OPEN_ORIGINAL}:${hit.rank}`,
      text: { type: 'plain_text', text: 'Open original' },
      url: hit.payload.permalink,
    });
  }
  return buttons;
}

function pagingButtons(view: ResultsView): Button[] {
  const buttons: Button[] = [];
  if (view.page > 0) {
    buttons.push({
      type: 'button',
      action_id: `${ACTION_PAGE}:previous`,
      text: { type: 'plain_text', text: 'Previous' },
      value: pageButtonValue(view.queryId, view.page - 1),
    });
  }
  if (view.hasMore) {
    buttons.push({
      type: 'button',
      action_id: `${ACTION_PAGE}:next`,
      text: { type: 'plain_text', text: 'Next' },
      value: pageButtonValue(view.queryId, view.page + 1),
    });
  }
  return buttons;
}

/** The image reference of a hit when Slack can render it from the file id. */
function imageFor(payload: ImagePayload): { slack_file: { id: string }; alt_text: string } | undefined {
  const extension = payload.filename.toLowerCase().split('.').pop() ?? '';
  if (payload.fileId === undefined || !PREVIEWABLE_TYPES.has(extension)) return undefined;
  return { slack_file: { id: payload.fileId }, alt_text: plainText(payload.filename, ALT_TEXT_MAX) };
}

/** "<@U1> in <#C1> on <date>", with only well-formed ids turned into mentions. */
function provenance(payload: ImagePayload): string {
  const parts: string[] = [];
  if (payload.uploader !== undefined) parts.push(mention('@', payload.uploader));
  if (payload.channel !== undefined) parts.push(`in ${mention('#', payload.channel)}`);
  parts.push(`on ${dateText(payload.createdAt)}`);
  return parts.join(' ');
}

function mention(sigil: '@' | '#', id: string): string {
  return SLACK_ID.test(id) ? `<${sigil}${id}>` : escapeMrkdwn(id);
}

/** Slack's date token shows the day in the reader's time zone; the fallback is the UTC day. */
function dateText(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return 'an unknown day';
  return `<!date^${Math.floor(time / 1000)}^{date_short}|${new Date(time).toISOString().slice(0, 10)}>`;
}

function scoreText(score: number): string {
  return score.toFixed(3);
}

/** Cuts mrkdwn we built ourselves (no user text left unescaped) at a limit. */
function fitted(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
