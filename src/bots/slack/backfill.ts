// Backfill: walks a channel's history page by page (conversations.history, cursor pagination),
// queues every image shared in it, saves the cursor after each page so a stopped walk resumes,
// and waits for the queue to say what became of each image for the final summary.
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { FindimageError, publicMessageOf } from '../../core/errors.js';
import type { UploadOutcome } from '../../core/indexing/upload-queue.js';
import type { BackfillProgressStore, BackfillState } from '../../core/conversations/backfill-progress.js';
import type { ConversationDirectory } from './conversation-directory.js';
import { fileRefsFrom } from './file-download.js';
import { asSlackApiError, slackApiError } from './slack-api-error.js';
import type { UploadIntake } from './upload-intake.js';

/** Messages per conversations.history page: Slack recommends no more than 200. */
export const DEFAULT_HISTORY_PAGE_SIZE = 200;
/**
 * How long the summary waits for queued images to be indexed. On 2 CPU cores the model indexes
 * about 10 to 20 images a second, so 30 minutes covers a channel of some 20,000 images; anything
 * still queued then is reported as pending and indexed anyway.
 */
export const OUTCOME_WAIT_MS = 30 * 60_000;
/** Reasons listed in a summary; the rest are counted. */
const MAX_LISTED_REJECTIONS = 10;

/** Progress after each page. */
export interface BackfillProgress {
  /** Messages read so far. */
  messagesSeen: number;
  /** Images queued so far. */
  filesQueued: number;
  /** Whether this run picked up a stopped one. */
  resumed: boolean;
}

/** A file a backfill could not index, and why: in full for the terminal, and as chat may show it. */
export interface RejectedFile {
  /** The file's name. */
  name: string;
  /** Why, in full (URLs and advice for an operator): for the terminal and the log. */
  reason: string;
  /** Why, as a channel may read it (no internal URLs). */
  publicReason: string;
}

function rejectedFile(name: string, error: FindimageError): RejectedFile {
  return { name, reason: error.message, publicReason: publicMessageOf(error) };
}

/** What a finished walk did. */
export interface BackfillReport extends BackfillProgress {
  /** Images newly indexed. */
  indexed: number;
  /** Images that were already in the index. */
  duplicates: number;
  /** Images still in the queue when the summary stopped waiting. */
  pending: number;
  /** Files refused at download or indexing, with why (the first few). */
  rejected: RejectedFile[];
  /** How many were refused in all. */
  rejectedCount: number;
}

export interface SlackBackfillOptions {
  client: webApi.WebClient;
  intake: UploadIntake;
  directory: ConversationDirectory;
  progress: BackfillProgressStore;
  logger: Logger;
  /** Defaults to DEFAULT_HISTORY_PAGE_SIZE. */
  pageSize?: number;
  /** Defaults to OUTCOME_WAIT_MS. */
  outcomeWaitMs?: number;
}

interface HistoryMessage {
  ts?: string;
  user?: string;
  thread_ts?: string;
  files?: unknown;
}

export class SlackBackfill {
  readonly #client: webApi.WebClient;
  readonly #intake: UploadIntake;
  readonly #directory: ConversationDirectory;
  readonly #progress: BackfillProgressStore;
  readonly #logger: Logger;
  readonly #pageSize: number;
  readonly #outcomeWaitMs: number;
  readonly #running = new Set<string>();

  constructor(options: SlackBackfillOptions) {
    this.#client = options.client;
    this.#intake = options.intake;
    this.#directory = options.directory;
    this.#progress = options.progress;
    this.#logger = options.logger;
    this.#pageSize = options.pageSize ?? DEFAULT_HISTORY_PAGE_SIZE;
    this.#outcomeWaitMs = options.outcomeWaitMs ?? OUTCOME_WAIT_MS;
  }

  /** Whether a backfill of this channel is running, in this process or on another replica. */
  async isRunning(tenant: string, channel: string): Promise<boolean> {
    return this.#running.has(`${tenant}:${channel}`) || (await this.#progress.walkedElsewhere(tenant, channel));
  }

  /**
   * Walks the channel's history and queues its images. Resumes a stopped walk from its cursor;
   * after a finished walk, only newer messages are read. Throws SlackApiError when Slack refuses
   * (the cursor stays saved, so running it again resumes).
   */
  async run(tenant: string, channel: string, onProgress?: (progress: BackfillProgress) => Promise<void>): Promise<BackfillReport> {
    const key = `${tenant}:${channel}`;
    if (this.#running.has(key)) {
      throw new FindimageError('platform_api', 'A backfill of that channel is already running.', { details: { channel } });
    }
    this.#running.add(key);
    try {
      // A fleet's replicas share the cursor: two walking one channel would read it twice.
      const lease = await this.#progress.lease(tenant, channel);
      if (lease === undefined) {
        throw new FindimageError('platform_api', 'A backfill of that channel is already running on another findimage replica; its progress is in the thread where it was started.', {
          details: { channel },
        });
      }
      try {
        return await this.#walk(tenant, channel, onProgress);
      } finally {
        await lease.release();
      }
    } finally {
      this.#running.delete(key);
    }
  }

  async #walk(tenant: string, channel: string, onProgress?: (progress: BackfillProgress) => Promise<void>): Promise<BackfillReport> {
    const facts = await this.#directory.lookup(channel);
    if (facts.isMember === false) {
      throw slackApiError('not_in_channel', 'reading the channel history');
    }
    const previous = await this.#progress.get(tenant, channel);
    const resumed = previous?.status === 'running';
    const state: BackfillState = resumed
      ? { ...previous }
      : {
          tenant,
          channel,
          status: 'running',
          messagesSeen: 0,
          filesQueued: 0,
          ...(previous?.newestTs === undefined ? {} : { oldest: previous.newestTs, newestTs: previous.newestTs }),
        };
    await this.#progress.save(state);
    this.#logger.info({ tenant, channel, resumed, cursor: state.cursor, oldest: state.oldest }, 'backfill started');

    const outcomes: Promise<UploadOutcome>[] = [];
    const rejected: RejectedFile[] = [];
    let rejectedCount = 0;
    for (;;) {
      let page;
      try {
        page = await this.#client.conversations.history({
          channel,
          limit: this.#pageSize,
          ...(state.cursor === undefined ? {} : { cursor: state.cursor }),
          ...(state.oldest === undefined ? {} : { oldest: state.oldest }),
        });
      } catch (error) {
        throw asSlackApiError(error, 'reading the channel history');
      }
      for (const message of (page.messages ?? []) as HistoryMessage[]) {
        state.messagesSeen++;
        if (message.ts === undefined) continue;
        if (state.newestTs === undefined || Number(message.ts) > Number(state.newestTs)) state.newestTs = message.ts;
        const files = fileRefsFrom(message.files);
        if (files.length === 0) continue;
        const intakes = await this.#intake.intake(
          {
            tenant,
            channel,
            ts: message.ts,
            ...(message.thread_ts === undefined ? {} : { threadTs: message.thread_ts }),
            ...(message.user === undefined ? {} : { user: message.user }),
            files,
          },
          { track: true },
        );
        for (const intake of intakes) {
          if ('jobId' in intake) {
            state.filesQueued++;
            if (intake.outcome !== undefined) outcomes.push(intake.outcome);
          } else {
            rejectedCount++;
            if (rejected.length < MAX_LISTED_REJECTIONS) rejected.push(rejectedFile(intake.file.name, intake.error));
          }
        }
      }
      const next = page.response_metadata?.next_cursor;
      if (next === undefined || next === '') {
        delete state.cursor;
        break;
      }
      state.cursor = next;
      await this.#progress.save(state);
      await onProgress?.({ messagesSeen: state.messagesSeen, filesQueued: state.filesQueued, resumed });
    }
    state.status = 'done';
    await this.#progress.save(state);
    this.#logger.info({ tenant, channel, messages: state.messagesSeen, queued: state.filesQueued }, 'backfill walked the history');

    const report: BackfillReport = {
      messagesSeen: state.messagesSeen,
      filesQueued: state.filesQueued,
      resumed,
      indexed: 0,
      duplicates: 0,
      pending: 0,
      rejected,
      rejectedCount,
    };
    await this.#tally(outcomes, report);
    return report;
  }

  async #tally(outcomes: Promise<UploadOutcome>[], report: BackfillReport): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#outcomeWaitMs);
      timer.unref();
    });
    try {
      for (const pending of outcomes) {
        const outcome = await Promise.race([pending, deadline]);
        if (outcome === 'timeout') {
          report.pending++;
        } else if (outcome.status === 'rejected') {
          report.rejectedCount++;
          if (report.rejected.length < MAX_LISTED_REJECTIONS) {
            report.rejected.push(rejectedFile(outcome.image.filename, outcome.error));
          }
        } else if (outcome.status === 'indexed') {
          report.indexed++;
        } else if (outcome.status === 'duplicate') {
          report.duplicates++;
        }
        // A withdrawn file (its message deleted meanwhile) is neither indexed nor refused.
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
