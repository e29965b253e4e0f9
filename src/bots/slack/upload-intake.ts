// Images shared in Slack go into the durable upload queue: each image file of a message is
// downloaded and enqueued with where it came from. The uploader hears only about failures (a
// thread reply saying why); a success gets at most the configured reaction.
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { FindimageError, asFindimageError } from '../../core/errors.js';
import type { UploadOutcome, UploadQueue } from '../../core/indexing/upload-queue.js';
import type { ConversationDirectory, ConversationFacts } from './conversation-directory.js';
import type { DeletionSync } from './deletion-sync.js';
import { isImageFile, type SlackFileDownloader, type SlackFileRef } from './file-download.js';
import { isPublicSource } from './permission-scope.js';
import { asSlackApiError, isSlackError } from './slack-api-error.js';
import { escapeAndTruncate, escapeMrkdwn } from './slack-text.js';

/** A message that shared files. */
export interface SlackUpload {
  /** Team id. */
  tenant: string;
  /** Channel it was shared in. */
  channel: string;
  /** The message's ts (its id within the channel). */
  ts: string;
  /** The thread the message is in, if any (replies go there). */
  threadTs?: string;
  /** Who shared it. */
  user?: string;
  /** Its files, images or not. */
  files: SlackFileRef[];
}

/** What became of one file of an upload at intake. */
export type FileIntake =
  /** Queued; with `track`, `outcome` resolves once the queue has indexed or rejected it. */
  | { file: SlackFileRef; jobId: string; outcome?: Promise<UploadOutcome> }
  /** Not queued; `error.message` says why (it was not an image, too large, not downloadable). */
  | { file: SlackFileRef; error: FindimageError };

export interface UploadIntakeOptions {
  client: webApi.WebClient;
  uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  downloader: SlackFileDownloader;
  directory: ConversationDirectory;
  deletions: DeletionSync;
  /** Reaction added to a message whose images were indexed; "" for none. */
  indexedReaction: string;
  logger: Logger;
}

/** Where to answer about a live upload once the queue has dealt with it. */
interface LiveUpload {
  channel: string;
  messageTs: string;
  threadTs: string;
  filename: string;
}

/** File name shown in a reply; Slack names can be long. */
const SHOWN_NAME_CHARS = 100;

export class UploadIntake {
  readonly #client: webApi.WebClient;
  readonly #uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  readonly #downloader: SlackFileDownloader;
  readonly #directory: ConversationDirectory;
  readonly #deletions: DeletionSync;
  readonly #indexedReaction: string;
  readonly #logger: Logger;
  /** Jobs of uploads shared while the bot ran; after a restart their outcome is only logged. */
  readonly #live = new Map<string, LiveUpload>();
  readonly #waiters = new Map<string, (outcome: UploadOutcome) => void>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: UploadIntakeOptions) {
    this.#client = options.client;
    this.#uploads = options.uploads;
    this.#downloader = options.downloader;
    this.#directory = options.directory;
    this.#deletions = options.deletions;
    this.#indexedReaction = options.indexedReaction;
    this.#logger = options.logger;
  }

  /** Starts listening to the queue's outcomes. */
  start(): void {
    this.#unsubscribe ??= this.#uploads.onOutcome((outcome) => void this.#onOutcome(outcome));
  }

  /** Stops listening; queued uploads stay queued. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** A live message with files: queues its images and tells the uploader about failures. Never throws. */
  async accept(upload: SlackUpload): Promise<void> {
    try {
      const intakes = await this.intake(upload, { live: true });
      for (const intake of intakes) {
        if ('error' in intake) await this.#replyFailure(upload.channel, upload.threadTs ?? upload.ts, intake.file.name, intake.error);
      }
    } catch (error) {
      this.#logger.error({ err: error, channel: upload.channel, ts: upload.ts }, 'could not take in an upload');
    }
  }

  /**
   * Queues the image files of a message and says what became of each file. Files that are not
   * images are skipped with a log line; nothing is indexed from a channel the bot is not in.
   * With `track`, each queued file carries a promise of its outcome (the backfill's summary).
   * With `live`, the uploader is answered once the queue is done with each file.
   */
  async intake(upload: SlackUpload, options: { track?: boolean; live?: boolean } = {}): Promise<FileIntake[]> {
    const images = upload.files.filter((file) => {
      if (isImageFile(file)) return true;
      this.#logger.info({ fileId: file.id, mimetype: file.mimetype, channel: upload.channel }, 'skipped a shared file that is not an image');
      return false;
    });
    if (images.length === 0) return [];
    const facts = await this.#facts(upload.channel);
    if (facts?.isMember === false) {
      this.#logger.info({ channel: upload.channel }, 'not indexing files from a channel I am not a member of');
      return [];
    }
    const results: FileIntake[] = [];
    for (const file of images) {
      if (file.mode === 'tombstone' || file.mode === 'external') {
        this.#logger.info({ fileId: file.id, mode: file.mode }, 'skipped a deleted or external file');
        continue;
      }
      try {
        const bytes = await this.#downloader.download(file);
        const jobId = this.#uploads.enqueue({
          bytes,
          filename: file.name,
          tenant: upload.tenant,
          source: 'slack',
          createdAt: dateOfTs(upload.ts),
          channel: upload.channel,
          channelIsPublic: isPublicSource(facts),
          ...(upload.user === undefined ? {} : { uploader: upload.user }),
          messageId: upload.ts,
          fileId: file.id,
          ...(file.permalink === undefined ? {} : { permalink: file.permalink }),
        });
        // Registered before any await, so an outcome that comes quickly is not missed.
        if (options.live === true) {
          this.#live.set(jobId, { channel: upload.channel, messageTs: upload.ts, threadTs: upload.threadTs ?? upload.ts, filename: file.name });
        }
        const outcome =
          options.track === true ? new Promise<UploadOutcome>((resolve) => this.#waiters.set(jobId, resolve)) : undefined;
        results.push(outcome === undefined ? { file, jobId } : { file, jobId, outcome });
      } catch (error) {
        const reason = asFindimageError(error);
        this.#logger.info({ fileId: file.id, code: reason.code, reason: reason.message }, 'could not take in a shared image');
        results.push({ file, error: reason });
      }
    }
    return results;
  }

  async #facts(channel: string): Promise<ConversationFacts | undefined> {
    try {
      return await this.#directory.lookup(channel);
    } catch (error) {
      // Indexed as not public: its images then show only in this conversation.
      this.#logger.warn({ err: error, channel }, 'could not look up the conversation; indexing its images as private');
      return undefined;
    }
  }

  async #onOutcome(outcome: UploadOutcome): Promise<void> {
    const waiter = this.#waiters.get(outcome.jobId);
    this.#waiters.delete(outcome.jobId);
    waiter?.(outcome);
    const live = this.#live.get(outcome.jobId);
    this.#live.delete(outcome.jobId);
    try {
      if (outcome.status !== 'rejected' && outcome.image.source === 'slack' && (await this.#deletions.recheck(outcome.image))) {
        return;
      }
      if (live === undefined) {
        this.#logger.info({ jobId: outcome.jobId, status: outcome.status, filename: outcome.image.filename }, 'queued upload finished');
        return;
      }
      if (outcome.status === 'rejected') {
        await this.#replyFailure(live.channel, live.threadTs, live.filename, outcome.error);
      } else if (this.#indexedReaction !== '') {
        await this.#react(live.channel, live.messageTs);
      }
    } catch (error) {
      this.#logger.error({ err: error, jobId: outcome.jobId }, 'could not report an upload outcome');
    }
  }

  async #replyFailure(channel: string, threadTs: string, filename: string, error: FindimageError): Promise<void> {
    const name = escapeAndTruncate(filename, SHOWN_NAME_CHARS);
    try {
      await this.#client.chat.postMessage({
        channel,
        thread_ts: threadTs,
        text: `:warning: I couldn't index ${name}: ${escapeMrkdwn(error.message)}`,
        unfurl_links: false,
      });
    } catch (postError) {
      // The failure is still in the log, so nothing is lost silently.
      this.#logger.warn(
        { err: asSlackApiError(postError, 'replying about an upload'), channel, filename, reason: error.message },
        'could not tell the uploader why an image was not indexed',
      );
    }
  }

  async #react(channel: string, timestamp: string): Promise<void> {
    try {
      await this.#client.reactions.add({ channel, timestamp, name: this.#indexedReaction });
    } catch (error) {
      // Several images in one message: the second reaction is already there.
      if (isSlackError(error, 'already_reacted')) return;
      this.#logger.warn({ err: asSlackApiError(error, 'adding the indexed reaction'), channel }, 'could not add the indexed reaction');
    }
  }
}

/** A Slack ts ("1770000001.000100") is seconds since the epoch. */
export function dateOfTs(ts: string): Date {
  const seconds = Number(ts);
  return Number.isFinite(seconds) ? new Date(Math.floor(seconds * 1000)) : new Date();
}
