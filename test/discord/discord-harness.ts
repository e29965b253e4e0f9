// Builds a real Discord bot for end-to-end tests: the real discord.js Client against the fake
// Discord (REST, gateway, CDN) on 127.0.0.1, over a real core (SQLite store, upload queue,
// search sessions) whose embedder returns known vectors, so results can be asserted exactly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createDiscordBot, type DiscordBot, type DiscordCore } from '../../src/bots/discord/discord-bot.js';
import type { Config } from '../../src/config.js';
import { SearchSessions } from '../../src/core/conversations/search-sessions.js';
import { ConversationPrivacy } from '../../src/core/conversations/conversation-privacy.js';
import { ShareDeletions } from '../../src/core/conversations/share-deletions.js';
import { localCoordination, type Coordination } from '../../src/core/fleet/coordination.js';
import type { FleetIndexing } from '../../src/core/fleet/fleet-indexing.js';
import { ImageIndexer } from '../../src/core/indexing/image-indexer.js';
import { UploadQueue } from '../../src/core/indexing/upload-queue.js';
import { openSqliteLabelStore, type SqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { SearchService } from '../../src/core/search/search-service.js';
import { openSqliteVectorStore } from '../../src/core/store/sqlite-vector-store.js';
import type { ImageShare, VectorStore } from '../../src/core/store/vector-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { CHANNEL_TYPE, FakeDiscord, PERMISSION, type FakeAttachment, type FakeMessage } from '../fakes/discord/fake-discord.js';
import { eventually } from '../fakes/slack/eventually.js';
import { NO_WAIT_DOWNLOAD_RETRY, QUERIES, TeachableEmbedder, pngOf, prepareByColour, type Colour } from '../slack/slack-harness.js';

export const GUILD = '100000000000000001';
export const OTHER_GUILD = '100000000000000002';
export const STAFF_ROLE = '110000000000000001';
export const USER = '400000000000000001';
export const OTHER_USER = '400000000000000002';

/** The channels of the fake guilds (and one DM). */
export const CHANNELS = {
  general: '200000000000000001',
  random: '200000000000000002',
  /** @everyone denied View Channel; the staff role allowed. */
  secret: '200000000000000003',
  /** A public thread under #general. */
  thread: '200000000000000004',
  /** A private thread under #general. */
  privateThread: '200000000000000005',
  /** @everyone may view but not read history. */
  noHistory: '200000000000000006',
  /** In the other guild. */
  elsewhere: '200000000000000009',
  /** A text channel the bot never heard of (left out of GUILD_CREATE). */
  unannounced: '200000000000000010',
  /** A public thread whose parent is that unknown channel: its parent, so its facts, are unknown. */
  orphanThread: '200000000000000011',
  dm: '300000000000000001',
} as const;

export interface DiscordHarnessOptions {
  /** Extra config.discord settings. */
  discord?: Partial<NonNullable<Config['discord']>>;
  backfillPageSize?: number;
  /** Data directory to reuse (a restart); a new one otherwise. */
  dir?: string;
  /** The state shared with other replicas (a fleet's, on Redis); default the local one in the data directory. */
  coordination?: Coordination;
  /** A fake Discord another harness already runs (a second replica of the bot); the owner closes it. */
  fake?: FakeDiscord;
  /** Fleet mode: uploads are handed to this index queue (the test runs the worker and closes it). */
  fleet?: FleetIndexing;
}

export class DiscordHarness {
  #files = 0;

  private constructor(
    readonly fake: FakeDiscord,
    readonly bot: DiscordBot,
    readonly store: VectorStore,
    readonly labels: SqliteLabelStore,
    readonly uploads: UploadQueue,
    readonly indexer: ImageIndexer,
    readonly embedder: TeachableEmbedder,
    readonly dir: string,
    /** Every line the bot logged (info and above), parsed. */
    readonly logs: Record<string, unknown>[],
    /** Whether stop() closes the fake (false when another harness started it). */
    readonly ownsFake: boolean,
  ) {}

  static async start(options: DiscordHarnessOptions = {}): Promise<DiscordHarness> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'findimage-discord-')));
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
    const fake = options.fake ?? (await FakeDiscord.start());
    fake.guilds.set(GUILD, {
      id: GUILD,
      name: 'Test guild',
      roles: [{ id: STAFF_ROLE, name: 'staff' }],
      channels: [
        { id: CHANNELS.general, type: CHANNEL_TYPE.text, name: 'general' },
        { id: CHANNELS.random, type: CHANNEL_TYPE.text, name: 'random' },
        {
          id: CHANNELS.secret,
          type: CHANNEL_TYPE.text,
          name: 'secret',
          overwrites: [
            { id: GUILD, type: 0, allow: 0n, deny: PERMISSION.viewChannel },
            { id: STAFF_ROLE, type: 0, allow: PERMISSION.viewChannel, deny: 0n },
          ],
        },
        { id: CHANNELS.thread, type: CHANNEL_TYPE.publicThread, name: 'thread', parentId: CHANNELS.general },
        { id: CHANNELS.privateThread, type: CHANNEL_TYPE.privateThread, name: 'private-thread', parentId: CHANNELS.general },
        {
          id: CHANNELS.noHistory,
          type: CHANNEL_TYPE.text,
          name: 'announcements',
          overwrites: [{ id: GUILD, type: 0, allow: 0n, deny: PERMISSION.readMessageHistory }],
        },
        { id: CHANNELS.unannounced, type: CHANNEL_TYPE.text, name: 'missed', unannounced: true },
        { id: CHANNELS.orphanThread, type: CHANNEL_TYPE.publicThread, name: 'orphan-thread', parentId: CHANNELS.unannounced },
      ],
    });
    fake.guilds.set(OTHER_GUILD, { id: OTHER_GUILD, name: 'Other guild', channels: [{ id: CHANNELS.elsewhere, type: CHANNEL_TYPE.text, name: 'general' }] });
    fake.dms.add(CHANNELS.dm);

    const store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
    const embedder = new TeachableEmbedder(4, QUERIES);
    const indexer = new ImageIndexer({ embedder, store, prepare: prepareByColour, logger });
    const uploads = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer: options.fleet ?? indexer, store, logger: botLogger, retryDelayMs: 10, maxRetryDelayMs: 50 });
    const search = new SearchService({ embedder, store, minRelativeScore: 0, logger });
    const labels = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger });
    const sessions = new SearchSessions({ search, store, labels, prepareImage: prepareByColour, modelId: 'known-vectors', logger });
    // The queue logs to the bot's log, so tests can wait for a deletion or privacy change to be applied.
    const privacy = new ConversationPrivacy({ queue: uploads });
    const coordination = options.coordination ?? localCoordination({ dataDir: dir });
    const core: DiscordCore = { sessions, deletions: new ShareDeletions({ queue: uploads }), uploads, privacy, coordination, ...(options.fleet === undefined ? {} : { fleet: options.fleet }) };
    const bot = createDiscordBot({ config: { token: fake.token, apiUrl: fake.apiUrl, ...options.discord }, findimage: core,
      logger: botLogger,
      ...(options.backfillPageSize === undefined ? {} : { backfillPageSize: options.backfillPageSize }),
      // Downloads retry as in production but without waiting; the log line gives each wait.
      downloadRetry: NO_WAIT_DOWNLOAD_RETRY,
    });
    try {
      await bot.start();
    } catch (error) {
      await bot.stop().catch(() => undefined);
      await uploads.stop();
      await labels.close();
      await store.close();
      if (options.fake === undefined) await fake.close();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return new DiscordHarness(fake, bot, store, labels, uploads, indexer, embedder, dir, logs, options.fake === undefined);
  }

  async stop(): Promise<void> {
    await this.bot.stop();
    await this.uploads.stop();
    await this.labels.close();
    await this.store.close();
    if (this.ownsFake) await this.fake.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Log lines whose message is `msg`. */
  logged(msg: string): Record<string, unknown>[] {
    return this.logs.filter((line) => line.msg === msg);
  }

  /** Indexes an image directly through the core, as if posted earlier in `channel`; returns its point id. */
  async seed(colour: Colour, where: Partial<ImageShare> & { channel: string; isPublic: boolean; tenant?: string; bytes?: Uint8Array }): Promise<string> {
    this.#files++;
    const { channel, isPublic, tenant = GUILD, bytes, ...shareFields } = where;
    const sharedAt = new Date('2026-01-15T12:00:00.000Z');
    const result = await this.indexer.index({
      bytes: bytes ?? (await pngOf(colour, 8 + this.#files)),
      filename: `${colour}.png`,
      tenant,
      source: 'discord',
      createdAt: sharedAt,
      share: {
        conversation: channel,
        isPublic,
        sharedAt: sharedAt.toISOString(),
        uploader: USER,
        messageId: `50000000000000000${this.#files}`,
        fileId: `60000000000000000${this.#files}`,
        ...shareFields,
      },
    });
    return result.id;
  }

  /** A PNG of `colour` stored on the fake CDN, as an attachment object. */
  async attachment(colour: Colour, channel: string, name = `${colour}.png`): Promise<FakeAttachment> {
    this.#files++;
    return this.fake.addAttachment(channel, name, await pngOf(colour, 8 + this.#files));
  }

  /** Runs /findimage with `query` (and other options) and waits for the bot's answer to settle. */
  async search(query: string, channel: string = CHANNELS.general, user = USER, extra: Array<{ name: string; type: number; value: unknown }> = []): Promise<{ token: string; reply: FakeMessage }> {
    const token = this.fake.slashCommand(channel, user, 'findimage', [{ name: 'query', type: 3, value: query }, ...extra]);
    const reply = await this.answerTo(token);
    return { token, reply };
  }

  /** Waits until an interaction's deferred reply has been edited, and returns what it shows. */
  async answerTo(token: string, edits = 1): Promise<FakeMessage> {
    await eventually(() => this.fake.requestsTo('PATCH', new RegExp(`/webhooks/[^/]+/${token}/messages/`)).length >= edits, `the answer to ${token}`);
    const original = this.fake.originalOf(token);
    if (original === undefined) throw new Error(`no reply to ${token}`);
    return original;
  }

  /** Waits until the upload queue has nothing left to do. */
  async queueIdle(): Promise<void> {
    await eventually(() => this.uploads.pending() === 0 && this.uploads.pendingShareUpdates() === 0, 'the upload queue to drain');
    await this.uploads.whenIdle();
  }
}

/** Every text display's content in a Components V2 message, or its plain content. */
export function textOf(message: FakeMessage): string {
  const texts: string[] = [];
  const walk = (components: unknown): void => {
    if (!Array.isArray(components)) return;
    for (const c of components as Array<Record<string, unknown>>) {
      if (c.type === 10 && typeof c.content === 'string') texts.push(c.content);
      walk(c.components);
    }
  };
  walk(message.components);
  return [typeof message.content === 'string' ? message.content : '', ...texts].filter((t) => t !== '').join('\n');
}

/** The custom ids of every button in a message, in order. */
export function buttonsOf(message: FakeMessage): string[] {
  const ids: string[] = [];
  const walk = (components: unknown): void => {
    if (!Array.isArray(components)) return;
    for (const c of components as Array<Record<string, unknown>>) {
      if (c.type === 2 && typeof c.custom_id === 'string') ids.push(c.custom_id);
      walk(c.components);
    }
  };
  walk(message.components);
  return ids;
}

/** The media gallery URLs of a message. */
export function galleryOf(message: FakeMessage): string[] {
  const components = (message.components ?? []) as Array<{ type: number; items?: Array<{ media: { url: string } }> }>;
  return components.filter((c) => c.type === 12).flatMap((c) => (c.items ?? []).map((i) => i.media.url));
}
