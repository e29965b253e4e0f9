// The chat platforms `findimage serve` can run. Each factory returns undefined when its
// platform is not configured, and imports its SDK (@slack/bolt, discord.js) only when it is.
import type { BotFactory } from './commands/serve-command.js';

export const botFactories: readonly BotFactory[] = [
  async (config, findimage, logger) =>
    config.slack === undefined ? undefined : (await import('../bots/slack/slack-bot.js')).slackBotFactory(config, findimage, logger),
  async (config, findimage, logger) =>
    config.discord === undefined ? undefined : (await import('../bots/discord/discord-bot.js')).discordBotFactory(config, findimage, logger),
];
