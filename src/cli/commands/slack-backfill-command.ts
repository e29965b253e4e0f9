// `findimage slack backfill <channel>`: indexes a Slack channel's history from the command line
// (the same walk as /findimage index, sharing its saved cursor, so either resumes the other).
import type { Logger } from 'pino';
import { runSlackBackfillCommand } from '../../bots/slack/backfill-command.js';
import type { Config } from '../../config.js';
import { ConfigError } from '../../core/errors.js';
import type { Findimage } from '../../findimage.js';
import type { Terminal } from '../terminal.js';

export async function runSlackBackfill(
  config: Config,
  findimage: Findimage,
  channel: string,
  terminal: Terminal,
  logger: Logger,
): Promise<void> {
  if (config.slack === undefined) {
    throw new ConfigError('Set SLACK_BOT_TOKEN to backfill a Slack channel (the bot token alone is enough).');
  }
  findimage.uploads.start();
  const report = await runSlackBackfillCommand({
    config: config.slack,
    dataDir: config.dataDir,
    findimage,
    logger,
    channel,
    onProgress: (p) => terminal.err(`read ${p.messagesSeen} messages, queued ${p.filesQueued} images${p.resumed ? ' (resumed)' : ''}`),
  });
  terminal.out(
    `Backfill of ${channel}: ${report.indexed} indexed, ${report.duplicates} already indexed, ${report.rejectedCount} refused, ${report.pending} still queued.`,
  );
  for (const { name, reason } of report.rejected) terminal.out(`  refused ${name}: ${reason}`);
}
