// The chat platforms `findimage serve` can run. Each factory returns undefined when its
// platform is not configured.
import { discordBotFactory } from '../bots/discord/discord-bot.js';
import { slackBotFactory } from '../bots/slack/slack-bot.js';
import type { BotFactory } from './commands/serve-command.js';

export const botFactories: readonly BotFactory[] = [slackBotFactory, discordBotFactory];
