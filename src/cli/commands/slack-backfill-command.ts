// `findimage slack backfill <channel>`: indexes a Slack channel's history from the command line
// (the same walk as /findimage index, sharing its saved cursor, so either resumes the other).
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError } from '../../core/errors.js';
import type { Findimage } from '../../findimage.js';
import { INDEXING, type CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

export function register(program: Command, { terminal, settings, withCore }: CommandContext): void {
  program
    .command('slack')
    .description('Slack tools')
    .command('backfill')
    .description("index a Slack channel's history (resumable; shares its cursor with /findimage index)")
    .argument('<channel>', 'channel id, name or #name')
    .action(async (channel: string) => {
      const { config, logger } = settings();
      await withCore(INDEXING, (findimage) => runSlackBackfill(config, findimage, channel, terminal, logger));
    });
}

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
  // Bolt loads only when this command runs: every command is registered at start.
  const { runSlackBackfillCommand } = await import('../../bots/slack/backfill-command.js');
  findimage.uploads.start();
  const report = await runSlackBackfillCommand({
    config: config.slack,
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
