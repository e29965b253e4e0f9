// Draws the pictures of docs/slack.md from the bot's real Block Kit: it builds one realistic page
// of search results, renders the private preview, a sent image and a shared page with
// src/bots/slack/result-blocks.ts, turns that JSON into Slack-looking HTML (a small renderer of
// only the blocks and mrkdwn those messages use) and screenshots it with headless Chromium.
// The pictures are the example photos in examples/images standing in for Slack files. Each
// picture says in its footer that it is a rendering, not a Slack screenshot.
//
//   node --import tsx scripts/render-slack-messages.ts
//
// Needs Debian's chromium (CHROMIUM overrides the path) and, for Slack's look, the fonts-lato and
// fonts-noto-color-emoji packages. Writes docs/images/slack-{preview,sent,shared-page}.png.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { types } from '@slack/bolt';
import sharp from 'sharp';
import { renderPreview, renderSentImage, renderSharedPage, type RenderOptions } from '../src/bots/slack/result-blocks.js';
import type { SessionPage, ShownHit } from '../src/core/conversations/search-sessions.js';
import { contentHashOf, pointIdFor } from '../src/core/indexing/point-id.js';
import type { QueryRecord } from '../src/core/labels/label-store.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = path.join(ROOT, 'examples/images');
const OUTPUT = path.join(ROOT, 'docs/images');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Browser window: about a Slack message pane on a laptop. A carousel wider than the pane scrolls
 * sideways in Slack, so the picture shows the cards that fit and the scroll arrow.
 */
const WINDOW_WIDTH = 900;
const WINDOW_HEIGHT = 1000;
/** White margin kept around the message once the empty page around it is trimmed. */
const MARGIN_PX = 16;
/** Longest side of a picture as embedded: the cards and image blocks show them smaller. */
const PICTURE_MAX_PX = 320;
/** Screenshots must stay small enough to commit. */
const MAX_PNG_BYTES = 200 * 1024;
const CHROMIUM_TIMEOUT_MS = 60_000;

const FOOTER = "Rendered from findimage's Block Kit JSON by scripts/render-slack-messages.ts; not a Slack screenshot";

// ---------------------------------------------------------------------------------------------
// The workspace: who and where, as Slack ids, with the names a Slack client would show for them.

const TENANT = 'T07ACME0001';
const USERS: Record<string, string> = { U07ANA0001: 'ana', U07BEN0002: 'ben', U07CHLOE03: 'chloe' };
const CHANNELS: Record<string, string> = { C07DESIGN1: 'design', C07RANDOM2: 'random', C07PHOTOS3: 'photos' };
const SEARCHER = 'U07ANA0001';
const HERE = 'C07DESIGN1';

/** One result of the example search, its picture taken from examples/images. */
interface ExampleHit {
  /** File in examples/images, shown under the same name. */
  file: string;
  /** Cosine score, in the range CLIP gives a good match for a short description. */
  score: number;
  /** Who shared it (a key of USERS). */
  uploader: string;
  /** Where it was shared (a key of CHANNELS). */
  conversation: string;
  /** When, ISO 8601. */
  sharedAt: string;
}

const QUERY_TEXT = 'a black and white animal';
const EXAMPLE_HITS: ExampleHit[] = [
  { file: 'penguin.png', score: 0.312, uploader: 'U07BEN0002', conversation: 'C07DESIGN1', sharedAt: '2026-02-14T10:12:00Z' },
  { file: 'dog.png', score: 0.297, uploader: 'U07CHLOE03', conversation: 'C07PHOTOS3', sharedAt: '2026-01-29T16:40:00Z' },
  { file: 'bee.png', score: 0.284, uploader: 'U07ANA0001', conversation: 'C07DESIGN1', sharedAt: '2026-03-02T09:05:00Z' },
  { file: 'clownfish.png', score: 0.271, uploader: 'U07BEN0002', conversation: 'C07RANDOM2', sharedAt: '2025-12-11T13:30:00Z' },
  { file: 'owl.png', score: 0.263, uploader: 'U07CHLOE03', conversation: 'C07PHOTOS3', sharedAt: '2026-02-27T11:47:00Z' },
];

/** Picture data: URLs by Slack file id, for image blocks and card hero images. */
type Pictures = Map<string, string>;

async function examplePage(): Promise<{ page: SessionPage; pictures: Pictures }> {
  const pictures: Pictures = new Map();
  const hits: ShownHit[] = [];
  for (const [i, example] of EXAMPLE_HITS.entries()) {
    const bytes = await readFile(path.join(EXAMPLES, example.file));
    const meta = await sharp(bytes).metadata();
    const contentHash = contentHashOf(bytes);
    const fileId = `F07EXAMPLE${i + 1}`;
    const share = {
      conversation: example.conversation,
      isPublic: true,
      sharedAt: example.sharedAt,
      messageId: `${Date.parse(example.sharedAt) / 1000}.000100`,
      fileId,
      uploader: example.uploader,
      permalink: `https://acme.slack.com/files/${example.uploader}/${fileId}/${example.file}`,
    };
    hits.push({
      imageId: pointIdFor(TENANT, contentHash),
      score: example.score,
      rank: i + 1,
      payload: {
        tenant: TENANT,
        source: 'slack',
        filename: example.file,
        contentHash,
        modelId: 'clip-vit-b32',
        createdAt: example.sharedAt,
        width: meta.width ?? 0,
        height: meta.height ?? 0,
        shares: [share],
      },
      share,
    });
    const png = await sharp(bytes).resize(PICTURE_MAX_PX, PICTURE_MAX_PX, { fit: 'inside', withoutEnlargement: true }).png().toBuffer();
    pictures.set(fileId, `data:image/png;base64,${png.toString('base64')}`);
  }
  const query: QueryRecord = {
    queryId: '3f0c2a9e-5b1d-4c8e-9a47-2d6b8e1f0c55',
    tenant: TENANT,
    kind: 'text',
    text: QUERY_TEXT,
    searchText: QUERY_TEXT,
    negativeTerms: [],
    scope: { tenant: TENANT, channels: [HERE], includePublic: true },
    filters: {},
    user: SEARCHER,
    conversation: HERE,
    createdAt: new Date('2026-03-05T10:42:00Z'),
  };
  return { page: { query, page: 0, hits, hasMore: true }, pictures };
}

// ---------------------------------------------------------------------------------------------
// Block Kit to HTML: only what findimage's result messages use. Anything else throws, so that a
// new block type shows up as a failed run rather than as a silently missing part of a picture.

const EMOJI: Record<string, string> = { '+1': '👍', thumbsup: '👍', '-1': '👎', thumbsdown: '👎', frame_with_picture: '🖼️' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

class Unsupported extends Error {}

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** A Slack date token the way a client in UTC shows it; formats other than these show the fallback. */
function dateToken(seconds: number, format: string, fallback: string): string {
  const date = new Date(seconds * 1000);
  const short = `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}`;
  const known: Record<string, string> = { '{date_short}': short, '{date_num}': date.toISOString().slice(0, 10) };
  return known[format] ?? fallback;
}

/** One `<...>` token of mrkdwn: a mention, a channel, a date or a link. */
function tokenHtml(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  if (target.startsWith('@')) {
    const name = USERS[target.slice(1)] ?? target.slice(1);
    return `<span class="mention">@${html(name)}</span>`;
  }
  if (target.startsWith('#')) {
    const name = label ?? CHANNELS[target.slice(1)] ?? target.slice(1);
    return `<span class="channel">#${html(name)}</span>`;
  }
  if (target.startsWith('!date^')) {
    const [, seconds = '0', format = ''] = target.split('^');
    return html(dateToken(Number(seconds), format, unescapeSlack(label ?? '')));
  }
  if (target.startsWith('!')) return `<span class="mention">@${html(target.slice(1))}</span>`;
  return `<a href="${html(target)}">${html(unescapeSlack(label ?? target))}</a>`;
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** mrkdwn to HTML: tokens, then *bold*, _italic_, ~strike~ and `code` at word edges, then emoji. */
function mrkdwn(text: string): string {
  const tokens: string[] = [];
  const marked = text.replace(/<([^<>]*)>/g, (_whole, inner: string) => `\u{E000}${tokens.push(tokenHtml(inner)) - 1}\u{E001}`);
  let out = html(unescapeSlack(marked));
  const edge = (mark: string, tag: string): void => {
    const m = mark === '*' ? '\\*' : mark;
    const pattern = new RegExp(`(^|[^\\p{L}\\p{N}])${m}(?=\\S)([^\\n]*?\\S)${m}(?![\\p{L}\\p{N}])`, 'gu');
    out = out.replace(pattern, (_whole, before: string, inner: string) => `${before}<${tag}>${inner}</${tag}>`);
  };
  edge('`', 'code');
  edge('*', 'b');
  edge('_', 'i');
  edge('~', 's');
  out = emojify(out);
  return out.replace(/\u{E000}(\d+)\u{E001}/gu, (_whole, index: string) => tokens[Number(index)] ?? '');
}

function textHtml(text: types.PlainTextElement | types.MrkdwnElement): string {
  if (text.type === 'mrkdwn') return mrkdwn(text.text);
  return text.emoji === false ? html(text.text) : emojify(html(text.text));
}

function imageSource(image: { slack_file?: { id?: string; url?: string }; image_url?: string }, pictures: Pictures): string {
  const id = image.slack_file?.id;
  const source = id !== undefined ? pictures.get(id) : image.image_url;
  if (source === undefined) throw new Unsupported(`no picture for ${JSON.stringify(image)}`);
  return source;
}

function elementHtml(element: types.ActionsBlockElement): string {
  if (element.type === 'button') {
    const style = element.style === 'primary' ? ' primary' : element.style === 'danger' ? ' danger' : '';
    return `<span class="button${style}">${textHtml(element.text)}</span>`;
  }
  if (element.type === 'static_select') {
    const shown = element.initial_option?.text ?? element.placeholder;
    return `<span class="select">${shown === undefined ? '' : textHtml(shown)}<span class="chevron">⌄</span></span>`;
  }
  throw new Unsupported(`element ${element.type}`);
}

function cardHtml(card: types.CardBlock, pictures: Pictures): string {
  if (card.icon !== undefined) throw new Unsupported('card icon');
  const parts: string[] = [];
  if (card.hero_image !== undefined) parts.push(`<div class="hero"><img src="${imageSource(card.hero_image, pictures)}" alt="${html(card.hero_image.alt_text)}"></div>`);
  parts.push('<div class="card-text">');
  if (card.title !== undefined) parts.push(`<div class="card-title">${textHtml(card.title)}</div>`);
  if (card.subtitle !== undefined) parts.push(`<div class="card-subtitle">${textHtml(card.subtitle)}</div>`);
  if (card.body !== undefined) parts.push(`<div class="card-body">${textHtml(card.body)}</div>`);
  parts.push('</div>');
  if (card.actions !== undefined && card.actions.length > 0) parts.push(`<div class="card-actions">${card.actions.map(elementHtml).join('')}</div>`);
  return `<div class="card">${parts.join('')}</div>`;
}

function blockHtml(block: types.KnownBlock, pictures: Pictures): string {
  switch (block.type) {
    case 'section':
      if (block.fields !== undefined || block.accessory !== undefined) throw new Unsupported('section fields or accessory');
      return `<div class="section">${block.text === undefined ? '' : textHtml(block.text)}</div>`;
    case 'context':
      return `<div class="context">${block.elements
        .map((element) => (element.type === 'image' ? `<img class="context-image" src="${imageSource(element, pictures)}" alt="">` : `<span>${textHtml(element)}</span>`))
        .join('')}</div>`;
    case 'image': {
      const title = block.title === undefined ? '' : `<div class="image-title">${textHtml(block.title)}</div>`;
      return `<div class="image-block">${title}<img src="${imageSource(block, pictures)}" alt="${html(block.alt_text)}"></div>`;
    }
    case 'actions':
      return `<div class="actions">${block.elements.map(elementHtml).join('')}</div>`;
    case 'carousel':
      return `<div class="carousel-frame"><div class="carousel">${block.elements.map((card) => cardHtml(card, pictures)).join('')}</div><span class="scroll">›</span></div>`;
    default:
      throw new Unsupported(`block ${block.type}`);
  }
}

const AVATAR = `<svg class="avatar" viewBox="0 0 36 36" xmlns="http://www.w3.org/2000/svg"><rect width="36" height="36" rx="8" fill="#4a154b"/><circle cx="16" cy="16" r="7" fill="none" stroke="#fff" stroke-width="3"/><line x1="21" y1="21" x2="27" y2="27" stroke="#fff" stroke-width="3.5" stroke-linecap="round"/></svg>`;
const EYE = `<svg viewBox="0 0 20 20" width="14" height="14" xmlns="http://www.w3.org/2000/svg"><path d="M10 4.5C5.5 4.5 2.3 8 1.5 10c.8 2 4 5.5 8.5 5.5s7.7-3.5 8.5-5.5c-.8-2-4-5.5-8.5-5.5z" fill="none" stroke="currentColor" stroke-width="1.5"/><circle cx="10" cy="10" r="2.6" fill="currentColor"/></svg>`;

const STYLE = `
body { margin: 0; background: #fff; font-family: Lato, 'Liberation Sans', sans-serif; color: #1d1c1d; font-size: 15px; line-height: 1.46668; }
.pane { padding: 16px 20px; }
.ephemeral { display: flex; align-items: center; gap: 6px; margin-left: 44px; color: #616061; font-size: 13px; margin-bottom: 2px; }
.message { display: flex; gap: 8px; }
.avatar { width: 36px; height: 36px; flex: none; margin-top: 4px; }
.content { min-width: 0; }
.header { display: flex; align-items: baseline; gap: 6px; }
.name { font-weight: 900; }
.badge { background: rgba(29,28,29,.13); color: rgba(29,28,29,.7); font-size: 10px; font-weight: 700; padding: 1px 3px; border-radius: 2px; position: relative; top: -2px; }
.time { color: #616061; font-size: 12px; }
.section, .context { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 640px; }
.section { margin: 2px 0 6px; }
.context { color: #616061; font-size: 13px; margin: 6px 0; }
.mention { color: #1264a3; background: rgba(29,155,209,.1); border-radius: 3px; padding: 0 2px; }
.channel, a { color: #1264a3; text-decoration: none; }
code { font-family: Monaco, 'DejaVu Sans Mono', monospace; font-size: 12px; color: #e01e5a; background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 3px; padding: 1px 3px; }
.actions, .card-actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.button, .select { display: inline-flex; align-items: center; height: 28px; padding: 0 12px; border: 1px solid rgba(29,28,29,.3); border-radius: 8px; font-size: 13px; font-weight: 700; background: #fff; white-space: nowrap; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #fff; color: #e01e5a; }
.select { font-weight: 400; color: #616061; gap: 10px; min-width: 150px; justify-content: space-between; }
.chevron { color: #1d1c1d; position: relative; top: -3px; }
.image-block img { display: block; max-width: 360px; max-height: 240px; border-radius: 8px; border: 1px solid rgba(29,28,29,.13); background: #f8f8f8; margin: 4px 0; }
.carousel-frame { position: relative; width: 790px; overflow: hidden; margin: 8px 0; }
.carousel { display: flex; gap: 8px; }
.scroll { position: absolute; right: 8px; top: 100px; width: 32px; height: 32px; border-radius: 50%; background: #fff; border: 1px solid rgba(29,28,29,.3); box-shadow: 0 1px 4px rgba(0,0,0,.15); display: flex; align-items: center; justify-content: center; font-size: 22px; line-height: 1; padding-bottom: 3px; box-sizing: border-box; }
.card { width: 232px; flex: none; border: 1px solid rgba(29,28,29,.13); border-radius: 8px; overflow: hidden; display: flex; flex-direction: column; background: #fff; }
.hero { height: 130px; background: #f8f8f8; display: flex; align-items: center; justify-content: center; }
.hero img { max-width: 100%; max-height: 100%; object-fit: contain; }
.card-text { padding: 8px 12px 0; flex: 1; }
.card-title { font-weight: 700; font-size: 14px; overflow-wrap: anywhere; }
.card-subtitle, .card-body { color: #616061; font-size: 12px; line-height: 1.4; overflow-wrap: anywhere; }
.card-body { color: #1d1c1d; margin-top: 4px; }
.card-actions { padding: 0 12px 4px; gap: 6px; }
.card-actions .button { padding: 0 10px; }
.footer { margin: 18px 0 0 44px; color: #9a9a9a; font-size: 11px; }
`;

function messageHtml(message: { blocks: types.KnownBlock[] }, pictures: Pictures, options: { ephemeral: boolean; time: string }): string {
  const ephemeral = options.ephemeral ? `<div class="ephemeral">${EYE}<span>Only visible to you</span></div>` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><style>${STYLE}</style></head><body><div class="pane">
${ephemeral}<div class="message">${AVATAR}<div class="content">
<div class="header"><span class="name">findimage</span><span class="badge">APP</span><span class="time">${options.time}</span></div>
${message.blocks.map((block) => blockHtml(block, pictures)).join('\n')}
</div></div>
<div class="footer">${html(FOOTER)}</div></div></body></html>`;
}

// ---------------------------------------------------------------------------------------------
// Screenshots.

const execFileAsync = promisify(execFile);

/** Screenshots `page` with headless Chromium, trims the empty page around it, writes `name`. */
async function screenshot(work: string, name: string, page: string): Promise<void> {
  const htmlFile = path.join(work, `${name}.html`);
  const raw = path.join(work, `${name}.raw.png`);
  await writeFile(htmlFile, page);
  await execFileAsync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--user-data-dir=${path.join(work, 'profile')}`,
      `--screenshot=${raw}`,
      `--window-size=${WINDOW_WIDTH},${WINDOW_HEIGHT}`,
      pathToFileURL(htmlFile).href,
    ],
    { timeout: CHROMIUM_TIMEOUT_MS },
  );
  const white = { r: 255, g: 255, b: 255, alpha: 1 };
  const trimmed = await sharp(raw).trim({ background: '#ffffff', threshold: 2 }).toBuffer();
  const png = await sharp(trimmed)
    .extend({ top: MARGIN_PX, bottom: MARGIN_PX, left: MARGIN_PX, right: MARGIN_PX, background: white })
    .png({ compressionLevel: 9, adaptiveFiltering: true })
    .toBuffer();
  if (png.length > MAX_PNG_BYTES) throw new Error(`${name}.png is ${png.length} bytes, over ${MAX_PNG_BYTES}`);
  const out = path.join(OUTPUT, `${name}.png`);
  await writeFile(out, png);
  console.log(`${path.relative(ROOT, out)}: ${(png.length / 1024).toFixed(0)} KB`);
}

async function main(): Promise<void> {
  const { page, pictures } = await examplePage();
  const options: RenderOptions = { layout: 'carousel', noPicture: new Set() };
  const best = page.hits[0];
  if (best === undefined) throw new Error('the example page has no hits');
  const messages = {
    'slack-preview': { message: renderPreview(page, [], options), ephemeral: true, time: '10:42 AM' },
    'slack-sent': { message: renderSentImage(page.query, best, SEARCHER, options), ephemeral: false, time: '10:43 AM' },
    'slack-shared-page': { message: renderSharedPage(page, SEARCHER, options), ephemeral: false, time: '10:44 AM' },
  };
  const work = await mkdtemp(path.join(tmpdir(), 'findimage-slack-render-'));
  for (const [name, { message, ephemeral, time }] of Object.entries(messages)) {
    await writeFile(path.join(work, `${name}.json`), JSON.stringify({ text: message.text, blocks: message.blocks }, null, 2));
    await screenshot(work, name, messageHtml(message, pictures, { ephemeral, time }));
  }
  console.log(`HTML and Block Kit JSON kept in ${work}`);
}

await main();
