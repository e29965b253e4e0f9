// `findimage serve` and `findimage web`: starts the web server first (so /healthz and /readyz
// answer while the model loads), then opens the core, then the chat bots if any, and runs until
// told to stop.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EmbeddedListener, Findimage } from '../findimage.js';
import { runServe, type BotFactory } from '../cli/commands/serve-command.js';
import type { Terminal } from '../cli/terminal.js';
import { countingFactories } from './chat-event-counter.js';
import { startWebServer } from './web-server.js';

/** What `serve` prints when no chat bot is configured: the page is what there is to use. */
export function noBotMessage(url: string): string {
  return [
    'No chat bot is configured, so findimage serves the web app only:',
    `  ${url}`,
    '',
    'To run the Slack bot, set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode; see docs/slack.md).',
    'To run the Discord bot, set DISCORD_TOKEN (see docs/discord.md).',
  ].join('\n');
}

export interface ServeWithWebOptions {
  /** The whole configuration (web address and token, bots' credentials). */
  config: Config;
  /** The server's log. */
  logger: Logger;
  /** Where the page's address and the bots' banners are printed. */
  terminal: Terminal;
  /** Chat bots to run (none for `findimage web`). */
  factories: readonly BotFactory[];
  /** Opens the core (the model loads here), telling `onEmbedded` of each embedding. */
  openCore: (hooks: { onEmbedded: EmbeddedListener }) => Promise<Findimage>;
  /** Resolves when the server should stop. */
  stopSignal: Promise<void>;
}

/** Runs the web app (and bots) until stopSignal; the web server listens before the model loads. */
export async function serveWithWeb(options: ServeWithWebOptions): Promise<void> {
  const { config, logger, terminal } = options;
  const web = await startWebServer({
    host: config.web.host,
    port: config.web.port,
    ...(config.web.token === undefined ? {} : { token: config.web.token }),
    ...(config.web.trustProxy === undefined ? {} : { trustProxy: config.web.trustProxy }),
    dataDir: config.dataDir,
    logger,
  });
  try {
    const botsWanted = config.slack !== undefined || config.discord !== undefined;
    if (options.factories.length > 0 && !botsWanted) terminal.err(noBotMessage(web.url));
    else terminal.err(`Web app: ${web.url}`);
    let findimage: Findimage;
    try {
      findimage = await options.openCore({ onEmbedded: (tower) => web.metrics.embeddings.inc({ tower }) });
    } catch (error) {
      web.core.failed(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    try {
      web.core.ready(findimage);
      await runServe(config, findimage, countingFactories(options.factories, web.metrics.chatEvents), logger, terminal, options.stopSignal);
    } finally {
      await findimage.close();
    }
  } finally {
    await web.close();
  }
}
