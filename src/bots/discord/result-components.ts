// Search results as Discord Components V2 messages: the private preview (a media gallery of the
// page, one line and a row of buttons per result, paging) and a sent image, plus the custom ids
// that carry a button's target. Every message goes out with no allowed mentions.
import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIMessageTopLevelComponent,
} from 'discord.js';
import type { SessionPage, ShownHit } from '../../core/conversations/search-sessions.js';
import type { LabelValue, QueryRecord } from '../../core/labels/label-store.js';
import { plainText } from './discord-api-error.js';

/** Discord's limit on a custom id. */
export const MAX_CUSTOM_ID_CHARS = 100;
/** Discord's limit on a text display's content (a message's text in all). */
export const MAX_TEXT_CHARS = 4_000;
/** Query text shown in a heading; the whole query is in the log. */
const SHOWN_QUERY_CHARS = 200;
const SHOWN_NAME_CHARS = 100;
const PREFIX = 'fi';

/** No @everyone, role or user ping, whatever a query or file name holds. */
export const NO_MENTIONS = { parse: [] as [] };

/** What a result's buttons point at. */
export interface HitTarget {
  queryId: string;
  imageId: string;
  /** Rank and score as first shown (kept with a label). */
  rank: number;
  score: number;
}

/** A parsed custom id; undefined for one that is not findimage's or is malformed. */
export type ButtonTarget =
  | { kind: 'page'; queryId: string; page: number }
  | { kind: 'vote'; value: LabelValue; target: HitTarget }
  | { kind: 'send'; target: HitTarget }
  | { kind: 'like'; imageId: string };

const UUID = '[0-9a-f-]{36}';
const HIT = `(${UUID}):(${UUID}):(\\d{1,4}):(-?\\d+(?:\\.\\d+)?)`;
const PATTERNS = {
  page: new RegExp(`^${PREFIX}:page:(${UUID}):(\\d{1,4})$`),
  vote: new RegExp(`^${PREFIX}:vote:(up|down):${HIT}$`),
  send: new RegExp(`^${PREFIX}:send:${HIT}$`),
  like: new RegExp(`^${PREFIX}:like:(${UUID})$`),
};

function hitId(target: HitTarget): string {
  return `${target.queryId}:${target.imageId}:${target.rank}:${target.score.toFixed(4)}`;
}

function hitOf(match: RegExpExecArray, from: number): HitTarget {
  return { queryId: match[from] ?? '', imageId: match[from + 1] ?? '', rank: Number(match[from + 2]), score: Number(match[from + 3]) };
}

/** Reads a button's custom id. */
export function parseCustomId(customId: string): ButtonTarget | undefined {
  let m = PATTERNS.page.exec(customId);
  if (m !== null) return { kind: 'page', queryId: m[1] ?? '', page: Number(m[2]) };
  m = PATTERNS.vote.exec(customId);
  if (m !== null) return { kind: 'vote', value: m[1] === 'up' ? 1 : -1, target: hitOf(m, 2) };
  m = PATTERNS.send.exec(customId);
  if (m !== null) return { kind: 'send', target: hitOf(m, 1) };
  m = PATTERNS.like.exec(customId);
  if (m !== null) return { kind: 'like', imageId: m[1] ?? '' };
  return undefined;
}

/** Whether a custom id is findimage's (stale ones included): others belong to another app. */
export function isOurs(customId: string): boolean {
  return customId.startsWith(`${PREFIX}:`);
}

function button(customId: string, label: string, style: ButtonStyle.Primary | ButtonStyle.Secondary, emoji?: string): APIButtonComponent {
  if (customId.length > MAX_CUSTOM_ID_CHARS) throw new Error(`custom id over ${MAX_CUSTOM_ID_CHARS} characters: ${customId}`);
  return { type: ComponentType.Button, custom_id: customId, label, style, ...(emoji === undefined ? {} : { emoji: { name: emoji } }) };
}

function row(buttons: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> {
  return { type: ComponentType.ActionRow, components: buttons };
}

function text(content: string): APIMessageTopLevelComponent {
  return { type: ComponentType.TextDisplay, content: content.slice(0, MAX_TEXT_CHARS) };
}

/** "score 0.93 · <@U> in <#C> · 2026-01-15": mentions render as names and, with NO_MENTIONS, never ping. */
export function hitDetails(hit: ShownHit): string {
  const parts = [`score ${hit.score.toFixed(2)}`];
  const share = hit.share;
  if (share?.uploader !== undefined) parts.push(`<@${share.uploader}>`);
  if (share !== undefined) parts.push(`in <#${share.conversation}>`);
  parts.push((share?.sharedAt ?? hit.payload.createdAt).slice(0, 10));
  return parts.join(' · ');
}

function queryLabel(query: QueryRecord): string {
  return query.kind === 'text' ? `“${plainText(query.text, SHOWN_QUERY_CHARS)}”` : `images like ${plainText(query.text, SHOWN_NAME_CHARS)}`;
}

function gallery(hits: readonly ShownHit[], urls: ReadonlyMap<string, string>): APIMessageTopLevelComponent[] {
  const items = hits.flatMap((hit) => {
    const url = urls.get(hit.imageId);
    return url === undefined ? [] : [{ media: { url }, description: `#${hit.rank} ${hit.payload.filename}`.slice(0, 1_024) }];
  });
  return items.length === 0 ? [] : [{ type: ComponentType.MediaGallery, items }];
}

/** A Components V2 message body (flags and components); the caller adds ephemeral when private. */
export interface RenderedMessage {
  flags: number;
  components: APIMessageTopLevelComponent[];
  allowedMentions: typeof NO_MENTIONS;
}

/**
 * The private preview of a page: heading, gallery, one line and button row per result, paging.
 * At most 1 + 1 + 5 × 6 + 3 = 35 components, under Discord's 40.
 */
export function renderPreview(page: SessionPage, notes: readonly string[], urls: ReadonlyMap<string, string>): RenderedMessage {
  const { query } = page;
  const heading = [`### Results for ${queryLabel(query)}`, `-# Page ${page.page + 1} · only you can see this until you press Send`, ...notes.map((n) => `-# ${n}`)];
  const components: APIMessageTopLevelComponent[] = [text(heading.join('\n')), ...gallery(page.hits, urls)];
  for (const hit of page.hits) {
    const target = hitId({ queryId: query.queryId, imageId: hit.imageId, rank: hit.rank, score: hit.score });
    components.push(text(`**#${hit.rank}** ${plainText(hit.payload.filename, SHOWN_NAME_CHARS)}\n-# ${hitDetails(hit)}`));
    components.push(
      row([
        button(`${PREFIX}:vote:up:${target}`, 'Good match', ButtonStyle.Secondary, '👍'),
        button(`${PREFIX}:vote:down:${target}`, 'Bad match', ButtonStyle.Secondary, '👎'),
        button(`${PREFIX}:send:${target}`, 'Send', ButtonStyle.Primary),
        button(`${PREFIX}:like:${hit.imageId}`, 'More like this', ButtonStyle.Secondary),
      ]),
    );
  }
  const paging: APIButtonComponent[] = [];
  if (page.page > 0) paging.push(button(`${PREFIX}:page:${query.queryId}:${page.page - 1}`, 'Previous', ButtonStyle.Secondary, '◀️'));
  if (page.hasMore) paging.push(button(`${PREFIX}:page:${query.queryId}:${page.page + 1}`, 'Next', ButtonStyle.Secondary, '▶️'));
  if (paging.length > 0) components.push(row(paging));
  return { flags: MessageFlags.IsComponentsV2, components, allowedMentions: NO_MENTIONS };
}

/** The message Send posts: one image, who sent it for which query, and how to vote on it. */
export function renderSentImage(query: QueryRecord, hit: ShownHit, sender: string, url: string | undefined): RenderedMessage {
  const components: APIMessageTopLevelComponent[] = [
    text(`**${plainText(hit.payload.filename, SHOWN_NAME_CHARS)}**\n-# sent by <@${sender}> for ${queryLabel(query)} · ${hitDetails(hit)}`),
    ...gallery([hit], url === undefined ? new Map() : new Map([[hit.imageId, url]])),
    text('-# React 👍 or 👎 to say whether it matches the search.'),
  ];
  return { flags: MessageFlags.IsComponentsV2, components, allowedMentions: NO_MENTIONS };
}
