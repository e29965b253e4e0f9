// Block Kit rendering of search sessions: the private preview (a carousel of the page's results
// with vote and send buttons, paging and "Share all"), a sent image, a shared page, help and
// "no results". Every piece of user text goes through escapeMrkdwn. Each message also says where
// its pictures sit, so that a picture Slack refuses can be dropped alone.
import type { types } from '@slack/bolt';
import type { SessionPage, ShownHit } from '../../core/conversations/search-sessions.js';
import type { QueryRecord } from '../../core/labels/label-store.js';
import { escapeAndTruncate, escapeMrkdwn, plainText } from './slack-text.js';

type KnownBlock = types.KnownBlock;
type Button = types.Button;
type CardBlock = types.CardBlock;

/** action_id prefixes; a suffix keeps ids unique within one message, as Block Kit requires. */
export const ACTION_PAGE = 'findimage_page';
export const ACTION_VOTE_UP = 'findimage_vote_up';
export const ACTION_VOTE_DOWN = 'findimage_vote_down';
export const ACTION_SEND = 'findimage_send';
export const ACTION_SHARE_ALL = 'findimage_share_all';
export const ACTION_MORE_LIKE_THIS = 'findimage_more_like_this';
export const ACTION_OPEN_ORIGINAL = 'findimage_open_original';
/** callback_id of the "Find similar images" message shortcut (see slack-app-manifest.yaml). */
export const SHORTCUT_FIND_SIMILAR = 'findimage_find_similar';

/** Block Kit refuses a message with more blocks than this. */
export const MAX_BLOCKS_PER_MESSAGE = 50;
/** Block Kit's carousel takes 1 to 10 cards. */
export const MAX_CAROUSEL_CARDS = 10;
/** A card shows at most three buttons. */
export const MAX_CARD_BUTTONS = 3;
/** Query text shown in a heading; the whole query stays in the query log. */
export const MAX_SHOWN_QUERY_CHARS = 200;
/** Card field limits from Block Kit's card block reference. */
const CARD_TITLE_MAX = 150;
const CARD_SUBTITLE_MAX = 150;
/** Alt text of an image; Block Kit allows 2,000 characters, a file name needs far fewer. */
const ALT_TEXT_MAX = 200;
/** Room for a file name inside a section or context text (whose limits are 3,000 characters). */
const FILENAME_MAX = 150;
/** Text of a select option: Block Kit allows 75 characters. */
const OPTION_TEXT_MAX = 75;
/** Block Kit accepts slack_file image references only for these file types (not HEIC, TIFF...). */
const PREVIEWABLE_TYPES = new Set(['png', 'jpg', 'jpeg', 'gif']);
/** Slack user and channel ids: only these are rendered as mentions, anything else is escaped. */
const SLACK_ID = /^[A-Z0-9]{2,}$/;

/** "carousel": cards in a carousel block; "blocks": image, context and actions blocks per result. */
export type ResultLayout = 'carousel' | 'blocks';

/** How to draw a message: its layout, and results whose picture Slack refused. */
export interface RenderOptions {
  layout: ResultLayout;
  /** Image ids drawn without a picture. */
  noPicture: ReadonlySet<string>;
}

/** A message as chat.postMessage, chat.update and response_url take it. */
export interface SlackMessage {
  /** Notification and fallback text. */
  text: string;
  /** Block Kit blocks. */
  blocks: KnownBlock[];
  /**
   * Where each picture sits: JSON pointer of the image element ("/blocks/2/elements/0/hero_image")
   * to the image id it shows, so a refusal naming that pointer drops that picture only.
   */
  pictures: Map<string, string>;
  /** Pointers of carousel blocks, so a refusal of the carousel itself switches layout. */
  carousels: string[];
}

/** What a result button carries: the query, the image, and its rank and score as shown. */
export interface HitButtonValue {
  queryId: string;
  imageId: string;
  rank: number;
  score: number;
}

export function hitButtonValue(queryId: string, hit: ShownHit): string {
  return JSON.stringify({ q: queryId, i: hit.imageId, r: hit.rank, s: Number(hit.score.toFixed(4)) });
}

/** Reads a result button's value; undefined when it is not one of ours. */
export function parseHitButtonValue(value: string | undefined): HitButtonValue | undefined {
  const parsed = parseJson(value);
  if (parsed === undefined) return undefined;
  const { q, i, r, s } = parsed;
  if (typeof q !== 'string' || typeof i !== 'string' || !Number.isInteger(r) || typeof s !== 'number') return undefined;
  return { queryId: q, imageId: i, rank: r as number, score: s };
}

/** The value of a paging or "Share all" button: the query id and a page. */
export function pageButtonValue(queryId: string, page: number): string {
  return JSON.stringify({ q: queryId, p: page });
}

/** Reads a paging button's value; undefined when it is not one of ours. */
export function parsePageButtonValue(value: string | undefined): { queryId: string; page: number } | undefined {
  const parsed = parseJson(value);
  if (parsed === undefined) return undefined;
  if (typeof parsed.q !== 'string' || typeof parsed.p !== 'number' || !Number.isInteger(parsed.p) || parsed.p < 0) return undefined;
  return { queryId: parsed.q, page: parsed.p };
}

/** What a search was, as a heading: the description, or the image it started from. */
export function headingOf(query: Pick<QueryRecord, 'kind' | 'text' | 'searchText'>): string {
  if (query.kind === 'text') return `“${escapeAndTruncate(query.searchText, MAX_SHOWN_QUERY_CHARS)}”`;
  return `images like ${escapeAndTruncate(query.text, MAX_SHOWN_QUERY_CHARS)}`;
}

/**
 * The private preview of a page: only the person who searched sees it. Each card votes or sends
 * its image; below them are paging, "Share all" and "More like this".
 */
export function renderPreview(page: SessionPage, notes: readonly string[], options: RenderOptions): SlackMessage {
  const message = new MessageBuilder();
  const range = rangeOf(page);
  const what = page.query.kind === 'text' ? `Results for ${headingOf(page.query)}` : capitalise(headingOf(page.query));
  message.push({ type: 'section', text: { type: 'mrkdwn', text: `*${what}*  ·  ${range}` } });
  if (notes.length > 0) message.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join('\n') }] });
  message.results(page.hits, options, (hit) => [
    voteButton(page.query.queryId, hit, 1),
    voteButton(page.query.queryId, hit, -1),
    {
      type: 'button',
      action_id: `${ACTION_SEND}:${hit.rank}`,
      text: { type: 'plain_text', text: 'Send' },
      style: 'primary',
      value: hitButtonValue(page.query.queryId, hit),
    },
  ]);
  const controls: types.ActionsBlockElement[] = pagingButtons(page);
  controls.push({
    type: 'button',
    action_id: `${ACTION_SHARE_ALL}:${page.page}`,
    text: { type: 'plain_text', text: 'Share all' },
    value: pageButtonValue(page.query.queryId, page.page),
  });
  controls.push(moreLikeThisMenu(page.hits));
  message.push({ type: 'actions', block_id: 'findimage_controls', elements: controls });
  message.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: '*Send* posts one image to this conversation, *Share all* posts this page; :+1: and :-1: teach findimage what fits.' }],
  });
  return message.build(`${stripMrkdwn(what)} (${range})`);
}

/** One result sent to the conversation: a single message saying who searched for what. */
export function renderSentImage(query: QueryRecord, hit: ShownHit, sender: string, options: RenderOptions): SlackMessage {
  const message = new MessageBuilder();
  const what = query.kind === 'text' ? `searched for ${headingOf(query)}` : `looked for ${headingOf(query)}`;
  message.push({ type: 'section', text: { type: 'mrkdwn', text: `${mention('@', sender)} ${what} and sent this:` } });
  message.results(
    [hit],
    { ...options, layout: 'blocks' },
    (shown) => [voteButton(query.queryId, shown, 1), voteButton(query.queryId, shown, -1), moreLikeThisButton(shown), ...openOriginal(shown)],
    'sent',
  );
  message.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `React :+1: or :-1: on this message, or use the buttons, to say whether it fits ${headingOf(query)}.` }],
  });
  return message.build(`${mention('@', sender)} sent a result for ${stripMrkdwn(headingOf(query))}: ${escapeAndTruncate(hit.payload.filename, FILENAME_MAX)}`);
}

/** A page shared with the conversation: one message, with vote buttons on every result. */
export function renderSharedPage(page: SessionPage, sender: string, options: RenderOptions): SlackMessage {
  const message = new MessageBuilder();
  const what = page.query.kind === 'text' ? `results for ${headingOf(page.query)}` : headingOf(page.query);
  message.push({ type: 'section', text: { type: 'mrkdwn', text: `${mention('@', sender)} shared ${what} (${rangeOf(page)}):` } });
  message.results(
    page.hits,
    options,
    (hit) => [voteButton(page.query.queryId, hit, 1), voteButton(page.query.queryId, hit, -1), moreLikeThisButton(hit)],
    'shared',
  );
  message.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: 'This message shows several images: vote with the :+1: and :-1: buttons on each one.' }],
  });
  return message.build(`${mention('@', sender)} shared ${stripMrkdwn(what)}`);
}

/** `/findimage help`. */
export function renderHelp(): Pick<SlackMessage, 'text' | 'blocks'> {
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
    '*How it works:*',
    '• Results come to you privately first. *Send* posts one image to the conversation, *Share all* the whole page.',
    '• :+1: and :-1: (buttons, or reactions on a sent image) teach findimage what fits.',
    '• *More like this* on a result, or the *Find similar images* shortcut on any message with an image.',
    '• `/findimage index #channel`: index the images already shared in a channel (I must be a member).',
    '• Slash commands do not work inside threads: run them in the channel.',
    '',
    'Results show images from this conversation and from public channels only.',
  ].join('\n');
  return { text: 'How to use /findimage', blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** The reply when nothing matched, with ways to widen the search. */
export function renderNoResults(query: Pick<QueryRecord, 'kind' | 'text' | 'searchText'>, filtered: boolean): string {
  const tips = [
    'use fewer or more general words',
    ...(filtered ? ['drop a filter (in:, from:, before:, after:, -word)'] : []),
    'run the search in the channel where the image was shared (private channels only show their own images)',
    'index older images with `/findimage index #channel`',
  ];
  const what = query.kind === 'text' ? `No images I may show here match ${headingOf(query)}.` : `I found no ${headingOf(query)} that I may show here.`;
  return `${what} Try to ${tips.join('; ')}.`;
}

/** Accumulates blocks and remembers where pictures and carousels went. */
class MessageBuilder {
  readonly #blocks: KnownBlock[] = [];
  readonly #pictures = new Map<string, string>();
  readonly #carousels: string[] = [];

  push(block: KnownBlock): void {
    this.#blocks.push(block);
  }

  /**
   * The results: one card each in a carousel, or image, context and actions blocks each. In a
   * message posted to a conversation the uploader is named without a mention, since a mention in
   * a channel message would notify them every time someone sends their image; the rank is left
   * out of a single sent image, whose readers never saw the ranking.
   */
  results(
    hits: readonly ShownHit[],
    options: RenderOptions,
    buttons: (hit: ShownHit) => Button[],
    audience: Audience = 'private',
  ): void {
    const shown = hits.slice(0, MAX_CAROUSEL_CARDS);
    if (options.layout === 'carousel' && shown.length > 0) {
      const at = `/blocks/${this.#blocks.length}`;
      this.#carousels.push(at);
      const cards = shown.map((hit, i) => {
        const card: CardBlock = {
          type: 'card',
          title: { type: 'mrkdwn', text: `#${hit.rank} ${escapeAndTruncate(hit.payload.filename, CARD_TITLE_MAX - 8)}` },
          subtitle: { type: 'mrkdwn', text: fitted(`score ${scoreText(hit.score)} · ${provenance(hit, audience)}`, CARD_SUBTITLE_MAX) },
          actions: buttons(hit).slice(0, MAX_CARD_BUTTONS),
        };
        const image = options.noPicture.has(hit.imageId) ? undefined : imageFor(hit);
        if (image !== undefined) {
          card.hero_image = { type: 'image', ...image };
          this.#pictures.set(`${at}/elements/${i}/hero_image`, hit.imageId);
        } else {
          card.body = { type: 'mrkdwn', text: fitted(noPictureNote(hit), 200) };
        }
        return card;
      });
      this.#blocks.push({ type: 'carousel', elements: cards });
      return;
    }
    for (const hit of shown) {
      const image = options.noPicture.has(hit.imageId) ? undefined : imageFor(hit);
      if (image !== undefined) {
        this.#pictures.set(`/blocks/${this.#blocks.length}`, hit.imageId);
        this.#blocks.push({ type: 'image', ...image });
      }
      const name = escapeAndTruncate(hit.payload.filename, FILENAME_MAX);
      const note = image === undefined ? `\n${noPictureNote(hit)}` : '';
      this.#blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${audience === 'sent' ? '' : `*#${hit.rank}* `}${name} · score *${scoreText(hit.score)}* · ${provenance(hit, audience)}${note}` }],
      });
      this.#blocks.push({ type: 'actions', elements: buttons(hit) });
    }
  }

  build(text: string): SlackMessage {
    return { text, blocks: this.#blocks.slice(0, MAX_BLOCKS_PER_MESSAGE), pictures: this.#pictures, carousels: this.#carousels };
  }
}

function voteButton(queryId: string, hit: ShownHit, value: 1 | -1): Button {
  return {
    type: 'button',
    action_id: `${value === 1 ? ACTION_VOTE_UP : ACTION_VOTE_DOWN}:${hit.rank}`,
    text: { type: 'plain_text', text: value === 1 ? ':+1:' : ':-1:', emoji: true },
    value: hitButtonValue(queryId, hit),
  };
}

function moreLikeThisButton(hit: ShownHit): Button {
  return {
    type: 'button',
    action_id: `${ACTION_MORE_LIKE_THIS}:${hit.rank}`,
    text: { type: 'plain_text', text: 'More like this' },
    value: hit.imageId,
  };
}

/** "More like this" for any result of the preview (cards have room for three buttons only). */
function moreLikeThisMenu(hits: readonly ShownHit[]): types.StaticSelect {
  return {
    type: 'static_select',
    action_id: `${ACTION_MORE_LIKE_THIS}:menu`,
    placeholder: { type: 'plain_text', text: 'More like this…' },
    options: hits.slice(0, MAX_CAROUSEL_CARDS).map((hit) => ({
      text: { type: 'plain_text', text: plainText(`#${hit.rank} ${hit.payload.filename}`, OPTION_TEXT_MAX) },
      value: hit.imageId,
    })),
  };
}

function openOriginal(hit: ShownHit): Button[] {
  const link = hit.share?.permalink;
  if (link === undefined || !/^https?:\/\//.test(link)) return [];
  return [{ type: 'button', action_id: `${ACTION_OPEN_ORIGINAL}:${hit.rank}`, text: { type: 'plain_text', text: 'Open original' }, url: link }];
}

function pagingButtons(page: SessionPage): Button[] {
  const buttons: Button[] = [];
  if (page.page > 0) {
    buttons.push({
      type: 'button',
      action_id: `${ACTION_PAGE}:previous`,
      text: { type: 'plain_text', text: 'Previous' },
      value: pageButtonValue(page.query.queryId, page.page - 1),
    });
  }
  if (page.hasMore) {
    buttons.push({
      type: 'button',
      action_id: `${ACTION_PAGE}:next`,
      text: { type: 'plain_text', text: 'Next' },
      value: pageButtonValue(page.query.queryId, page.page + 1),
    });
  }
  return buttons;
}

/** The image reference of a hit when Slack can draw it from the file id (PNG, JPEG, GIF). */
function imageFor(hit: ShownHit): { slack_file: { id: string }; alt_text: string } | undefined {
  const extension = hit.payload.filename.toLowerCase().split('.').pop() ?? '';
  const fileId = hit.share?.fileId;
  if (fileId === undefined || !PREVIEWABLE_TYPES.has(extension)) return undefined;
  return { slack_file: { id: fileId }, alt_text: plainText(hit.payload.filename, ALT_TEXT_MAX) };
}

/** What a result without a picture says instead: a link to the original when there is one. */
function noPictureNote(hit: ShownHit): string {
  const link = hit.share?.permalink;
  return link !== undefined && /^https?:\/\//.test(link) ? `<${link}|Open the original>` : '(no preview)';
}

/**
 * Who a message is for: "private" (the preview, which notifies no one), "shared" (a page posted to
 * the conversation) or "sent" (one image posted to the conversation).
 */
type Audience = 'private' | 'shared' | 'sent';

/**
 * "<@U1> in <#C1> on <date>", with only well-formed ids turned into mentions; in a posted
 * message, "shared in <#C1> on <date>" (no user mention, which would notify the uploader).
 */
function provenance(hit: ShownHit, audience: Audience): string {
  const parts: string[] = [];
  const share = hit.share;
  if (audience !== 'private' && share !== undefined) parts.push('shared');
  if (audience === 'private' && share?.uploader !== undefined) parts.push(mention('@', share.uploader));
  if (share !== undefined) parts.push(`in ${mention('#', share.conversation)}`);
  parts.push(`on ${dateText(share?.sharedAt ?? hit.payload.createdAt)}`);
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

function rangeOf(page: SessionPage): string {
  const first = page.hits[0]?.rank ?? 0;
  const last = page.hits.at(-1)?.rank ?? 0;
  return `${first}–${last}`;
}

function scoreText(score: number): string {
  return score.toFixed(3);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Notification text has no formatting: drop the emphasis we added (user text stays escaped). */
function stripMrkdwn(text: string): string {
  return text.replace(/\*/g, '');
}

/** Cuts mrkdwn we built ourselves (no user text left unescaped) at a limit. */
function fitted(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function parseJson(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
