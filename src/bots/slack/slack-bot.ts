// The Slack bot: one Bolt App (Socket Mode by default, HTTP with request signing when a signing
// secret and port are set) whose listeners turn Slack events into core calls: /findimage and its
// preview's buttons (pages, votes, send, share all, more like this), the similar-images shortcut,
// uploads, vote reactions and deletions.
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type BlockAction, type ButtonAction, type RespondFn, type StaticSelectAction, type webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError, InvalidQueryError } from '../../core/errors.js';
import type { ShareDeletions } from '../../core/conversations/share-deletions.js';
import { ReplayGuard } from '../../core/conversations/replay-guard.js';
import { parseQuery } from '../../core/search/query-syntax.js';
import type { Findimage } from '../../findimage.js';
import type { ChatBot } from '../chat-bot.js';
import type { DownloadRetryPolicy } from '../download-retry.js';
import { BackfillProgressStore } from '../backfill-progress.js';
import { BackfillThread } from './backfill-thread.js';
import { SlackBackfill } from './backfill.js';
import { boltLoggerFor } from './bolt-logger.js';
import { ConversationDirectory } from './conversation-directory.js';
import { FreshRequestReceiver } from './fresh-request-receiver.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, SlackFileDownloader, fileRefsFrom } from './file-download.js';
import {
  ACTION_MORE_LIKE_THIS,
  ACTION_OPEN_ORIGINAL,
  ACTION_PAGE,
  ACTION_SEND,
  ACTION_SHARE_ALL,
  ACTION_VOTE_DOWN,
  ACTION_VOTE_UP,
  SHORTCUT_FIND_SIMILAR,
  parseHitButtonValue,
  parsePageButtonValue,
  renderHelp,
} from './result-blocks.js';
import { ChannelPacer } from './channel-pacer.js';
import { ResultPublisher } from './result-publisher.js';
import { SlackApiError, asSlackApiError, explainToUser, isAuthFailure } from './slack-api-error.js';
import { SlackSearch, type SlackContext } from './slack-search.js';
import { escapeMrkdwn } from './slack-text.js';
import { UploadIntake } from './upload-intake.js';
import { listenForVisibilityChanges } from './visibility-events.js';

/** The slash command registered in slack-app-manifest.yaml. */
export const SLASH_COMMAND = '/findimage';

/**
 * Retries of a failed Web API call. A 429 first waits its Retry-After (the client does that),
 * then this backoff applies. Slack's limits reset each minute, so five tries over about a minute
 * ride out a burst without leaving a user's search hanging for the default half hour.
 */
export const SLACK_RETRY_POLICY: webApi.RetryOptions = { retries: 5, factor: 2, minTimeout: 1_000, maxTimeout: 30_000, randomize: true };
/** A Web API call that has not answered in 30 s is treated as failed (and retried). */
export const SLACK_CALL_TIMEOUT_MS = 30_000;

/** The parts of findimage the bot calls. */
export type SlackCore = Pick<Findimage, 'sessions' | 'deletions' | 'uploads' | 'privacy'>;

export interface SlackBotOptions {
  /** Tokens, transport and reaction settings (config.slack). */
  config: NonNullable<Config['slack']>;
  findimage: SlackCore;
  /** FINDIMAGE_DATA: the backfill cursors are kept here. */
  dataDir: string;
  logger: Logger;
  /** Retry policy of Web API calls; defaults to SLACK_RETRY_POLICY. */
  retryConfig?: webApi.RetryOptions;
  /** Messages per conversations.history page during a backfill. */
  backfillPageSize?: number;
  /** Interface the HTTP receiver listens on; defaults to all. */
  httpHost?: string;
  /** Spacing of posts per conversation; defaults to Slack's one message a second. */
  pacer?: ChannelPacer;
  /** How file downloads that may pass are retried; DEFAULT_DOWNLOAD_RETRY unless given (tests do not wait). */
  downloadRetry?: DownloadRetryPolicy;
}

/** Builds the Slack bot; nothing connects until start(). */
export function createSlackBot(options: SlackBotOptions): SlackBot {
  return new SlackBot(options);
}

/** `findimage serve`'s factory (a BotFactory): undefined when Slack is not configured. */
export async function slackBotFactory(config: Config, findimage: Findimage, logger: Logger): Promise<ChatBot | undefined> {
  if (config.slack === undefined) return undefined;
  return createSlackBot({ config: config.slack, findimage, dataDir: config.dataDir, logger });
}

export class SlackBot implements ChatBot {
  readonly platform = 'slack';
  readonly #app: App;
  readonly #mode: 'socket' | 'http';
  readonly #config: NonNullable<Config['slack']>;
  readonly #httpHost: string | undefined;
  readonly #logger: Logger;
  readonly #progress: BackfillProgressStore;
  readonly #directory: ConversationDirectory;
  readonly #intake: UploadIntake;
  readonly #deletions: ShareDeletions;
  readonly #search: SlackSearch;
  readonly #replays = new ReplayGuard();
  readonly #backfillThread: BackfillThread;
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
    // The transport is chosen here and only here: HTTP when a signing secret and a port are
    // set, Socket Mode otherwise. Every listener below behaves the same under both.
    if (config.signingSecret !== undefined && config.port !== undefined) {
      this.#mode = 'http';
      const receiver = new FreshRequestReceiver({ signingSecret: config.signingSecret, logger, log: this.#logger });
      this.#app = new App({ token: config.botToken, receiver, clientOptions, logger, deferInitialization });
    } else if (config.appToken !== undefined) {
      this.#mode = 'socket';
      this.#app = new App({
        token: config.botToken,
        appToken: config.appToken,
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
    this.#directory = new ConversationDirectory({ client, logger: this.#logger });
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
      directory: this.#directory,
      indexedReaction: config.indexedReaction,
      logger: this.#logger,
    });
    this.#search = new SlackSearch({
      sessions: options.findimage.sessions,
      publisher: new ResultPublisher({ client, logger: this.#logger, ...(options.pacer === undefined ? {} : { pacer: options.pacer }) }),
      directory: this.#directory,
      downloader,
      client,
      logger: this.#logger,
    });
    this.#progress = new BackfillProgressStore(join(options.dataDir, 'slack-backfill.sqlite'));
    const backfill = new SlackBackfill({
      client,
      intake: this.#intake,
      directory: this.#directory,
      progress: this.#progress,
      logger: this.#logger,
      ...(options.backfillPageSize === undefined ? {} : { pageSize: options.backfillPageSize }),
    });
    this.#backfillThread = new BackfillThread({ client, directory: this.#directory, backfill, logger: this.#logger });
    this.#listen();
    listenForVisibilityChanges(this.#app, { directory: this.#directory, privacy: options.findimage.privacy, logger: this.#logger });
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

  #listen(): void {
    const app = this.#app;
    app.error(async (error) => {
      this.#logger.error({ err: error, code: 'slack_listener_failed' }, 'a Slack listener failed');
    });

    // Slack retries a request it thinks failed (x-slack-retry-num in HTTP mode, retry_attempt in
    // Socket Mode) with the same trigger or event id: act on each once, acknowledge every copy.
    app.use(async (args) => {
      const key = requestKeyOf(args.body);
      if (key !== undefined && !this.#replays.firstTime(key)) {
        const ack = (args as { ack?: () => Promise<void> }).ack;
        if (ack !== undefined) await ack();
        this.#logger.info({ key, retryNum: args.context.retryNum }, 'ignored a replayed Slack request');
        return;
      }
      await args.next();
    });

    app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
      const text = command.text.trim();
      const context: SlackContext = { tenant: command.team_id, channel: command.channel_id, user: command.user_id };
      if (text === '' || /^help$/i.test(text)) {
        await ack({ response_type: 'ephemeral', ...renderHelp() });
        return;
      }
      const index = /^index(?:\s+(.*))?$/is.exec(text);
      if (index !== null) {
        await ack({ response_type: 'ephemeral', text: 'Checking that channel before indexing its history…' });
        await this.#backfillThread.run(context, (index[1] ?? '').trim(), (reply) => this.#respond(respond, reply));
        return;
      }
      try {
        parseQuery(text);
      } catch (error) {
        if (!(error instanceof InvalidQueryError)) throw error;
        // A malformed query is answered in the acknowledgement itself, at once.
        await ack({ response_type: 'ephemeral', text: `${escapeMrkdwn(error.message)}\nType \`/findimage help\` for the syntax.` });
        return;
      }
      // Acknowledged at once (Slack wants an answer within 3 s); the preview follows privately.
      await ack();
      await this.#answer(respond, 'searching', () => this.#search.searchText(context, text, respond));
    });

    this.#onButton(ACTION_PAGE, 'showing that page', async (context, value, respond) => {
      const target = parsePageButtonValue(value);
      if (target === undefined) return this.#respond(respond, STALE_BUTTON);
      await this.#search.showPage(context, target.queryId, target.page, respond);
    });
    this.#onButton(ACTION_SHARE_ALL, 'sharing the results', async (context, value, respond) => {
      const target = parsePageButtonValue(value);
      if (target === undefined) return this.#respond(respond, STALE_BUTTON);
      await this.#search.shareAll(context, target.queryId, target.page, respond);
    });
    this.#onButton(ACTION_SEND, 'sending that image', async (context, value, respond) => {
      const target = parseHitButtonValue(value);
      if (target === undefined) return this.#respond(respond, STALE_BUTTON);
      await this.#search.send(context, target, respond);
    });
    for (const [actionId, vote] of [[ACTION_VOTE_UP, 1], [ACTION_VOTE_DOWN, -1]] as const) {
      this.#onButton(actionId, 'recording your vote', async (context, value, respond) => {
        const target = parseHitButtonValue(value);
        if (target === undefined) return this.#respond(respond, STALE_BUTTON);
        await this.#search.vote(context, target, vote, respond);
      });
    }
    this.#onButton(ACTION_MORE_LIKE_THIS, 'finding similar images', async (context, value, respond) => {
      if (value === undefined || value === '') return this.#respond(respond, STALE_BUTTON);
      await this.#search.moreLikeThis(context, value, respond);
    });

    // A link button still sends an action, which must be acknowledged.
    app.action(new RegExp(`^${ACTION_OPEN_ORIGINAL}:`), async ({ ack }) => {
      await ack();
    });

    app.shortcut(SHORTCUT_FIND_SIMILAR, async ({ ack, shortcut, respond }) => {
      await ack();
      if (shortcut.type !== 'message_action') return;
      const tenant = shortcut.team?.id ?? shortcut.user.team_id;
      if (tenant === undefined || tenant === '') {
        // No workspace, no scope: searching would have nothing safe to search in.
        this.#logger.warn({ channel: shortcut.channel.id }, 'a shortcut came without a team');
        return;
      }
      const context: SlackContext = { tenant, channel: shortcut.channel.id, user: shortcut.user.id };
      const files = fileRefsFrom((shortcut.message as { files?: unknown }).files);
      await this.#answer(respond, 'finding similar images', () => this.#search.similarToFiles(context, files, respond));
    });

    app.event('message', async ({ event, body }) => {
      const tenant = body.team_id;
      const message = event as unknown as MessageEventFields;
      try {
        if (message.subtype === 'message_deleted' && message.deleted_ts !== undefined) {
          this.#deletions.messageDeleted(tenant, message.channel, message.deleted_ts);
        } else if (message.subtype === 'message_changed' && message.message?.subtype === 'tombstone' && message.message.ts !== undefined) {
          this.#deletions.messageDeleted(tenant, message.channel, message.message.ts);
        } else if ((message.subtype === undefined || message.subtype === 'file_share') && message.files !== undefined) {
          await this.#intake.accept({
            tenant,
            channel: message.channel,
            ts: message.ts,
            ...(message.thread_ts === undefined ? {} : { threadTs: message.thread_ts }),
            ...(message.user === undefined ? {} : { user: message.user }),
            files: fileRefsFrom(message.files),
          });
        }
      } catch (error) {
        this.#logger.error({ err: error, channel: message.channel, subtype: message.subtype }, 'could not handle a message event');
      }
    });

    app.event('file_deleted', async ({ event, body }) => {
      try {
        this.#deletions.fileDeleted(body.team_id, event.file_id);
      } catch (error) {
        this.#logger.error({ err: error, fileId: event.file_id }, 'could not record a deleted file');
      }
    });

    app.event('channel_deleted', async ({ event, body }) => {
      try {
        this.#deletions.conversationDeleted(body.team_id, event.channel);
      } catch (error) {
        this.#logger.error({ err: error, channel: event.channel }, 'could not record a deleted channel');
      }
    });

    for (const type of ['reaction_added', 'reaction_removed'] as const) {
      app.event(type, async ({ event, body }) => {
        if (event.item.type !== 'message') return;
        const context: SlackContext = { tenant: body.team_id, channel: event.item.channel, user: event.user };
        try {
          await this.#search.reaction(context, event.item.ts, event.reaction, type === 'reaction_added');
        } catch (error) {
          this.#logger.error({ err: error, ...context, reaction: event.reaction }, 'could not record a reaction as a label');
        }
      });
    }
  }

  /**
   * Listens to a button (or select) family: acknowledges at once, then runs `work` with the
   * pressed value, telling the person privately when it fails.
   */
  #onButton(
    actionId: string,
    doing: string,
    work: (context: SlackContext, value: string | undefined, respond: RespondFn) => Promise<void>,
  ): void {
    this.#app.action<BlockAction<ButtonAction | StaticSelectAction>>(new RegExp(`^${actionId}:`), async ({ ack, body, action, respond }) => {
      await ack();
      const context = this.#actionContext(body);
      if (context === undefined) return;
      const value = action.type === 'static_select' ? action.selected_option?.value : action.value;
      await this.#answer(respond, doing, () => work(context, value, respond));
    });
  }

  #actionContext(body: BlockAction): SlackContext | undefined {
    const tenant = body.team?.id ?? body.user.team_id;
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (tenant === undefined || channel === undefined) {
      this.#logger.warn({ actionTeam: tenant, channel }, 'a button press came without a team or channel');
      return undefined;
    }
    return { tenant, channel: String(channel), user: body.user.id };
  }

  /** Runs a request and, when it fails, tells the user privately why. */
  async #answer(respond: RespondFn, doing: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      await this.#respond(respond, explainToUser(error, doing, this.#logger));
    }
  }

  async #respond(respond: RespondFn, text: string): Promise<void> {
    try {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    } catch (error) {
      this.#logger.warn({ err: error, text }, 'could not send a private reply (response_url expired?)');
    }
  }
}

/** What a stale or foreign button is told. */
const STALE_BUTTON = 'That button is from an older version of findimage. Please run the search again.';

/** The id Slack repeats when it retries a request: the event id, or the interaction's trigger id. */
function requestKeyOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as { event_id?: unknown; trigger_id?: unknown; actions?: Array<{ action_ts?: unknown }> };
  if (typeof fields.event_id === 'string') return `event:${fields.event_id}`;
  if (typeof fields.trigger_id === 'string') return `trigger:${fields.trigger_id}:${String(fields.actions?.[0]?.action_ts ?? '')}`;
  return undefined;
}

/** The fields of a message event the bot reads (Bolt's union of subtypes is wider). */
interface MessageEventFields {
  subtype?: string;
  channel: string;
  ts: string;
  thread_ts?: string;
  user?: string;
  files?: unknown;
  deleted_ts?: string;
  message?: { subtype?: string; ts?: string };
}
