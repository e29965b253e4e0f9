// `/findimage index [#channel]`: checks who may start a backfill of which channel, runs it, and
// reports in a thread of the command's channel (start, throttled progress, summary or why it stopped).
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { BackfillReport, SlackBackfill } from './backfill.js';
import type { ConversationDirectory } from './conversation-directory.js';
import { asSlackApiError, explainToUser } from './slack-api-error.js';
import { channelRefOf } from './slack-query.js';
import type { SlackContext } from './slack-search.js';
import { escapeMrkdwn } from './slack-text.js';

/** Backfill progress goes to the thread at most this often, so a long walk does not flood it. */
export const BACKFILL_PROGRESS_INTERVAL_MS = 15_000;

export interface BackfillThreadOptions {
  client: webApi.WebClient;
  directory: ConversationDirectory;
  backfill: SlackBackfill;
  logger: Logger;
}

export class BackfillThread {
  readonly #client: webApi.WebClient;
  readonly #directory: ConversationDirectory;
  readonly #backfill: SlackBackfill;
  readonly #logger: Logger;

  constructor(options: BackfillThreadOptions) {
    this.#client = options.client;
    this.#directory = options.directory;
    this.#backfill = options.backfill;
    this.#logger = options.logger;
  }

  /**
   * Runs the backfill of `target` (a channel mention or name; empty for the command's own
   * channel). `reply` answers the user privately when it cannot start. Never throws.
   */
  async run(context: SlackContext, target: string, reply: (text: string) => Promise<void>): Promise<void> {
    let channel = context.channel;
    try {
      if (target !== '') {
        const ref = channelRefOf(target);
        const id = ref === undefined ? undefined : 'id' in ref ? ref.id : await this.#directory.idForName(ref.name);
        if (id === undefined) {
          await reply(`I can't find the channel ${escapeMrkdwn(target)}. Type # and pick it from Slack's list.`);
          return;
        }
        channel = id;
      }
      const facts = await this.#directory.lookup(channel);
      if (channel !== context.channel && !facts.isPublic) {
        // Only the members of a private conversation may have its history indexed.
        await reply('To index a private channel or a DM, run `/findimage index` inside it.');
        return;
      }
      if (facts.isMember === false) {
        await reply(`I'm not a member of <#${channel}>, so I can't read its history. Invite me there with \`/invite @findimage\`, then run \`/findimage index\` again.`);
        return;
      }
      if (await this.#backfill.isRunning(context.tenant, channel)) {
        await reply(`I'm already indexing <#${channel}>; progress is in its thread.`);
        return;
      }
    } catch (error) {
      await reply(explainToUser(error, 'starting the backfill', this.#logger));
      return;
    }

    let threadTs: string;
    try {
      const parent = await this.#client.chat.postMessage({
        channel: context.channel,
        text: `:hourglass_flowing_sand: Indexing the images already shared in <#${channel}> (started by <@${context.user}>).`,
      });
      threadTs = String(parent.ts);
      await reply(`Indexing <#${channel}>. I'll report progress in the thread under my message in <#${context.channel}>.`);
    } catch (error) {
      await reply(explainToUser(error, 'starting the backfill', this.#logger));
      return;
    }
    const say = async (text: string) => {
      try {
        await this.#client.chat.postMessage({ channel: context.channel, thread_ts: threadTs, text });
      } catch (error) {
        this.#logger.warn({ err: asSlackApiError(error, 'reporting backfill progress'), channel }, 'could not post backfill progress');
      }
    };

    let lastReport = Date.now();
    try {
      const report = await this.#backfill.run(context.tenant, channel, async (progress) => {
        if (Date.now() - lastReport < BACKFILL_PROGRESS_INTERVAL_MS) return;
        lastReport = Date.now();
        await say(`Read ${progress.messagesSeen} messages so far; ${progress.filesQueued} images queued.`);
      });
      await say(summaryOf(report));
    } catch (error) {
      const why = explainToUser(error, 'reading the channel history', this.#logger);
      await say(`:warning: The backfill stopped: ${why} Run \`/findimage index <#${channel}>\` again to resume where it stopped.`);
    }
  }
}

/** The final thread reply of a backfill. */
export function summaryOf(report: BackfillReport): string {
  const lines = [
    `:white_check_mark: Done${report.resumed ? ' (resumed where the last run stopped)' : ''}: read ${report.messagesSeen} messages and queued ${report.filesQueued} images.`,
    `${report.indexed} newly indexed, ${report.duplicates} already indexed, ${report.rejectedCount} refused${report.pending > 0 ? `, ${report.pending} still being indexed` : ''}.`,
  ];
  for (const { name, publicReason } of report.rejected) lines.push(`• ${escapeMrkdwn(name)}: ${escapeMrkdwn(publicReason)}`);
  if (report.rejectedCount > report.rejected.length) lines.push(`…and ${report.rejectedCount - report.rejected.length} more.`);
  return lines.join('\n');
}
