// Images posted in Discord go into the durable upload queue: each image attachment of a message
// is downloaded at once (its signed link expires) and enqueued with the guild as tenant and the
// channel, author, message and attachment as its share. The uploader hears only about failures,
// in one reply per message; a message whose images were indexed gets a 🖼️ reaction once.
import { Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import type { ShareDeletions } from '../../core/conversations/share-deletions.js';
import { FindimageError, asFindimageError } from '../../core/errors.js';
import type { UploadOutcome, UploadQueue } from '../../core/indexing/upload-queue.js';
import type { DiscordPlace } from './channel-visibility.js';
import { asDiscordApiError, plainText } from './discord-api-error.js';
import { isImageAttachment, type AttachmentDownloader, type AttachmentRef } from './attachment-download.js';
import { NO_MENTIONS } from './result-components.js';

/** The `source` of images indexed from Discord. */
export const DISCORD_SOURCE = 'discord';
/** Reaction added to a message whose images were indexed. */
export const INDEXED_REACTION = '🖼️';
/** Failures listed in one reply; a message holds at most 10 attachments. */
const MAX_LISTED_FAILURES = 10;
const SHOWN_NAME_CHARS = 100;

/** A message with attachments. */
export interface DiscordUpload {
  place: DiscordPlace;
  messageId: string;
  /** Author's user id. */
  author: string;
  sharedAt: Date;
  /** Jump link to the message. */
  permalink: string;
  attachments: AttachmentRef[];
}

/** What became of one attachment at intake. */
export type AttachmentIntakeResult =
  | { attachment: AttachmentRef; jobId: string; outcome?: Promise<UploadOutcome> }
  | { attachment: AttachmentRef; error: FindimageError };

/** A live message whose attachments are being indexed: answered once, when the last is done. */
export interface LiveMessage {
  channelId: string;
  messageId: string;
  pending: Set<string>;
  failures: Array<{ name: string; error: FindimageError }>;
  indexed: boolean;
}

export interface AttachmentIntakeOptions {
  rest: REST;
  uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  downloader: AttachmentDownloader;
  deletions: ShareDeletions;
  logger: Logger;
}

export class AttachmentIntake {
  readonly #rest: REST;
  readonly #uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  readonly #downloader: AttachmentDownloader;
  readonly #deletions: ShareDeletions;
  readonly #logger: Logger;
  readonly #live = new Map<string, LiveMessage>();
  readonly #waiters = new Map<string, (outcome: UploadOutcome) => void>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: AttachmentIntakeOptions) {
    this.#rest = options.rest;
    this.#uploads = options.uploads;
    this.#downloader = options.downloader;
    this.#deletions = options.deletions;
    this.#logger = options.logger;
  }

  start(): void {
    this.#unsubscribe ??= this.#uploads.onOutcome((outcome) => void this.#onOutcome(outcome));
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** A live message: queues its images and tells the uploader about failures. Never throws. */
  async accept(upload: DiscordUpload): Promise<void> {
    try {
      const live: LiveMessage = { channelId: upload.place.conversation, messageId: upload.messageId, pending: new Set(), failures: [], indexed: false };
      const results = await this.intake(upload, { live });
      if (results.length === 0) return;
      for (const result of results) if ('error' in result) live.failures.push({ name: result.attachment.name, error: result.error });
      if (live.pending.size === 0) await this.#finish(live);
    } catch (error) {
      this.#logger.error({ err: error, channel: upload.place.conversation, messageId: upload.messageId }, 'could not take in an upload');
    }
  }

  /**
   * Queues the image attachments of a message (others are skipped with a log line). With `track`
   * each queued one carries a promise of its outcome (the backfill's summary); with `live` its
   * jobs are registered to answer the uploader once.
   */
  async intake(upload: DiscordUpload, options: { track?: boolean; live?: LiveMessage } = {}): Promise<AttachmentIntakeResult[]> {
    const results: AttachmentIntakeResult[] = [];
    for (const attachment of upload.attachments) {
      if (!isImageAttachment(attachment)) {
        this.#logger.info({ attachmentId: attachment.id, contentType: attachment.contentType, channel: upload.place.conversation }, 'skipped an attachment that is not an image');
        continue;
      }
      try {
        const bytes = await this.#downloader.download(attachment);
        const jobId = this.#uploads.enqueue({
          bytes,
          filename: attachment.name,
          tenant: upload.place.tenant,
          source: DISCORD_SOURCE,
          createdAt: upload.sharedAt,
          share: {
            conversation: upload.place.conversation,
            isPublic: upload.place.isPublic,
            sharedAt: upload.sharedAt.toISOString(),
            messageId: upload.messageId,
            fileId: attachment.id,
            uploader: upload.author,
            permalink: upload.permalink,
          },
        });
        // Registered before any await, so a quick outcome is not missed.
        if (options.live !== undefined) {
          options.live.pending.add(jobId);
          this.#live.set(jobId, options.live);
        }
        const outcome = options.track === true ? new Promise<UploadOutcome>((resolve) => this.#waiters.set(jobId, resolve)) : undefined;
        results.push(outcome === undefined ? { attachment, jobId } : { attachment, jobId, outcome });
      } catch (error) {
        const reason = asFindimageError(error);
        this.#logger.info({ attachmentId: attachment.id, code: reason.code, reason: reason.message }, 'could not take in a posted image');
        results.push({ attachment, error: reason });
      }
    }
    return results;
  }

  async #onOutcome(outcome: UploadOutcome): Promise<void> {
    const waiter = this.#waiters.get(outcome.jobId);
    this.#waiters.delete(outcome.jobId);
    waiter?.(outcome);
    const live = this.#live.get(outcome.jobId);
    this.#live.delete(outcome.jobId);
    try {
      const share = outcome.image.share;
      const deletedMeanwhile =
        outcome.status !== 'rejected' &&
        outcome.image.source === DISCORD_SOURCE &&
        (await this.#deletions.recheck({ tenant: outcome.image.tenant, conversation: share?.conversation, messageId: share?.messageId, fileId: share?.fileId }));
      if (live === undefined) {
        this.#logger.info({ jobId: outcome.jobId, status: outcome.status, filename: outcome.image.filename }, 'queued upload finished');
        return;
      }
      live.pending.delete(outcome.jobId);
      if (outcome.status === 'rejected') live.failures.push({ name: outcome.image.filename, error: outcome.error });
      else if (!deletedMeanwhile) live.indexed = true;
      if (live.pending.size === 0) await this.#finish(live);
    } catch (error) {
      this.#logger.error({ err: error, jobId: outcome.jobId }, 'could not report an upload outcome');
    }
  }

  async #finish(message: LiveMessage): Promise<void> {
    if (message.failures.length > 0) await this.#replyFailures(message);
    if (message.indexed) {
      try {
        await this.#rest.put(Routes.channelMessageOwnReaction(message.channelId, message.messageId, encodeURIComponent(INDEXED_REACTION)));
      } catch (error) {
        this.#logger.warn({ err: asDiscordApiError(error, 'adding the indexed reaction'), channel: message.channelId }, 'could not add the indexed reaction');
      }
    }
  }

  async #replyFailures(message: LiveMessage): Promise<void> {
    const line = ({ name, error }: { name: string; error: FindimageError }) => `${plainText(name, SHOWN_NAME_CHARS)}: ${plainText(error.message, 300)}`;
    const { failures } = message;
    const content =
      failures.length === 1
        ? `⚠️ I couldn't index ${line(failures[0] as { name: string; error: FindimageError })}`
        : [`⚠️ I couldn't index ${failures.length} of the images in this message:`, ...failures.slice(0, MAX_LISTED_FAILURES).map((f) => `- ${line(f)}`)].join('\n');
    try {
      await this.#rest.post(Routes.channelMessages(message.channelId), {
        body: { content, allowed_mentions: { ...NO_MENTIONS, replied_user: false }, message_reference: { message_id: message.messageId, fail_if_not_exists: false } },
      });
    } catch (error) {
      // The failures are still in the log, so nothing is lost silently.
      this.#logger.warn(
        { err: asDiscordApiError(error, 'replying about an upload'), channel: message.channelId, files: failures.map((f) => f.name) },
        'could not tell the uploader why images were not indexed',
      );
    }
  }
}
