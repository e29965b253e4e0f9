// Images posted in Discord go into the durable upload queue: each image attachment of a message
// is downloaded at once (its signed link expires; in fleet mode it is enqueued as a reference
// instead, and the worker that indexes it downloads it, refreshing the link) and enqueued with the guild as tenant and the
// channel, author, message and attachment as its share. The uploader hears only about failures,
// in one reply per message; a message whose images were indexed gets a 🖼️ reaction once.
import { Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import { FindimageError, asFindimageError, publicMessageOf } from '../../core/errors.js';
import type { RemoteFile } from '../../core/fleet/remote-file.js';
import type { ImageToIndex } from '../../core/indexing/image-indexer.js';
import { MessageUploads, type LiveMessage, type MessageSettlement, type UploadFailure } from '../../core/indexing/message-uploads.js';
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

/** Where the uploader of a live message is answered. */
interface ReplyPlace {
  /** Channel the message is in. */
  channelId: string;
  /** The message the reply references and the reaction goes on. */
  messageId: string;
}

export interface AttachmentIntakeOptions {
  rest: REST;
  uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  downloader: AttachmentDownloader;
  logger: Logger;
  /**
   * Fleet mode: queue each image as a reference to its attachment (checked for its declared size
   * and link, not downloaded); the worker that takes its job downloads it with its own bot token.
   * Default false: downloaded here, before it is queued.
   */
  byReference?: boolean;
}

export class AttachmentIntake {
  readonly #rest: REST;
  readonly #uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  readonly #downloader: AttachmentDownloader;
  readonly #logger: Logger;
  readonly #byReference: boolean;
  /** Messages posted while the bot ran, and jobs a backfill waits for. */
  readonly #messages: MessageUploads;

  constructor(options: AttachmentIntakeOptions) {
    this.#rest = options.rest;
    this.#uploads = options.uploads;
    this.#downloader = options.downloader;
    this.#logger = options.logger;
    this.#byReference = options.byReference ?? false;
    this.#messages = new MessageUploads({ uploads: options.uploads, logger: options.logger });
  }

  /** Starts listening to the queue's outcomes. */
  start(): void {
    this.#messages.start();
  }

  /** Stops listening; queued uploads stay queued. */
  stop(): void {
    this.#messages.stop();
  }

  /** A live message: queues its images and tells the uploader about failures. Never throws. */
  async accept(upload: DiscordUpload): Promise<void> {
    try {
      const place: ReplyPlace = { channelId: upload.place.conversation, messageId: upload.messageId };
      const live = this.#messages.open((settlement) => this.#answer(place, settlement));
      const results = await this.intake(upload, { live });
      for (const result of results) if ('error' in result) live.refused(result.attachment.name, result.error);
      await live.close();
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
        const jobId = this.#uploads.enqueue({
          ...(await this.#contentOf(attachment)),
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
        options.live?.queued(jobId);
        const outcome = options.track === true ? this.#messages.outcomeOf(jobId) : undefined;
        results.push(outcome === undefined ? { attachment, jobId } : { attachment, jobId, outcome });
      } catch (error) {
        const reason = asFindimageError(error);
        this.#logger.info({ attachmentId: attachment.id, code: reason.code, reason: reason.message }, 'could not take in a posted image');
        results.push({ attachment, error: reason });
      }
    }
    return results;
  }

  /** The attachment's bytes, or in fleet mode (byReference) a checked reference a worker downloads. */
  async #contentOf(attachment: AttachmentRef): Promise<Pick<ImageToIndex, 'bytes' | 'remote'>> {
    if (!this.#byReference) return { bytes: await this.#downloader.download(attachment) };
    this.#downloader.checkReference(attachment);
    const remote: RemoteFile = {
      platform: 'discord',
      url: attachment.url,
      name: attachment.name,
      size: attachment.size,
      fileId: attachment.id,
      ...(attachment.contentType === undefined ? {} : { mimetype: attachment.contentType }),
    };
    return { bytes: new Uint8Array(0), remote };
  }

  /** Every attachment of a live message is done: one reply for the failures, one reaction for the rest. */
  async #answer(message: ReplyPlace, { failures, indexed }: MessageSettlement): Promise<void> {
    if (failures.length > 0) await this.#replyFailures(message, failures);
    if (indexed) {
      try {
        await this.#rest.put(Routes.channelMessageOwnReaction(message.channelId, message.messageId, encodeURIComponent(INDEXED_REACTION)));
      } catch (error) {
        this.#logger.warn({ err: asDiscordApiError(error, 'adding the indexed reaction'), channel: message.channelId }, 'could not add the indexed reaction');
      }
    }
  }

  async #replyFailures(message: ReplyPlace, failures: readonly UploadFailure[]): Promise<void> {
    const line = ({ filename, error }: UploadFailure) => `${plainText(filename, SHOWN_NAME_CHARS)}: ${plainText(publicMessageOf(error), 300)}`;
    const content =
      failures.length === 1
        ? `⚠️ I couldn't index ${line(failures[0] as UploadFailure)}`
        : [`⚠️ I couldn't index ${failures.length} of the images in this message:`, ...failures.slice(0, MAX_LISTED_FAILURES).map((f) => `- ${line(f)}`)].join('\n');
    try {
      await this.#rest.post(Routes.channelMessages(message.channelId), {
        body: { content, allowed_mentions: { ...NO_MENTIONS, replied_user: false }, message_reference: { message_id: message.messageId, fail_if_not_exists: false } },
      });
    } catch (error) {
      // The failures are still in the log, so nothing is lost silently.
      this.#logger.warn(
        { err: asDiscordApiError(error, 'replying about an upload'), channel: message.channelId, files: failures.map((f) => f.filename) },
        'could not tell the uploader why images were not indexed',
      );
    }
  }
}
