// Images shared in Slack go into the durable upload queue: each image file of a message is
// downloaded and enqueued with where it was shared (in fleet mode, enqueued as a reference to
// Slack's file, which the worker that indexes it downloads). The uploader hears only about
// failures, in one thread reply per message listing each file and why; a message whose images
// were indexed gets the configured reaction once.
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { FindimageError, asFindimageError, publicMessageOf } from '../../core/errors.js';
import type { RemoteFile } from '../../core/fleet/remote-file.js';
import type { ImageToIndex } from '../../core/indexing/image-indexer.js';
import { MessageUploads, type LiveMessage, type MessageSettlement, type UploadFailure } from '../../core/indexing/message-uploads.js';
import type { UploadOutcome, UploadQueue } from '../../core/indexing/upload-queue.js';
import type { ConversationDirectory, ConversationFacts } from './conversation-directory.js';
import { isImageFile, type SlackFileDownloader, type SlackFileRef } from './file-download.js';
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
  /** Reaction added to a message whose images were indexed; "" for none. */
  indexedReaction: string;
  logger: Logger;
  /**
   * Fleet mode: queue each image as a reference to Slack's file (checked for its declared size
   * and link, not downloaded); the worker that takes its job downloads it with its own bot token.
   * Default false: downloaded here, before it is queued.
   */
  byReference?: boolean;
}

/** Where the uploader of a live message is answered. */
interface ReplyPlace {
  /** Channel the message is in. */
  channel: string;
  /** The message's ts (the reaction goes on it). */
  messageTs: string;
  /** The thread the failures reply goes to. */
  threadTs: string;
}

/** The `source` of images indexed from Slack. */
const SLACK_SOURCE = 'slack';

/** Failures listed in one reply; a message holds at most a few dozen files. */
const MAX_LISTED_FAILURES = 20;

/** File name shown in a reply; Slack names can be long. */
const SHOWN_NAME_CHARS = 100;

export class UploadIntake {
  readonly #client: webApi.WebClient;
  readonly #uploads: Pick<UploadQueue, 'enqueue' | 'onOutcome'>;
  readonly #downloader: SlackFileDownloader;
  readonly #directory: ConversationDirectory;
  readonly #indexedReaction: string;
  readonly #logger: Logger;
  readonly #byReference: boolean;
  /** Messages shared while the bot ran, and jobs a backfill waits for. */
  readonly #messages: MessageUploads;

  constructor(options: UploadIntakeOptions) {
    this.#client = options.client;
    this.#uploads = options.uploads;
    this.#downloader = options.downloader;
    this.#directory = options.directory;
    this.#indexedReaction = options.indexedReaction;
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

  /** A live message with files: queues its images and tells the uploader about failures. Never throws. */
  async accept(upload: SlackUpload): Promise<void> {
    try {
      const place: ReplyPlace = { channel: upload.channel, messageTs: upload.ts, threadTs: upload.threadTs ?? upload.ts };
      const live = this.#messages.open((settlement) => this.#answer(place, settlement));
      const intakes = await this.intake(upload, { live });
      for (const intake of intakes) if ('error' in intake) live.refused(intake.file.name, intake.error);
      await live.close();
    } catch (error) {
      this.#logger.error({ err: error, channel: upload.channel, ts: upload.ts }, 'could not take in an upload');
    }
  }

  /**
   * Queues the image files of a message and says what became of each file. Files that are not
   * images are skipped with a log line; nothing is indexed from a channel the bot is not in.
   * With `track`, each queued file carries a promise of its outcome (the backfill's summary).
   * With `live`, the message's queued jobs are registered there, to answer the uploader once.
   */
  async intake(upload: SlackUpload, options: { track?: boolean; live?: LiveMessage } = {}): Promise<FileIntake[]> {
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
        const jobId = this.#uploads.enqueue({
          ...(await this.#contentOf(file)),
          filename: file.name,
          tenant: upload.tenant,
          source: SLACK_SOURCE,
          createdAt: dateOfTs(upload.ts),
          share: {
            conversation: upload.channel,
            // Only a conversation Slack says is public is public; unknown facts count as private.
            isPublic: facts?.isPublic === true,
            sharedAt: dateOfTs(upload.ts).toISOString(),
            messageId: upload.ts,
            fileId: file.id,
            ...(upload.user === undefined ? {} : { uploader: upload.user }),
            ...(file.permalink === undefined ? {} : { permalink: file.permalink }),
          },
        });
        // Registered before any await, so an outcome that comes quickly is not missed.
        options.live?.queued(jobId);
        const outcome = options.track === true ? this.#messages.outcomeOf(jobId) : undefined;
        results.push(outcome === undefined ? { file, jobId } : { file, jobId, outcome });
      } catch (error) {
        const reason = asFindimageError(error);
        this.#logger.info({ fileId: file.id, code: reason.code, reason: reason.message }, 'could not take in a shared image');
        results.push({ file, error: reason });
      }
    }
    return results;
  }

  /** The file's bytes, or in fleet mode (byReference) a checked reference a worker downloads. */
  async #contentOf(file: SlackFileRef): Promise<Pick<ImageToIndex, 'bytes' | 'remote'>> {
    if (!this.#byReference) return { bytes: await this.#downloader.download(file) };
    const url = this.#downloader.checkReference(file);
    const remote: RemoteFile = { platform: 'slack', url, name: file.name, mimetype: file.mimetype, fileId: file.id, ...(file.size === undefined ? {} : { size: file.size }) };
    return { bytes: new Uint8Array(0), remote };
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

  /** Every file of a live message is done: one reply for the failures, one reaction for the rest. */
  async #answer(place: ReplyPlace, { failures, indexed }: MessageSettlement): Promise<void> {
    if (failures.length > 0) await this.#replyFailures(place, failures);
    if (indexed && this.#indexedReaction !== '') await this.#react(place.channel, place.messageTs);
  }

  async #replyFailures(message: ReplyPlace, failures: readonly UploadFailure[]): Promise<void> {
    const line = ({ filename, error }: UploadFailure) =>
      `${escapeAndTruncate(filename, SHOWN_NAME_CHARS)}: ${escapeMrkdwn(publicMessageOf(error))}`;
    const text =
      failures.length === 1
        ? `:warning: I couldn't index ${line(failures[0] as UploadFailure)}`
        : [
            `:warning: I couldn't index ${failures.length} of the files in this message:`,
            ...failures.slice(0, MAX_LISTED_FAILURES).map((failure) => `• ${line(failure)}`),
            ...(failures.length > MAX_LISTED_FAILURES ? [`…and ${failures.length - MAX_LISTED_FAILURES} more.`] : []),
          ].join('\n');
    try {
      await this.#client.chat.postMessage({ channel: message.channel, thread_ts: message.threadTs, text, unfurl_links: false });
    } catch (postError) {
      // The failures are still in the log, so nothing is lost silently.
      this.#logger.warn(
        { err: asSlackApiError(postError, 'replying about an upload'), channel: message.channel, files: failures.map((f) => f.filename) },
        'could not tell the uploader why images were not indexed',
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
