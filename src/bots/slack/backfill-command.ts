// `findimage slack backfill <#channel>` for the CLI: the same backfill as `/findimage index`, run
// from a terminal with the bot token, printing progress instead of posting it to a thread.
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { InvalidQueryError } from '../../core/errors.js';
import type { Findimage } from '../../findimage.js';
import { SlackBackfill, type BackfillProgress, type BackfillReport } from './backfill.js';
import { ConversationDirectory } from './conversation-directory.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, SlackFileDownloader } from './file-download.js';
import { asSlackApiError } from './slack-api-error.js';
import { SLACK_CALL_TIMEOUT_MS, SLACK_RETRY_POLICY } from './slack-bot.js';
import { channelRefOf } from './slack-query.js';
import { UploadIntake } from './upload-intake.js';

export interface SlackBackfillCommandOptions {
  /** config.slack: the bot token and SLACK_API_URL are used. */
  config: NonNullable<Config['slack']>;
  /** The cursor comes from findimage.coordination, shared with the bot's `/findimage index`, so either resumes the other. */
  findimage: Pick<Findimage, 'uploads' | 'coordination' | 'fleet'>;
  logger: Logger;
  /** The channel: an id (C0123), a name (design or #design) or a mention (<#C0123|design>). */
  channel: string;
  /** Called after each page of history. */
  onProgress?: (progress: BackfillProgress) => void;
  /** Retry policy of Web API calls; defaults to the bot's. */
  retryConfig?: webApi.RetryOptions;
  /** Messages per conversations.history page. */
  pageSize?: number;
}

/**
 * Walks a channel's history and indexes its images; resolves when every queued image has been
 * indexed or refused. Throws SlackApiError (bad token, not in channel) or InvalidQueryError
 * (unknown channel) with a message for the terminal.
 */
export async function runSlackBackfillCommand(options: SlackBackfillCommandOptions): Promise<BackfillReport> {
  const { config } = options;
  const logger = options.logger.child({ component: 'slack-backfill' });
  const client = new webApi.WebClient(config.botToken, {
    retryConfig: options.retryConfig ?? SLACK_RETRY_POLICY,
    timeout: SLACK_CALL_TIMEOUT_MS,
    ...(config.apiUrl === undefined ? {} : { slackApiUrl: config.apiUrl }),
  });
  let tenant: string;
  try {
    tenant = String((await client.auth.test()).team_id);
  } catch (error) {
    throw asSlackApiError(error, 'checking SLACK_BOT_TOKEN');
  }
  const directory = new ConversationDirectory({ client, logger });
  const ref = channelRefOf(options.channel.trim());
  const channel = ref === undefined ? undefined : 'id' in ref ? ref.id : await directory.idForName(ref.name);
  if (channel === undefined) {
    throw new InvalidQueryError(`No channel named ${options.channel} is visible to the bot. Give its id (C0123ABCD) or invite the bot to it.`);
  }

  const intake = new UploadIntake({
    client,
    uploads: options.findimage.uploads,
    downloader: new SlackFileDownloader({
      botToken: config.botToken,
      ...(config.apiUrl === undefined ? {} : { apiUrl: config.apiUrl }),
      maxBytes: config.maxFileBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
      logger,
    }),
    directory,
    indexedReaction: '',
    logger,
    // Fleet mode: the workers download the history's images, with their own bot token.
    byReference: options.findimage.fleet !== undefined,
  });
  const progress = options.findimage.coordination.backfills('slack');
  intake.start();
  try {
    const backfill = new SlackBackfill({
      client,
      intake,
      directory,
      progress,
      logger,
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    });
    return await backfill.run(tenant, channel, async (p) => options.onProgress?.(p));
  } finally {
    intake.stop();
    progress.close();
  }
}
