// `findimage discord register` and `findimage discord backfill <channel-id>`: registers the bot's
// commands with Discord and prints its invite URL, and indexes a channel's history from the
// command line. discord.js loads only when one of them runs.
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { INDEXING, type CommandContext } from '../command-context.js';

export function register(program: Command, { terminal, settings, withCore }: CommandContext): void {
  const discord = program.command('discord').description('Discord tools');
  discord
    .command('register')
    .description('register /findimage and "Find similar images" (in one guild to try, globally otherwise) and print the invite URL')
    .option('--guild <id>', 'register in this guild only (commands appear at once; global ones can take an hour)')
    .action(async (options: { guild?: string }) => {
      const { config } = settings();
      if (config.discord === undefined) throw new ConfigError('Set DISCORD_TOKEN to register the Discord commands (see docs/discord.md).');
      const { registerCommands } = await import('../../bots/discord/application-commands.js');
      const registration = await registerCommands({
        token: config.discord.token,
        ...(config.discord.apiUrl === undefined ? {} : { apiUrl: config.discord.apiUrl }),
        ...(options.guild === undefined ? {} : { guildId: options.guild }),
      });
      terminal.out(`Registered ${registration.commands.map((c) => `"${c}"`).join(' and ')} (${registration.scope}) for application ${registration.applicationId}.`);
      terminal.out('Invite the bot with exactly the permissions it needs:');
      terminal.out(`  ${registration.inviteUrl}`);
    });

  discord
    .command('backfill')
    .description("index a Discord channel's history (resumable; shares its cursor with /findimage query: index #channel)")
    .argument('<channel-id>', 'the channel id (right-click the channel → Copy Channel ID)')
    .action(async (channelId: string) => {
      const { config, logger } = settings();
      const discordConfig = config.discord;
      if (discordConfig === undefined) throw new ConfigError('Set DISCORD_TOKEN to backfill a Discord channel (see docs/discord.md).');
      const { createDiscordBot } = await import('../../bots/discord/discord-bot.js');
      await withCore(INDEXING, async (findimage) => {
        findimage.uploads.start();
        // The bot connects so that the channel's permissions (public or not) are known.
        const bot = createDiscordBot({ config: discordConfig, findimage, logger });
        await bot.start();
        try {
          const report = await bot.backfill(channelId, (p) => terminal.err(`read ${p.messagesSeen} messages, queued ${p.filesQueued} images${p.resumed ? ' (resumed)' : ''}`));
          terminal.out(`Backfill of ${channelId}: ${report.indexed} indexed, ${report.duplicates} already indexed, ${report.rejected.length} refused.`);
          for (const { name, reason } of report.rejected) terminal.out(`  refused ${name}: ${reason}`);
        } finally {
          await bot.stop();
        }
      });
    });
}
