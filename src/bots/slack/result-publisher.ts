// Posts a page of results: the header message in the channel, then one thread message per result
// (each recorded as exactly one (query, image) pair so a reaction on it becomes a label).
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { LabelStore } from '../../core/labels/label-store.js';
import {
  renderResultMessage,
  renderResultsHeader,
  type ResultLayout,
  type ResultsView,
  type SlackMessage,
} from './result-blocks.js';
import { asSlackApiError, isSlackError } from './slack-api-error.js';

export interface ResultPublisherOptions {
  client: webApi.WebClient;
  labels: LabelStore;
  logger: Logger;
}

/** How the header is rendered, most to least capable; Slack's invalid_blocks moves down a step. */
const HEADER_RENDERINGS: ReadonlyArray<{ layout: ResultLayout; withImages: boolean }> = [
  { layout: 'carousel', withImages: true },
  { layout: 'blocks', withImages: true },
  { layout: 'blocks', withImages: false },
];

export class ResultPublisher {
  readonly #client: webApi.WebClient;
  readonly #labels: LabelStore;
  readonly #logger: Logger;
  /** Index into HEADER_RENDERINGS; once a workspace refuses carousels, the fallback sticks. */
  #firstRendering = 0;

  constructor(options: ResultPublisherOptions) {
    this.#client = options.client;
    this.#labels = options.labels;
    this.#logger = options.logger;
  }

  /** Posts a first page in `channel`; resolves to the header message's ts. Throws SlackApiError. */
  async post(tenant: string, channel: string, view: ResultsView): Promise<string> {
    const ts = await this.#sendHeader(view, async (message) => {
      const response = await this.#client.chat.postMessage({ channel, ...message, unfurl_links: false, unfurl_media: false });
      return String(response.ts);
    });
    await this.#postThread(tenant, channel, ts, view);
    return ts;
  }

  /** Replaces the header `headerTs` with another page and adds that page's results to the thread. */
  async update(tenant: string, channel: string, headerTs: string, view: ResultsView): Promise<void> {
    await this.#sendHeader(view, async (message) => {
      await this.#client.chat.update({ channel, ts: headerTs, ...message });
      return headerTs;
    });
    await this.#postThread(tenant, channel, headerTs, view);
  }

  async #sendHeader(view: ResultsView, send: (message: SlackMessage) => Promise<string>): Promise<string> {
    for (let i = this.#firstRendering; ; i++) {
      const rendering = HEADER_RENDERINGS[i];
      if (rendering === undefined) throw new Error('no header rendering left');
      try {
        const ts = await send(renderResultsHeader(view, rendering.layout, rendering.withImages));
        if (rendering.layout !== 'carousel' && this.#firstRendering === 0) {
          // Slack refused the carousel but took image blocks: carousels are off for this workspace.
          this.#firstRendering = 1;
        }
        return ts;
      } catch (error) {
        if (!isSlackError(error, 'invalid_blocks') || i + 1 >= HEADER_RENDERINGS.length) {
          throw asSlackApiError(error, 'posting the results');
        }
        this.#logger.warn({ layout: rendering.layout, withImages: rendering.withImages }, 'Slack refused the results layout; falling back');
      }
    }
  }

  /** Posts each hit not yet in the thread as its own message, and records which pair it shows. */
  async #postThread(tenant: string, channel: string, headerTs: string, view: ResultsView): Promise<void> {
    const shown = new Set((await this.#labels.resultMessagesForQuery(tenant, view.queryId)).map((m) => m.imageId));
    for (const hit of view.hits) {
      if (shown.has(hit.imageId)) continue;
      const ts = await this.#postResult(channel, headerTs, renderResultMessage(hit, view), () =>
        renderResultMessage(hit, view, false),
      );
      await this.#labels.recordResultMessage({
        tenant,
        conversation: channel,
        messageId: ts,
        queryId: view.queryId,
        imageId: hit.imageId,
        rank: hit.rank,
        score: hit.score,
      });
    }
  }

  async #postResult(channel: string, threadTs: string, message: SlackMessage, withoutImage: () => SlackMessage): Promise<string> {
    const post = async (m: SlackMessage) =>
      String((await this.#client.chat.postMessage({ channel, thread_ts: threadTs, ...m, unfurl_links: false, unfurl_media: false })).ts);
    try {
      return await post(message);
    } catch (error) {
      if (!isSlackError(error, 'invalid_blocks')) throw asSlackApiError(error, 'posting the results');
      this.#logger.warn('Slack refused a result image; posting the result without it');
      try {
        return await post(withoutImage());
      } catch (again) {
        throw asSlackApiError(again, 'posting the results');
      }
    }
  }
}
