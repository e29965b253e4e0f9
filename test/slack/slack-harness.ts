// Builds a real Slack bot for end-to-end tests: the real Bolt App against the fake Web API and
// Socket Mode server, over a real core (SQLite store, upload queue, search) whose embedder
// returns known vectors, so results and scores can be asserted exactly.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import sharp from 'sharp';
import { createSlackBot, type SlackBot, type SlackCore } from '../../src/bots/slack/slack-bot.js';
import type { Config } from '../../src/config.js';
import type { PreparedImage } from '../../src/core/embedding/embedder.js';
import { InvalidImageError } from '../../src/core/errors.js';
import { SearchSessions } from '../../src/core/conversations/search-sessions.js';
import { ConversationPrivacy } from '../../src/core/conversations/conversation-privacy.js';
import { ShareDeletions } from '../../src/core/conversations/share-deletions.js';
import type { FleetIndexing } from '../../src/core/fleet/fleet-indexing.js';
import { ImageIndexer } from '../../src/core/indexing/image-indexer.js';
import { UploadQueue } from '../../src/core/indexing/upload-queue.js';
import type { LabelStore } from '../../src/core/labels/label-store.js';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { SearchService } from '../../src/core/search/search-service.js';
import { openSqliteVectorStore } from '../../src/core/store/sqlite-vector-store.js';
import type { ImageShare, VectorStore } from '../../src/core/store/vector-store.js';
import { KnownVectorEmbedder } from '../../src/core/testing/known-vector-embedder.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { FakeSlackApi, type FakeChannel, type FakeFileObject } from '../fakes/slack/fake-slack-api.js';
import { FakeSocketMode, type Ack } from '../fakes/slack/fake-socket-mode.js';
import { DEFAULT_DOWNLOAD_RETRY, type DownloadRetryPolicy } from '../../src/bots/download-retry.js';
import { ChannelPacer, type PacerClock } from '../../src/core/conversations/post-pacer.js';
import { localCoordination, type Coordination } from '../../src/core/fleet/coordination.js';

export const BOT_TOKEN = 'xoxb-test-bot';
export const APP_TOKEN = 'xapp-test-app';
export const SIGNING_SECRET = 'test-signing-secret';
export const TEAM = 'T1';

/** The conversations of the fake workspace. */
export const CHANNELS = {
  general: { id: 'CGENERAL01', name: 'general', is_channel: true, is_private: false, is_member: true },
  random: { id: 'CRANDOM001', name: 'random', is_channel: true, is_private: false, is_member: true },
  secret: { id: 'GSECRET001', name: 'secret', is_channel: true, is_group: true, is_private: true, is_member: true },
  dm: { id: 'DDIRECT001', is_im: true, is_private: true },
  shared: { id: 'CSHARED001', name: 'partners', is_channel: true, is_private: false, is_member: true, is_ext_shared: true },
  outside: { id: 'COUTSIDE01', name: 'outside', is_channel: true, is_private: false, is_member: false },
} satisfies Record<string, FakeChannel>;

/** RGB colours of test images; an image's vector is its colour, so scores are cosines of colours. */
export const COLOURS = {
  red: [255, 0, 0],
  orange: [255, 128, 0],
  magenta: [255, 0, 255],
  yellow: [255, 255, 0],
  green: [0, 255, 0],
  cyan: [0, 255, 255],
  blue: [0, 0, 255],
  purple: [128, 0, 255],
} as const;
export type Colour = keyof typeof COLOURS;

/** Queries the embedder knows: each is a colour direction (4th component unused). */
export const QUERIES: Record<string, number[]> = {
  red: [1, 0, 0, 0],
  green: [0, 1, 0, 0],
  blue: [0, 0, 1, 0],
  anything: [1, 1, 1, 0],
};

/** KnownVectorEmbedder that a test can teach more queries after the bot started. */
export class TeachableEmbedder extends KnownVectorEmbedder {
  readonly #extra = new Map<string, number[]>();
  #gate: Promise<void> | undefined;
  #queryGate: Promise<void> | undefined;
  /** Image embeddings begun (including held ones). */
  imagesStarted = 0;

  /** Makes `text` embed as `vector` (normalised). */
  know(text: string, vector: number[]): void {
    this.#extra.set(text, vector);
  }

  /** Makes image embeddings wait until the returned function is called (an upload held in the queue). */
  holdImages(): () => void {
    let release: () => void = () => undefined;
    this.#gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.#gate = undefined;
      release();
    };
  }

  /** Makes query embeddings wait until the returned function is called (a search that is slow). */
  holdQueries(): () => void {
    let release: () => void = () => undefined;
    this.#queryGate = new Promise((resolve) => (release = resolve));
    return () => {
      this.#queryGate = undefined;
      release();
    };
  }

  override async embedImage(image: PreparedImage): Promise<Float32Array> {
    this.imagesStarted++;
    if (this.#gate !== undefined) await this.#gate;
    return super.embedImage(image);
  }

  override async embedQuery(text: string): Promise<Float32Array> {
    if (this.#queryGate !== undefined) await this.#queryGate;
    const vector = this.#extra.get(text);
    if (vector === undefined) return super.embedQuery(text);
    this.calls.text++;
    const norm = Math.hypot(...vector);
    return Float32Array.from(vector.map((v) => v / norm));
  }
}

/** A PNG of one colour. Sizes differ per call so equal colours can still have different bytes. */
export async function pngOf(colour: Colour, size = 8): Promise<Uint8Array> {
  const [r, g, b] = COLOURS[colour];
  return new Uint8Array(await sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } }).png().toBuffer());
}

/**
 * The test's image preparation: decodes with sharp (so corrupt bytes fail as they would in the
 * product) and hands KnownVectorEmbedder the mean colour as the vector.
 */
export async function prepareByColour(bytes: Uint8Array): Promise<PreparedImage> {
  try {
    const image = sharp(bytes);
    const meta = await image.metadata();
    const { data } = await image.removeAlpha().resize(1, 1).raw().toBuffer({ resolveWithObject: true });
    return {
      pixels: Float32Array.from([(data[0] ?? 0) / 255, (data[1] ?? 0) / 255, (data[2] ?? 0) / 255, 0]),
      width: meta.width ?? 0,
      height: meta.height ?? 0,
      format: meta.format ?? 'unknown',
    };
  } catch (error) {
    throw new InvalidImageError('image_invalid', 'The file is damaged or is not an image findimage can read.', { cause: error });
  }
}

export interface HarnessOptions {
  /** HTTP mode (signed requests) instead of Socket Mode. */
  http?: boolean;
  /** Extra config.slack settings. */
  slack?: Partial<NonNullable<Config['slack']>>;
  backfillPageSize?: number;
  /** A data directory to use and leave in place on stop, as a restart reuses it; default a new one, removed on stop. */
  dir?: string;
  /** Opens the vector store (say Qdrant on a fake server); default an embedded one in the data directory. */
  openStore?: (dir: string) => Promise<VectorStore>;
  /** The state shared with other replicas (a fleet's, on Redis); default the local one in the data directory. */
  coordination?: Coordination;
  /** Opens the label store (say Qdrant's, shared by replicas); default a SQLite one in the data directory. */
  openLabels?: (dir: string) => Promise<LabelStore>;
  /** Fleet mode: uploads are handed to this index queue (the test runs the worker and closes it). */
  fleet?: FleetIndexing;
}

/** The bots' download retries (attempts, backoff, Retry-After cap) without the waits, so tests stay fast. */
export const NO_WAIT_DOWNLOAD_RETRY: DownloadRetryPolicy = { ...DEFAULT_DOWNLOAD_RETRY, sleep: async () => undefined };

/**
 * What @slack/web-api's WebClient logs (through Bolt's logger, so into `logs`) when it answers a
 * 429 by waiting `seconds`, the Retry-After, before retrying; it logs nothing of the kind when it
 * rejects rate-limited calls instead.
 */
export function webClientRetryLine(seconds: number): string {
  return `API Call failed due to rate limiting. Will retry in ${seconds} seconds.`;
}

/**
 * The pacer's clock in tests: time moves only when the pacer waits, and each wait is recorded, so
 * tests assert the spacing the pacer chose exactly instead of measuring elapsed time.
 */
export class VirtualPacerClock implements PacerClock {
  /** Any fixed start will do; only differences matter to the pacer. */
  #now = Date.parse('2026-01-15T12:00:00.000Z');
  /** Every wait the pacer asked for, in ms, in order. */
  readonly waits: number[] = [];
  readonly now = (): number => this.#now;
  readonly sleep = async (ms: number): Promise<void> => {
    this.waits.push(ms);
    this.#now += ms;
  };
}

export class SlackHarness {
  readonly api: FakeSlackApi;
  readonly socket: FakeSocketMode | undefined;
  readonly bot: SlackBot;
  readonly store: VectorStore;
  readonly labels: LabelStore;
  readonly uploads: UploadQueue;
  readonly indexer: ImageIndexer;
  readonly embedder: TeachableEmbedder;
  /** The clock of the bot's channel pacer: the waits it asked for between posts. */
  readonly pacing: VirtualPacerClock;
  readonly dir: string;
  /** Whether stop() removes `dir` (the harness made it). */
  readonly #ownsDir: boolean;
  /** Every line the bot logged (info and above), parsed. */
  readonly logs: Record<string, unknown>[];
  #files = 0;

  private constructor(parts: {
    api: FakeSlackApi;
    socket: FakeSocketMode | undefined;
    bot: SlackBot;
    store: VectorStore;
    labels: LabelStore;
    uploads: UploadQueue;
    indexer: ImageIndexer;
    embedder: TeachableEmbedder;
    pacing: VirtualPacerClock;
    dir: string;
    ownsDir: boolean;
    logs: Record<string, unknown>[];
  }) {
    this.#ownsDir = parts.ownsDir;
    this.logs = parts.logs;
    this.api = parts.api;
    this.socket = parts.socket;
    this.bot = parts.bot;
    this.store = parts.store;
    this.labels = parts.labels;
    this.uploads = parts.uploads;
    this.indexer = parts.indexer;
    this.embedder = parts.embedder;
    this.pacing = parts.pacing;
    this.dir = parts.dir;
  }

  static async start(options: HarnessOptions = {}): Promise<SlackHarness> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'findimage-slack-')));
    const ownsDir = options.dir === undefined;
    const logger = createSilentLogger();
    const logs: Record<string, unknown>[] = [];
    const botLogger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    );
    const api = await FakeSlackApi.start([BOT_TOKEN, APP_TOKEN]);
    api.teamId = TEAM;
    for (const channel of Object.values(CHANNELS)) api.channels.set(channel.id, { ...channel });
    const socket = options.http === true ? undefined : await FakeSocketMode.start();
    if (socket !== undefined) api.socketUrl = socket.url;

    const store = await (options.openStore?.(dir) ?? openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger }));
    const embedder = new TeachableEmbedder(4, QUERIES);
    const indexer = new ImageIndexer({ embedder, store, prepare: prepareByColour, logger });
    const uploads = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer: options.fleet ?? indexer, store, logger: botLogger, retryDelayMs: 10, maxRetryDelayMs: 50 });
    const search = new SearchService({ embedder, store, minRelativeScore: 0, logger });
    const labels = await (options.openLabels?.(dir) ?? openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger }));
    const sessions = new SearchSessions({ search, store, labels, prepareImage: prepareByColour, modelId: 'known-vectors', logger });
    // The queue logs to the bot's log, so tests can wait for a deletion or privacy change to be applied.
    const privacy = new ConversationPrivacy({ queue: uploads });
    const coordination = options.coordination ?? localCoordination({ dataDir: dir });
    const core: SlackCore = { sessions, deletions: new ShareDeletions({ queue: uploads }), uploads, privacy, coordination, ...(options.fleet === undefined ? {} : { fleet: options.fleet }) };

    const slack: NonNullable<Config['slack']> = {
      botToken: BOT_TOKEN,
      apiUrl: api.apiUrl,
      indexedReaction: 'frame_with_picture',
      ...(options.http === true ? { signingSecret: SIGNING_SECRET, port: 0 } : { appToken: APP_TOKEN }),
      ...options.slack,
    };
    const pacing = new VirtualPacerClock();
    const bot = createSlackBot({
      config: slack,
      findimage: core,
      logger: botLogger,
      // Short waits keep failure tests fast; a 429 still waits its full Retry-After.
      retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 },
      // Downloads retry as in production but without waiting; the log line gives each wait.
      downloadRetry: NO_WAIT_DOWNLOAD_RETRY,
      // Posts are paced as in production, on a clock that records each wait instead of sleeping.
      pacer: new ChannelPacer({ clock: pacing }),
      ...(options.backfillPageSize === undefined ? {} : { backfillPageSize: options.backfillPageSize }),
      httpHost: '127.0.0.1',
    });
    try {
      await bot.start();
      await socket?.waitForConnection();
    } catch (error) {
      await bot.stop().catch(() => undefined);
      await socket?.close();
      await uploads.stop();
      await labels.close();
      await store.close();
      await api.close();
      if (ownsDir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return new SlackHarness({ api, socket, bot, store, labels, uploads, indexer, embedder, pacing, dir, ownsDir, logs });
  }

  async stop(): Promise<void> {
    await this.bot.stop();
    await this.socket?.waitForClose().catch(() => undefined);
    await this.socket?.close();
    await this.uploads.stop();
    await this.labels.close();
    await this.store.close();
    await this.api.close();
    if (this.#ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Log lines whose message is `msg`. */
  logged(msg: string): Record<string, unknown>[] {
    return this.logs.filter((line) => line.msg === msg);
  }

  /** The URL Bolt listens on in HTTP mode. */
  get eventsUrl(): string {
    return `http://127.0.0.1:${this.bot.httpPort}/slack/events`;
  }

  /**
   * Indexes an image directly through the core, as if shared earlier in `where.channel`; returns
   * its point id. The same `bytes` seeded again add a share to the same image.
   */
  async seed(
    colour: Colour,
    where: Partial<ImageShare> & { channel: string; channelIsPublic: boolean; tenant?: string; filename?: string; bytes?: Uint8Array },
  ): Promise<string> {
    this.#files++;
    const { channel, channelIsPublic, tenant = TEAM, filename = `${colour}.png`, bytes, ...shareFields } = where;
    const fileId = shareFields.fileId ?? `FSEED${this.#files}`;
    const sharedAt = new Date('2026-01-15T12:00:00.000Z');
    const result = await this.indexer.index({
      bytes: bytes ?? (await pngOf(colour, 8 + this.#files)),
      filename,
      tenant,
      source: 'slack',
      createdAt: sharedAt,
      share: {
        conversation: channel,
        isPublic: channelIsPublic,
        sharedAt: sharedAt.toISOString(),
        uploader: 'U1',
        messageId: `1760000000.${String(this.#files).padStart(6, '0')}`,
        permalink: `https://example.slack.com/files/U1/${fileId}/${filename}`,
        ...shareFields,
        fileId,
      },
    });
    return result.id;
  }

  /** Serves a PNG of `colour` from the fake file host and returns its file object. */
  async servePng(colour: Colour, name = `${colour}.png`): Promise<FakeFileObject> {
    this.#files++;
    return this.api.addFile({ id: `F${this.#files}${colour.toUpperCase()}`, name, mimetype: 'image/png', bytes: await pngOf(colour, 8 + this.#files) });
  }

  /**
   * Sends /findimage in Socket Mode and returns the ack. A `triggerId` sent twice is a replay
   * (Slack retrying a command it thinks failed).
   */
  command(text: string, channel: string = CHANNELS.general.id, user = 'U1', team = TEAM, triggerId: string = randomUUID()): Promise<Ack> {
    return this.#socket().send('slash_commands', {
      token: 'verification-token',
      team_id: team,
      team_domain: 'test',
      channel_id: channel,
      channel_name: 'channel',
      user_id: user,
      user_name: 'someone',
      command: '/findimage',
      text,
      api_app_id: 'A1',
      response_url: this.api.responseUrl(),
      trigger_id: triggerId,
    });
  }

  /** Presses a button of a posted message in Socket Mode. */
  press(
    actionId: string,
    value: string | undefined,
    message: { channel: string; ts: string },
    user = 'U1',
    team = TEAM,
  ): Promise<Ack> {
    return this.#socket().send('interactive', buttonPayload(actionId, value, message, user, team, this.api.responseUrl('action')));
  }

  /** Picks `value` in a static select menu of a message in Socket Mode. */
  select(actionId: string, value: string, message: { channel: string; ts: string }, user = 'U1', team = TEAM): Promise<Ack> {
    const payload = buttonPayload(actionId, undefined, message, user, team, this.api.responseUrl('action'));
    payload.actions = [
      {
        type: 'static_select',
        action_id: actionId,
        block_id: 'findimage_controls',
        selected_option: { text: { type: 'plain_text', text: value }, value },
        placeholder: { type: 'plain_text', text: 'More like this…' },
        action_ts: String(Date.now() / 1000),
      },
    ];
    return this.#socket().send('interactive', payload);
  }

  /** Sends an interactive payload as given (sending one twice replays it, trigger id and all). */
  interact(payload: Record<string, unknown>): Promise<Ack> {
    return this.#socket().send('interactive', payload);
  }

  /** Sends a message_action (message shortcut) in Socket Mode. */
  shortcut(callbackId: string, message: Record<string, unknown>, channel: string, user = 'U1'): Promise<Ack> {
    return this.#socket().send('interactive', {
      type: 'message_action',
      callback_id: callbackId,
      trigger_id: randomUUID(),
      team: { id: TEAM, domain: 'test' },
      user: { id: user, name: 'someone', team_id: TEAM },
      channel: { id: channel, name: 'channel' },
      message,
      message_ts: message.ts,
      response_url: this.api.responseUrl('shortcut'),
      token: 'verification-token',
      action_ts: String(Date.now() / 1000),
    });
  }

  /** Sends an Events API event in Socket Mode. */
  event(event: Record<string, unknown>, team = TEAM): Promise<Ack> {
    return this.#socket().sendEvent(event, team);
  }

  /** Sends an event with a fixed event id: the second copy is a replay, as Slack's retries are. */
  eventWithId(event: Record<string, unknown>, eventId: string, team = TEAM): Promise<Ack> {
    return this.#socket().send('events_api', {
      token: 'verification-token',
      team_id: team,
      api_app_id: 'A1',
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: team, user_id: 'UBOT', is_bot: true }],
    });
  }

  /** A message event sharing `files` in `channel`. */
  shareFiles(files: unknown[], channel: string = CHANNELS.general.id, ts = '1770000500.000100', user = 'U1'): Promise<Ack> {
    return this.event({
      type: 'message',
      subtype: 'file_share',
      channel,
      channel_type: 'channel',
      user,
      text: '',
      ts,
      event_ts: ts,
      files,
    });
  }

  /** Waits until the upload queue has nothing left to do. */
  async queueIdle(): Promise<void> {
    await eventually(() => this.uploads.pending() === 0 && this.uploads.pendingShareUpdates() === 0, 'the upload queue to drain');
    await this.uploads.whenIdle();
  }

  #socket(): FakeSocketMode {
    if (this.socket === undefined) throw new Error('this harness runs in HTTP mode');
    return this.socket;
  }
}

/** A block_actions payload for one button press. */
export function buttonPayload(
  actionId: string,
  value: string | undefined,
  message: { channel: string; ts: string },
  user: string,
  team: string,
  responseUrl: string,
): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: team, domain: 'test' },
    user: { id: user, username: 'someone', team_id: team },
    api_app_id: 'A1',
    token: 'verification-token',
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    trigger_id: randomUUID(),
    channel: { id: message.channel, name: 'channel' },
    message: { type: 'message', ts: message.ts, text: 'results' },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'b1',
        text: { type: 'plain_text', text: 'button' },
        ...(value === undefined ? {} : { value }),
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
}
