// Delivers rendered results to Slack: privately through a response_url (previews and their
// pages), or into a conversation with chat.postMessage (a sent image, a shared page), at most one
// message a second per conversation. When Slack refuses a block, only what it names is dropped (one
// picture, or the carousel for that workspace) and the message is sent again.
import type { RespondFn, webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { RenderOptions, ResultLayout, SlackMessage } from './result-blocks.js';
import { asSlackApiError, isSlackError, slackApiError } from './slack-api-error.js';
import { ChannelPacer, type PostPacer } from '../../core/conversations/post-pacer.js';

export interface ResultPublisherOptions {
  client: webApi.WebClient;
  logger: Logger;
  /** Spacing of posts to one conversation (default CHANNEL_POST_INTERVAL_MS). */
  pacer?: PostPacer;
}

/** Tries of one message: each refusal drops something, so three cover picture, pictures, layout. */
const MAX_RENDER_ATTEMPTS = 4;
/** A JSON pointer in Slack's invalid_blocks messages: "... [json-pointer:/blocks/2/elements/0/hero_image/slack_file]". */
const JSON_POINTER = /json-pointer:(\/[^\]\s]*)/g;

/** A refusal of some blocks, with the pointers Slack named (possibly none). */
class BlocksRefused extends Error {
  constructor(
    readonly pointers: string[],
    readonly original: unknown,
  ) {
    super('Slack refused some blocks');
  }
}

export class ResultPublisher {
  readonly #client: webApi.WebClient;
  readonly #logger: Logger;
  readonly #pacer: PostPacer;
  /** Workspaces whose Slack refused a carousel: they get image blocks from then on. */
  readonly #noCarousel = new Set<string>();

  constructor(options: ResultPublisherOptions) {
    this.#client = options.client;
    this.#logger = options.logger;
    this.#pacer = options.pacer ?? new ChannelPacer();
  }

  /**
   * Shows a message only to the person who acted, through `respond`; with `replace`, in place of
   * the private message the button was on (Previous, Next). Throws SlackApiError.
   */
  async respondPrivately(tenant: string, respond: RespondFn, render: (options: RenderOptions) => SlackMessage, replace: boolean): Promise<void> {
    await this.#withFallback(tenant, render, async ({ text, blocks }) => {
      let response: Response;
      try {
        response = (await respond({
          response_type: 'ephemeral',
          replace_original: replace,
          text,
          blocks,
        })) as unknown as Response;
      } catch (error) {
        // A response_url answers 400 to blocks it refuses, without saying which.
        if (isStatus(error, 400)) throw new BlocksRefused([], error);
        throw asSlackApiError(error, 'showing the results');
      }
      const body = await bodyOf(response);
      if (body?.ok === false) {
        if (body.error === 'invalid_blocks') throw new BlocksRefused(pointersOf(body), body);
        throw slackApiError(String(body.error), 'showing the results');
      }
    });
  }

  /** Posts a message into `channel`, paced per conversation; resolves to its ts. Throws SlackApiError. */
  async post(tenant: string, channel: string, render: (options: RenderOptions) => SlackMessage): Promise<string> {
    let ts = '';
    await this.#withFallback(tenant, render, async ({ text, blocks }) => {
      await this.#pacer.turn(channel);
      try {
        const response = await this.#client.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
        ts = String(response.ts);
      } catch (error) {
        if (isSlackError(error, 'invalid_blocks')) throw new BlocksRefused(pointersOf((error as { data?: unknown }).data), error);
        throw asSlackApiError(error, 'posting the results');
      }
    });
    return ts;
  }

  /**
   * Sends `render`'s message; on a refusal, drops the pictures Slack named (or, when it named
   * none, every picture of this message), or the carousel for this workspace, and tries again.
   */
  async #withFallback(tenant: string, render: (options: RenderOptions) => SlackMessage, send: (message: SlackMessage) => Promise<void>): Promise<void> {
    const noPicture = new Set<string>();
    let layout: ResultLayout = this.#noCarousel.has(tenant) ? 'blocks' : 'carousel';
    for (let attempt = 1; ; attempt++) {
      const message = render({ layout, noPicture });
      try {
        await send(message);
        return;
      } catch (error) {
        if (!(error instanceof BlocksRefused) || attempt >= MAX_RENDER_ATTEMPTS) {
          throw error instanceof BlocksRefused ? asSlackApiError(error.original, 'posting the results') : error;
        }
        const named = error.pointers.flatMap((pointer) => picturesAt(message, pointer));
        const carouselRefused = error.pointers.some((pointer) => message.carousels.includes(pointer));
        if (carouselRefused) {
          this.#noCarousel.add(tenant);
          layout = 'blocks';
          this.#logger.warn({ tenant }, 'Slack refused the carousel in this workspace; showing results as image blocks from now on');
        } else if (named.length > 0) {
          for (const imageId of named) noPicture.add(imageId);
          this.#logger.warn({ tenant, images: named }, 'Slack refused a picture (deleted or not viewable file?); showing that result without it');
        } else if (message.pictures.size > 0) {
          for (const imageId of message.pictures.values()) noPicture.add(imageId);
          this.#logger.warn({ tenant, pointers: error.pointers }, 'Slack refused the message without naming a picture; sending it without pictures');
        } else if (layout === 'carousel' && message.carousels.length > 0) {
          layout = 'blocks';
          this.#logger.warn({ tenant }, 'Slack refused the message; trying image blocks instead of a carousel for this message');
        } else {
          throw asSlackApiError(error.original, 'posting the results');
        }
      }
    }
  }
}

/** The image ids whose picture sits at `pointer` or inside it. */
function picturesAt(message: SlackMessage, pointer: string): string[] {
  const found: string[] = [];
  for (const [at, imageId] of message.pictures) {
    if (pointer === at || pointer.startsWith(`${at}/`)) found.push(imageId);
  }
  return found;
}

/** The JSON pointers named in an invalid_blocks answer (`errors` or `response_metadata.messages`). */
function pointersOf(data: unknown): string[] {
  if (typeof data !== 'object' || data === null) return [];
  const record = data as { errors?: unknown; response_metadata?: { messages?: unknown } };
  const texts = [record.errors, record.response_metadata?.messages].flatMap((list) => (Array.isArray(list) ? list.map(String) : []));
  return [...new Set(texts.flatMap((text) => [...text.matchAll(JSON_POINTER)].map((match) => match[1] ?? '')))];
}

function isStatus(error: unknown, status: number): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === status;
}

/** The JSON body of a response_url answer, if it has one ("ok" as plain text has none). */
async function bodyOf(response: Response | undefined): Promise<{ ok?: boolean; error?: string } | undefined> {
  if (response === undefined || typeof response.text !== 'function') return undefined;
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as { ok?: boolean; error?: string }) : undefined;
  } catch {
    return undefined;
  }
}
