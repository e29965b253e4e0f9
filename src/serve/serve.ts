// `findimage serve` and `findimage web`: starts the web server first (so /healthz and /readyz
// answer while the model loads), then opens the core, then the chat bots if any, and runs until
// told to stop. The command line (src/cli) calls this; the web app and the bots know nothing of it.
import type { Logger } from 'pino';
import type { ChatBot } from '../bots/chat-bot.js';
import type { Config } from '../config.js';
import type { EmbeddedListener, Findimage } from '../findimage.js';
import { join } from 'node:path';
import { defaultTemplateSets } from '../core/evaluation/dataset-evaluation.js';
import { EvaluationRuns } from '../core/evaluation/evaluation-runs.js';
import { evaluationModelChoices, evaluationModelOpener } from '../evaluation-models.js';
import { startWebServer } from '../web/web-server.js';
import type { BotFactory } from './bot-registry.js';
import { countingFactories } from './chat-event-counter.js';
import { isFleet, startIndexWork, type IndexWork } from './index-work.js';

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
  /** Tells the person who started the server the page's address and each bot that connected (stderr, from the CLI). */
  notify: (message: string) => void;
  /** Chat bots to run (none for `findimage web`). */
  factories: readonly BotFactory[];
  /** Opens the core (the model loads here), telling `onEmbedded` of each embedding. */
  openCore: (hooks: { onEmbedded: EmbeddedListener }) => Promise<Findimage>;
  /** Resolves when the server should stop. */
  stopSignal: Promise<void>;
}

/** Runs the web app (and bots) until stopSignal; the web server listens before the model loads. */
export async function serveWithWeb(options: ServeWithWebOptions): Promise<void> {
  const { config, logger, notify } = options;
  const evaluations = new EvaluationRuns({
    dir: join(config.dataDir, 'evaluations'),
    datasetsRoot: config.web.datasetsDir,
    openModel: evaluationModelOpener(config, logger.child({ component: 'evaluations' })),
    models: () => evaluationModelChoices(config, logger),
    defaultTemplates: defaultTemplateSets(config.promptTemplates),
    logger: logger.child({ component: 'evaluations' }),
  });
  await evaluations.recover();
  const web = await startWebServer({
    host: config.web.host,
    port: config.web.port,
    ...(config.web.token === undefined ? {} : { token: config.web.token }),
    ...(config.web.trustProxy === undefined ? {} : { trustProxy: config.web.trustProxy }),
    dataDir: config.dataDir,
    logger,
    evaluations,
  });
  try {
    const botsWanted = config.slack !== undefined || config.discord !== undefined;
    if (options.factories.length > 0 && !botsWanted) notify(noBotMessage(web.url));
    else notify(`Web app: ${web.url}`);
    let findimage: Findimage;
    try {
      findimage = await options.openCore({ onEmbedded: (tower, seconds) => web.metrics.embedded(tower, seconds) });
    } catch (error) {
      web.core.failed(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    try {
      web.core.ready(findimage);
      const factories = countingFactories(options.factories, web.metrics.chatEvents);
      await runBots(config, findimage, factories, logger, notify, options.stopSignal);
    } finally {
      await findimage.close();
    }
  } finally {
    await web.close();
  }
}

/** Starts every bot the config enables and the upload queue, then stops the bots once stopSignal resolves. */
async function runBots(
  config: Config,
  findimage: Findimage,
  factories: readonly BotFactory[],
  logger: Logger,
  notify: (message: string) => void,
  stopSignal: Promise<void>,
): Promise<void> {
  const bots: ChatBot[] = [];
  let work: IndexWork | undefined;
  try {
    for (const factory of factories) {
      const bot = await factory(config, findimage, logger);
      if (bot !== undefined) bots.push(bot);
    }
    for (const bot of bots) {
      await bot.start();
      notify(`${bot.platform} bot connected.`);
    }
    // In a fleet, uploads go on to Redis: listen for their jobs' ends from the start.
    findimage.fleet?.connect();
    findimage.uploads.start();
    // A replica in a fleet also takes index jobs, unless FINDIMAGE_REPLICA_JOBS=0 leaves them to workers.
    if (isFleet(config) && config.fleet.replicaJobs > 0) {
      work = await startIndexWork({ config, findimage, concurrency: config.fleet.replicaJobs, logger, role: 'replica' });
    }
    await stopSignal;
  } finally {
    // Also when a start failed: nothing started may outlive the server.
    for (const bot of bots) await bot.stop().catch((error: unknown) => logger.warn({ err: error, platform: bot.platform }, 'could not stop a bot cleanly'));
    await work?.close();
  }
}
