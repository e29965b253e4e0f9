// Walks a Discord channel's history, newest to oldest, and queues every image attachment with
// the same intake as live messages. The cursor (the oldest message id walked) is saved after
// each page, so a backfill stopped by a crash, a restart or an API error resumes where it was;
// a finished one remembers the newest message, and the next walks only what came after.
// Rate limits are obeyed by discord.js's REST client (it waits each 429's retry_after).
import { Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import { ConfigError } from '../../core/errors.js';
import type { UploadOutcome } from '../../core/indexing/upload-queue.js';
import type { BackfillProgressStore, BackfillState } from '../../core/conversations/backfill-progress.js';
import type { AttachmentIntake } from './attachment-intake.js';
import type { AttachmentRef } from './attachment-download.js';
import type { DiscordPlace } from './channel-visibility.js';

/** Discord's largest page of channel messages. */
export const MAX_HISTORY_PAGE = 100;

/** How far a backfill got. */
export interface BackfillProgress {
  messagesSeen: number;
  filesQueued: number;
  /** True when this run continued an earlier, interrupted one. */
  resumed: boolean;
}

/** What a finished backfill did (outcomes of this run's uploads). */
export interface BackfillReport extends BackfillProgress {
  indexed: number;
  duplicates: number;
  rejected: Array<{ name: string; reason: string }>;
}

interface HistoryMessage {
  id: string;
  timestamp: string;
  author: { id: string; bot?: boolean };
  attachments?: Array<{ id: string; filename: string; size: number; url: string; content_type?: string }>;
}

export interface DiscordBackfillOptions {
  rest: REST;
  intake: AttachmentIntake;
  progress: BackfillProgressStore;
  logger: Logger;
  /** Messages per page (default MAX_HISTORY_PAGE). */
  pageSize?: number;
}

export class DiscordBackfill {
  readonly #rest: REST;
  readonly #intake: AttachmentIntake;
  readonly #progress: BackfillProgressStore;
  readonly #logger: Logger;
  readonly #pageSize: number;

  constructor(options: DiscordBackfillOptions) {
    this.#rest = options.rest;
    this.#intake = options.intake;
    this.#progress = options.progress;
    this.#logger = options.logger;
    this.#pageSize = Math.min(options.pageSize ?? MAX_HISTORY_PAGE, MAX_HISTORY_PAGE);
  }

  /**
   * Walks `place`'s history (resuming a stopped walk); throws on an API error after saving the
   * cursor, and ConfigError when another findimage replica walks the channel now.
   */
  async run(place: DiscordPlace, guildId: string | null, onProgress: (progress: BackfillProgress) => void = () => undefined): Promise<BackfillReport> {
    // A fleet's replicas share the cursor: two walking one channel would read it twice.
    const lease = await this.#progress.lease(place.tenant, place.conversation);
    if (lease === undefined) {
      throw new ConfigError("I'm already indexing that channel on another findimage replica; try again when that is done.", {
        details: { channel: place.conversation },
      });
    }
    try {
      return await this.#walk(place, guildId, onProgress);
    } finally {
      await lease.release();
    }
  }

  async #walk(place: DiscordPlace, guildId: string | null, onProgress: (progress: BackfillProgress) => void): Promise<BackfillReport> {
    const saved = await this.#progress.get(place.tenant, place.conversation);
    const resumed = saved?.status === 'running';
    const state: BackfillState = resumed
      ? saved
      : { tenant: place.tenant, channel: place.conversation, status: 'running', messagesSeen: 0, filesQueued: 0, ...(saved?.newestTs === undefined ? {} : { oldest: saved.newestTs }) };
    await this.#progress.save(state);
    const outcomes: Array<{ name: string; outcome: Promise<UploadOutcome> }> = [];
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.#pageSize), ...(state.cursor === undefined ? {} : { before: state.cursor }) });
      const page = (await this.#rest.get(Routes.channelMessages(place.conversation), { query })) as HistoryMessage[];
      const fresh = page.filter((m) => state.oldest === undefined || BigInt(m.id) > BigInt(state.oldest));
      for (const message of fresh) {
        state.messagesSeen++;
        if (state.newestTs === undefined || BigInt(message.id) > BigInt(state.newestTs)) state.newestTs = message.id;
        const attachments = (message.attachments ?? []).map(refOf);
        if (message.author.bot === true || attachments.length === 0) continue;
        const results = await this.#intake.intake(
          {
            place,
            messageId: message.id,
            author: message.author.id,
            sharedAt: new Date(message.timestamp),
            permalink: `https://discord.com/channels/${guildId ?? '@me'}/${place.conversation}/${message.id}`,
            attachments,
          },
          { track: true },
        );
        for (const result of results) {
          if ('outcome' in result && result.outcome !== undefined) {
            state.filesQueued++;
            outcomes.push({ name: result.attachment.name, outcome: result.outcome });
          }
        }
      }
      const last = page.at(-1);
      const finished = page.length < this.#pageSize || fresh.length < page.length || last === undefined;
      if (!finished) state.cursor = last.id;
      if (finished) {
        state.status = 'done';
        delete state.cursor;
      }
      await this.#progress.save(state);
      onProgress({ messagesSeen: state.messagesSeen, filesQueued: state.filesQueued, resumed });
      if (finished) break;
    }
    const report: BackfillReport = { messagesSeen: state.messagesSeen, filesQueued: state.filesQueued, resumed, indexed: 0, duplicates: 0, rejected: [] };
    for (const { name, outcome } of outcomes) {
      const done = await outcome;
      if (done.status === 'rejected') report.rejected.push({ name, reason: done.error.message });
      else if (done.status === 'indexed') report.indexed++;
      else if (done.status === 'duplicate') report.duplicates++;
      // A withdrawn file (its message deleted meanwhile) is neither indexed nor refused.
    }
    this.#logger.info({ channel: place.conversation, ...report, rejected: report.rejected.length }, 'backfill finished');
    return report;
  }
}

function refOf(attachment: NonNullable<HistoryMessage['attachments']>[number]): AttachmentRef {
  return {
    id: attachment.id,
    name: attachment.filename,
    size: attachment.size,
    url: attachment.url,
    ...(attachment.content_type === undefined ? {} : { contentType: attachment.content_type }),
  };
}
