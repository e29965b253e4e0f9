// The Slack bot: one Bolt App (Socket Mode by default, HTTP with request signing when a signing
// secret and port are set), its collaborators, and the registration of each feature's listeners
// (search-command-events, similar-shortcut-events, upload-events, reaction-events,
// visibility-events), which turn Slack events into core calls.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError } from '../../core/errors.js';
import type { ShareDeletions } from '../../core/conversations/share-deletions.js';
import type { BackfillProgressStore } from '../../core/conversations/backfill-progress.js';
import type { PostPacer } from '../../core/conversations/post-pacer.js';
import type { Findimage } from '../../findimage.js';
import type { ChatBot } from '../chat-bot.js';
import type { DownloadRetryPolicy } from '../download-retry.js';
import { BackfillThread } from './backfill-thread.js';
import { SlackBackfill } from './backfill.js';
import { boltLoggerFor } from './bolt-logger.js';
import { ConversationDirectory } from './conversation-directory.js';
import { FreshRequestReceiver } from './fresh-request-receiver.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, SlackFileDownloader } from './file-download.js';
import { listenForReactions } from './reaction-events.js';
import { listenForFailuresAndReplays } from './request-guards.js';
import { ResultPublisher } from './result-publisher.js';
import { listenForSearchCommands } from './search-command-events.js';
import { listenForSimilarShortcut } from './similar-shortcut-events.js';
import { SlackApiError, asSlackApiError, isAuthFailure } from './slack-api-error.js';
import { SlackSearch } from './slack-search.js';
import { listenForUploads } from './upload-events.js';
import { UploadIntake } from './upload-intake.js';
import { listenForVisibilityChanges } from './visibility-events.js';

/**
 * Retries of a failed Web API call. A 429 first waits its Retry-After (the client does that),
 * then this backoff applies. Slack's limits reset each minute, so five tries over about a minute
 * ride out a burst without leaving a user's search hanging for the default half hour.
 */
export const SLACK_RETRY_POLICY: webApi.RetryOptions = { retries: 5, factor: 2, minTimeout: 1_000, maxTimeout: 30_000, randomize: true };
/** A Web API call that has not answered in 30 s is treated as failed (and retried). */
export const SLACK_CALL_TIMEOUT_MS = 30_000;

/** The parts of findimage the bot calls. */
export type SlackCore = Pick<Findimage, 'sessions' | 'deletions' | 'uploads' | 'privacy' | 'coordination' | 'fleet'>;

export interface SlackBotOptions {
  /** Tokens, transport and reaction settings (config.slack). */
  config: NonNullable<Config['slack']>;
  findimage: SlackCore;
  logger: Logger;
  /** Retry policy of Web API calls; defaults to SLACK_RETRY_POLICY. */
  retryConfig?: webApi.RetryOptions;
  /** Messages per conversations.history page during a backfill. */
  backfillPageSize?: number;
  /** Interface the HTTP receiver listens on; defaults to all. */
  httpHost?: string;
  /** Spacing of posts per conversation; defaults to findimage.coordination's (one message a second). */
  pacer?: PostPacer;
  /** How file downloads that may pass are retried; DEFAULT_DOWNLOAD_RETRY unless given (tests do not wait). */
  downloadRetry?: DownloadRetryPolicy;
}

/** How the bot talks with Slack, as its settings choose (slackTransport). */
export type SlackTransport =
  /** Slack posts events to PORT; each request is checked with the signing secret. */
  | { mode: 'http'; signingSecret: string; port: number }
  /** The bot opens a WebSocket with the app-level token. */
  | { mode: 'socket'; appToken: string }
  /** Neither is configured: the bot cannot start. */
  | { mode: 'none' };

/**
 * The transport is chosen here and only here (the bot and `findimage doctor` both ask): HTTP when
 * a signing secret and a port are set, Socket Mode otherwise, when there is an app-level token.
 */
export function slackTransport(config: NonNullable<Config['slack']>): SlackTransport {
  if (config.signingSecret !== undefined && config.port !== undefined) return { mode: 'http', signingSecret: config.signingSecret, port: config.port };
  if (config.appToken !== undefined) return { mode: 'socket', appToken: config.appToken };
  return { mode: 'none' };
}

/** Builds the Slack bot; nothing connects until start(). */
export function createSlackBot(options: SlackBotOptions): SlackBot {
  return new SlackBot(options);
}

/** `findimage serve`'s factory (a BotFactory): undefined when Slack is not configured. */
export async function slackBotFactory(config: Config, findimage: Findimage, logger: Logger): Promise<ChatBot | undefined> {
  if (config.slack === undefined) return undefined;
  return createSlackBot({ config: config.slack, findimage, logger });
}

export class SlackBot implements ChatBot {
  readonly platform = 'slack';
  readonly #app: App;
  readonly #mode: 'socket' | 'http';
  readonly #config: NonNullable<Config['slack']>;
  readonly #httpHost: string | undefined;
  readonly #logger: Logger;
  readonly #progress: BackfillProgressStore;
  readonly #intake: UploadIntake;
  readonly #deletions: ShareDeletions;
  #server: Server | undefined;

  constructor(options: SlackBotOptions) {
    const { config } = options;
    this.#config = config;
    this.#logger = options.logger.child({ component: 'slack' });
    this.#httpHost = options.httpHost;
    const clientOptions: webApi.WebClientOptions = {
      retryConfig: options.retryConfig ?? SLACK_RETRY_POLICY,
      timeout: SLACK_CALL_TIMEOUT_MS,
      ...(config.apiUrl === undefined ? {} : { slackApiUrl: config.apiUrl }),
    };
    const logger = boltLoggerFor(this.#logger);
    // Bolt checks the token with auth.test as soon as it is built, and an early failure there
    // becomes an unhandled rejection that ends the process; deferring to init() in start()
    // turns it into an error start() reports.
    const deferInitialization = true;
    // slackTransport makes the choice; every listener below behaves the same under both.
    const transport = slackTransport(config);
    if (transport.mode === 'http') {
      this.#mode = 'http';
      const receiver = new FreshRequestReceiver({ signingSecret: transport.signingSecret, logger, log: this.#logger });
      this.#app = new App({ token: config.botToken, receiver, clientOptions, logger, deferInitialization });
    } else if (transport.mode === 'socket') {
      this.#mode = 'socket';
      this.#app = new App({
        token: config.botToken,
        appToken: transport.appToken,
        socketMode: true,
        clientOptions,
        logger,
        deferInitialization,
      });
    } else {
      throw new ConfigError(
        'Slack needs SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET and PORT for HTTP mode. See docs/slack.md.',
      );
    }

    const client = this.#app.client;
    const directory = new ConversationDirectory({ client, logger: this.#logger });
    const downloader = new SlackFileDownloader({
      botToken: config.botToken,
      ...(config.apiUrl === undefined ? {} : { apiUrl: config.apiUrl }),
      maxBytes: config.maxFileBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
      logger: this.#logger,
      ...(options.downloadRetry === undefined ? {} : { retry: options.downloadRetry }),
    });
    this.#deletions = options.findimage.deletions;
    this.#intake = new UploadIntake({
      client,
      uploads: options.findimage.uploads,
      downloader,
      directory,
      indexedReaction: config.indexedReaction,
      logger: this.#logger,
      // Fleet mode: the worker that indexes an upload downloads it, with its own bot token.
      byReference: options.findimage.fleet !== undefined,
    });
    // Shared with the other replicas in a fleet: pacing, replays and backfill cursors hold across them.
    const { coordination } = options.findimage;
    const search = new SlackSearch({
      sessions: options.findimage.sessions,
      publisher: new ResultPublisher({ client, logger: this.#logger, pacer: options.pacer ?? coordination.pacer }),
      directory,
      downloader,
      client,
      logger: this.#logger,
    });
    this.#progress = coordination.backfills('slack');
    const backfill = new SlackBackfill({
      client,
      intake: this.#intake,
      directory,
      progress: this.#progress,
      logger: this.#logger,
      ...(options.backfillPageSize === undefined ? {} : { pageSize: options.backfillPageSize }),
    });
    const backfillThread = new BackfillThread({ client, directory, backfill, logger: this.#logger });

    // Registered in this order: the failure log and replay filter first, then each feature.
    const app = this.#app;
    listenForFailuresAndReplays(app, { replays: coordination.replays, logger: this.#logger });
    listenForSearchCommands(app, { search, backfillThread, logger: this.#logger });
    listenForSimilarShortcut(app, { search, logger: this.#logger });
    listenForUploads(app, { intake: this.#intake, deletions: this.#deletions, logger: this.#logger });
    listenForReactions(app, { search, logger: this.#logger });
    listenForVisibilityChanges(app, { directory, privacy: options.findimage.privacy, logger: this.#logger });
  }

  /** "socket" or "http". */
  get mode(): 'socket' | 'http' {
    return this.#mode;
  }

  /** The port the HTTP receiver listens on (HTTP mode, after start). */
  get httpPort(): number | undefined {
    const address = this.#server?.address();
    return typeof address === 'object' && address !== null ? (address as AddressInfo).port : undefined;
  }

  /** Checks the bot token, then connects. Throws SlackApiError when Slack refuses the token. */
  async start(): Promise<void> {
    try {
      await this.#app.init();
    } catch (error) {
      throw asSlackApiError(error, 'checking SLACK_BOT_TOKEN');
    }
    this.#intake.start();
    if (this.#mode === 'http') {
      const listen = this.#httpHost === undefined ? { port: this.#config.port } : { port: this.#config.port, host: this.#httpHost };
      this.#server = (await this.#app.start(listen)) as Server;
      this.#logger.info({ port: this.httpPort }, 'Slack bot listening for signed requests on /slack/events');
    } else {
      try {
        await this.#app.start();
      } catch (error) {
        const wrapped = asSlackApiError(error, 'connecting through Socket Mode');
        if (!isAuthFailure(wrapped) || !(wrapped instanceof SlackApiError)) throw wrapped;
        throw new SlackApiError(
          wrapped.slackError,
          `Slack refused SLACK_APP_TOKEN (${wrapped.slackError}). Generate an app-level token with the connections:write scope ` +
            'under Basic Information → App-Level Tokens, and set SLACK_APP_TOKEN to it.',
          { cause: error },
        );
      }
      this.#logger.info('Slack bot connected through Socket Mode');
    }
  }

  async stop(): Promise<void> {
    this.#intake.stop();
    try {
      await this.#app.stop();
    } finally {
      this.#server = undefined;
      this.#progress.close();
    }
  }
}
