// The chat platforms `findimage serve` can run. Each factory returns undefined when its
// platform is not configured, and imports its SDK (@slack/bolt, discord.js) only when it is.
import type { Logger } from 'pino';
import type { ChatBot } from '../bots/chat-bot.js';
import type { Config } from '../config.js';
import type { Findimage } from '../findimage.js';

/** Builds the bot of one platform from the config, or undefined when that platform is not configured. */
export type BotFactory = (config: Config, findimage: Findimage, logger: Logger) => Promise<ChatBot | undefined>;

export const botFactories: readonly BotFactory[] = [
  async (config, findimage, logger) =>
    config.slack === undefined ? undefined : (await import('../bots/slack/slack-bot.js')).slackBotFactory(config, findimage, logger),
  async (config, findimage, logger) =>
    config.discord === undefined ? undefined : (await import('../bots/discord/discord-bot.js')).discordBotFactory(config, findimage, logger),
];
