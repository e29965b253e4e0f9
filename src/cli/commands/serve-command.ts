// `findimage serve` (and plain `npm start`): runs every chat bot whose credentials are set,
// until SIGINT or SIGTERM (src/web/serve-web.ts starts the web app around it).
import type { Logger } from 'pino';
import type { ChatBot } from '../../bots/chat-bot.js';
import type { Config } from '../../config.js';
import type { Findimage } from '../../findimage.js';
import type { Terminal } from '../terminal.js';

/** Builds the bots the config enables; each platform's factory is registered in bot-registry.ts. */
export type BotFactory = (config: Config, findimage: Findimage, logger: Logger) => Promise<ChatBot | undefined>;

export async function runServe(
  config: Config,
  findimage: Findimage,
  factories: readonly BotFactory[],
  logger: Logger,
  terminal: Terminal,
  stopSignal: Promise<void>,
): Promise<void> {
  const bots: ChatBot[] = [];
  for (const factory of factories) {
    const bot = await factory(config, findimage, logger);
    if (bot !== undefined) bots.push(bot);
  }
  for (const bot of bots) {
    await bot.start();
    terminal.err(`${bot.platform} bot connected.`);
  }
  findimage.uploads.start();
  await stopSignal;
  for (const bot of bots) await bot.stop();
}
