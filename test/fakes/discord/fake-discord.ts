// A fake Discord for end-to-end tests: the REST API (/api/v10), the gateway (/gateway, see
// fake-gateway.ts) and an attachment CDN (/attachments) on one 127.0.0.1 port. The real
// discord.js Client talks to it through `rest: { api }`; tests drive it by dispatching gateway
// events (slash commands, button presses, messages, reactions, channel and role updates) and read
// what the bot sent back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway } from './fake-gateway.js';

/** Discord's epoch, for snowflakes that sort by time as real ones do. */
const DISCORD_EPOCH = 1_420_070_400_000n;

/** Channel types the fake uses (Discord's numbers). */
export const CHANNEL_TYPE = { text: 0, dm: 1, publicThread: 11, privateThread: 12 } as const;

/** Permission bits the tests set in overwrites (Discord's numbers). */
export const PERMISSION = { viewChannel: 1n << 10n, readMessageHistory: 1n << 16n, sendMessages: 1n << 11n } as const;

/** Everything @everyone may do in a fresh guild: all but Administrator. */
export const EVERYONE_PERMISSION_BITS = (1n << 41n) - 1n - (1n << 3n);
/** The same, as the decimal string Discord sends. */
const EVERYONE_PERMISSIONS = String(EVERYONE_PERMISSION_BITS);

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  /** Path under /api/v10 (or /attachments for the CDN). */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (undefined for none). */
  body: unknown;
  /** When it arrived (Date.now()). */
  at: number;
  /** The status the fake answered. */
  status: number;
}

/** A canned failure for the next `times` requests matching `method` and `path`. */
export interface FakeFault {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  times: number;
  /** Matching requests let through before the fault applies. */
  skip?: number;
}

export interface FakeOverwrite {
  /** Role or member id. */
  id: string;
  /** 0 role, 1 member. */
  type: 0 | 1;
  allow: bigint;
  deny: bigint;
}

export interface FakeChannelSpec {
  id: string;
  type: number;
  name?: string;
  /** Parent channel, for threads. */
  parentId?: string;
  overwrites?: FakeOverwrite[];
  /**
   * Left out of GUILD_CREATE, as a channel whose creation the bot missed: discord.js does not
   * cache it until an event carries it.
   */
  unannounced?: boolean;
  /**
   * An archived thread: Discord leaves it out of GUILD_CREATE (which lists active threads only)
   * and lists it at GET /channels/{parent}/threads/archived/public.
   */
  archived?: boolean;
  /** When the thread was archived, ISO 8601 (default: when the fake describes it). */
  archivedAt?: string;
}

/** Discord's most archived threads per page; its default when `limit` is not given is 50. */
export const ARCHIVED_THREADS_MAX_LIMIT = 100;

export interface FakeRoleSpec {
  id: string;
  name: string;
  /** The role's guild-wide permissions (default none). */
  permissions?: bigint;
}

export interface FakeGuildSpec {
  id: string;
  name: string;
  /** What @everyone (whose role id is the guild id) may do guild-wide; default all but Administrator. */
  everyonePermissions?: bigint;
  /** Extra roles besides @everyone. */
  roles?: FakeRoleSpec[];
  /** Ids of the roles (of `roles`) the bot's member holds; default none (only @everyone's permissions). */
  botRoles?: string[];
  channels: FakeChannelSpec[];
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  width?: number;
  height?: number;
}

export type FakeMessage = Record<string, unknown> & { id: string; channel_id: string };

export class FakeDiscord {
  readonly token = 'fake-bot-token';
  readonly applicationId = '900000000000000001';
  readonly botUser = { id: '900000000000000002', username: 'findimage', discriminator: '0', global_name: null, avatar: null, bot: true };
  readonly gateway: FakeGateway;
  readonly requests: RecordedRequest[] = [];
  readonly faults: FakeFault[] = [];
  readonly guilds = new Map<string, FakeGuildSpec>();
  /** Messages of each channel, oldest first. */
  readonly messages = new Map<string, FakeMessage[]>();
  /** Registered application commands by scope ("global" or a guild id). */
  readonly commands = new Map<string, unknown[]>();
  /** Attachment bytes by attachment id. */
  readonly #files = new Map<string, { bytes: Uint8Array; contentType: string; path: string }>();
  /** Attachments whose first signed link has expired (only a refreshed link works). */
  readonly expired = new Set<string>();
  /** DM channels the bot has. */
  readonly dms = new Set<string>();
  /**
   * What GET /gateway/bot answers: the shard count Discord recommends (what `shards: 'auto'`
   * runs) and how many shards may IDENTIFY at once. discord.js waits 5 s between two IDENTIFYs
   * of one bucket (shard id % maxConcurrency); Discord gives large bots 16 buckets.
   */
  readonly gatewayBot = { shards: 1, maxConcurrency: 1 };
  /**
   * The application's flags at GET /applications/@me. Default: GATEWAY_MESSAGE_CONTENT_LIMITED
   * (1 << 19), the Message Content intent of a bot in under 100 servers switched on in the
   * Developer Portal, as docs/discord.md asks (flag values:
   * https://discord.js.org/docs/packages/discord-api-types/main/ApplicationFlags:Enum).
   */
  applicationFlags = 1 << 19;
  /** Called with each request as it arrives, before it is answered (a test's moment to act mid-run). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  readonly #server: Server;
  #sequence = 0n;
  #interactions = 0;

  private constructor(server: Server) {
    this.#server = server;
    this.gateway = new FakeGateway({
      server,
      token: this.token,
      ready: () => ({ user: this.botUser, applicationId: this.applicationId, guilds: [...this.guilds.values()].map((g) => this.guildObject(g)) }),
    });
  }

  static async start(): Promise<FakeDiscord> {
    let fake: FakeDiscord | undefined;
    const server = createServer((req, res) => void fake?.handle(req, res));
    fake = new FakeDiscord(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** What DISCORD_API_URL is set to. */
  get apiUrl(): string {
    return `${this.origin}/api`;
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A new snowflake, later than every earlier one. */
  snowflake(): string {
    this.#sequence++;
    return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) + this.#sequence);
  }

  /** Requests whose method and path match. */
  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  /** Makes the next `times` matching requests fail. */
  fail(fault: Omit<FakeFault, 'times'> & { times?: number }): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Stores bytes on the fake CDN and returns the attachment object a message carries. */
  addAttachment(channelId: string, filename: string, bytes: Uint8Array, contentType = 'image/png'): FakeAttachment {
    const id = this.snowflake();
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    this.#files.set(id, { bytes, contentType, path });
    const url = `${this.origin}${path}?ex=1&is=1&hm=first`;
    return { id, filename, size: bytes.byteLength, url, proxy_url: url, content_type: contentType, width: 8, height: 8 };
  }

  /** The message object of a user message, stored in its channel's history. */
  userMessage(channelId: string, fields: { author: string; content?: string; attachments?: FakeAttachment[]; id?: string }): FakeMessage {
    const guildId = this.guildOf(channelId);
    const message: FakeMessage = {
      ...this.#messageBase(channelId, fields.id ?? this.snowflake()),
      author: userObject(fields.author),
      content: fields.content ?? '',
      attachments: fields.attachments ?? [],
      // Discord says the channel's type, so that a DM channel can be built for an uncached DM.
      channel_type: guildId === undefined ? CHANNEL_TYPE.dm : (this.guilds.get(guildId)?.channels.find((c) => c.id === channelId)?.type ?? 0),
      ...(guildId === undefined ? {} : { guild_id: guildId, member: memberObject(fields.author) }),
    };
    this.#store(message);
    return message;
  }

  /** A user posts a message (MESSAGE_CREATE). */
  postMessage(channelId: string, fields: { author: string; content?: string; attachments?: FakeAttachment[] }): FakeMessage {
    const message = this.userMessage(channelId, fields);
    this.gateway.dispatch('MESSAGE_CREATE', message);
    return message;
  }

  /** A user edits a message so that only `keep` of its attachments remain (MESSAGE_UPDATE). */
  editAttachments(message: FakeMessage, keep: FakeAttachment[]): void {
    message.attachments = keep;
    message.edited_timestamp = new Date().toISOString();
    this.gateway.dispatch('MESSAGE_UPDATE', message);
  }

  /** A message is deleted (MESSAGE_DELETE). */
  deleteMessage(message: FakeMessage): void {
    const list = this.messages.get(message.channel_id) ?? [];
    this.messages.set(message.channel_id, list.filter((m) => m.id !== message.id));
    const guildId = this.guildOf(message.channel_id);
    this.gateway.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channel_id, ...(guildId === undefined ? {} : { guild_id: guildId }) });
  }

  /** A channel is deleted (CHANNEL_DELETE). */
  deleteChannel(guildId: string, channelId: string): void {
    const guild = this.guilds.get(guildId);
    const spec = guild?.channels.find((c) => c.id === channelId);
    if (guild === undefined || spec === undefined) throw new Error(`no channel ${channelId}`);
    guild.channels = guild.channels.filter((c) => c.id !== channelId);
    this.gateway.dispatch('CHANNEL_DELETE', this.channelObject(guildId, spec));
  }

  /**
   * An admin changes a channel's permission overwrites (CHANNEL_UPDATE with the whole channel,
   * as Discord sends it).
   */
  updateOverwrites(guildId: string, channelId: string, overwrites: FakeOverwrite[]): void {
    const spec = this.guilds.get(guildId)?.channels.find((c) => c.id === channelId);
    if (spec === undefined) throw new Error(`no channel ${channelId} in guild ${guildId}`);
    spec.overwrites = overwrites;
    this.gateway.dispatch('CHANNEL_UPDATE', this.channelObject(guildId, spec));
  }

  /**
   * An admin changes a role's guild-wide permissions (GUILD_ROLE_UPDATE with the whole role);
   * the role id of @everyone is the guild id.
   */
  updateRolePermissions(guildId: string, roleId: string, permissions: bigint): void {
    const guild = this.guilds.get(guildId);
    if (guild === undefined) throw new Error(`no guild ${guildId}`);
    if (roleId === guildId) {
      guild.everyonePermissions = permissions;
    } else {
      const role = guild.roles?.find((r) => r.id === roleId);
      if (role === undefined) throw new Error(`no role ${roleId} in guild ${guildId}`);
      role.permissions = permissions;
    }
    const roles = this.guildObject(guild).roles as Array<{ id: string }>;
    this.gateway.dispatch('GUILD_ROLE_UPDATE', { guild_id: guildId, role: roles.find((r) => r.id === roleId) });
  }

  /** A reaction added or removed by `userId` on a message. */
  react(message: FakeMessage, userId: string, emoji: string, added = true): void {
    const guildId = this.guildOf(message.channel_id);
    this.gateway.dispatch(added ? 'MESSAGE_REACTION_ADD' : 'MESSAGE_REACTION_REMOVE', {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      emoji: { id: null, name: emoji },
      burst: false,
      type: 0,
      ...(guildId === undefined ? {} : { guild_id: guildId }),
      ...(added && guildId !== undefined ? { member: memberObject(userId) } : {}),
    });
  }

  /** A slash command invocation; returns the interaction's token. */
  slashCommand(channelId: string, userId: string, name: string, options: Array<{ name: string; type: number; value: unknown }>): string {
    return this.#interaction(channelId, userId, 2, { id: this.snowflake(), name, type: 1, options });
  }

  /** The "Find similar images" message command on `message`; returns the interaction's token. */
  messageCommand(channelId: string, userId: string, name: string, message: FakeMessage): string {
    return this.#interaction(channelId, userId, 2, {
      id: this.snowflake(),
      name,
      type: 3,
      target_id: message.id,
      resolved: { messages: { [message.id]: message } },
    });
  }

  /** A button press on `message`; returns the interaction's token. */
  pressButton(message: FakeMessage, userId: string, customId: string): string {
    return this.#interaction(message.channel_id, userId, 3, { custom_id: customId, component_type: 2 }, message);
  }

  /** The interaction callbacks and webhook messages sent for an interaction, in order. */
  responsesTo(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(`/${token}/`) || r.path.endsWith(`/${token}`));
  }

  /** The message an interaction's @original now shows (after deferrals and edits). */
  originalOf(token: string): FakeMessage | undefined {
    return this.#originals.get(token);
  }

  readonly #originals = new Map<string, FakeMessage>();
  readonly #tokenChannels = new Map<string, string>();

  guildOf(channelId: string): string | undefined {
    for (const guild of this.guilds.values()) if (guild.channels.some((c) => c.id === channelId)) return guild.id;
    return undefined;
  }

  channelObject(guildId: string | undefined, spec: FakeChannelSpec): Record<string, unknown> {
    if (spec.type === CHANNEL_TYPE.dm) return { id: spec.id, type: 1, recipients: [], last_message_id: null };
    const base = {
      id: spec.id,
      type: spec.type,
      guild_id: guildId,
      name: spec.name ?? spec.id,
      position: 0,
      permission_overwrites: (spec.overwrites ?? []).map((o) => ({ id: o.id, type: o.type, allow: String(o.allow), deny: String(o.deny) })),
      nsfw: false,
      parent_id: spec.parentId ?? null,
    };
    if (spec.type === CHANNEL_TYPE.publicThread || spec.type === CHANNEL_TYPE.privateThread) {
      return {
        ...base,
        owner_id: '1',
        thread_metadata: {
          archived: spec.archived === true,
          auto_archive_duration: 1440,
          archive_timestamp: spec.archivedAt ?? new Date().toISOString(),
          locked: false,
        },
        member_count: 1,
        message_count: 0,
      };
    }
    return base;
  }

  /** A role's permissions as Discord sends them: what the spec says, else `fallback`. */
  #permissionsOf(spec: FakeGuildSpec, roleId: string, fallback: string): string {
    const bits = roleId === spec.id ? spec.everyonePermissions : spec.roles?.find((r) => r.id === roleId)?.permissions;
    return bits === undefined ? fallback : String(bits);
  }

  /** What the bot may do guild-wide: @everyone's bits and its roles', as Discord computes them. */
  #botGuildPermissions(spec: FakeGuildSpec): bigint {
    let bits = spec.everyonePermissions ?? EVERYONE_PERMISSION_BITS;
    for (const id of spec.botRoles ?? []) bits |= spec.roles?.find((r) => r.id === id)?.permissions ?? 0n;
    return bits;
  }

  guildObject(spec: FakeGuildSpec): Record<string, unknown> {
    const role = (id: string, name: string, position: number, permissions: string) => ({
      id,
      name,
      permissions: this.#permissionsOf(spec, id, permissions),
      position,
      color: 0,
      hoist: false,
      managed: false,
      mentionable: false,
      flags: 0,
    });
    const isThread = (c: FakeChannelSpec) => c.type === CHANNEL_TYPE.publicThread || c.type === CHANNEL_TYPE.privateThread;
    // GUILD_CREATE lists active threads only.
    const announced = spec.channels.filter((c) => c.unannounced !== true && c.archived !== true);
    return {
      id: spec.id,
      name: spec.name,
      icon: null,
      owner_id: '1',
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      premium_tier: 0,
      system_channel_flags: 0,
      nsfw_level: 0,
      preferred_locale: 'en-US',
      features: [],
      emojis: [],
      stickers: [],
      roles: [role(spec.id, '@everyone', 0, EVERYONE_PERMISSIONS), ...(spec.roles ?? []).map((r, i) => role(r.id, r.name, i + 1, '0'))],
      channels: announced.filter((c) => !isThread(c)).map((c) => this.channelObject(spec.id, c)),
      threads: announced.filter(isThread).map((c) => this.channelObject(spec.id, c)),
      members: [{ user: this.botUser, roles: spec.botRoles ?? [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
      member_count: 2,
      large: false,
      unavailable: false,
      joined_at: new Date().toISOString(),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }

  #interaction(channelId: string, userId: string, type: number, data: Record<string, unknown>, message?: FakeMessage): string {
    this.#interactions++;
    const token = `itoken-${this.#interactions}`;
    this.#tokenChannels.set(token, channelId);
    const guildId = this.guildOf(channelId);
    const spec = guildId === undefined ? { id: channelId, type: CHANNEL_TYPE.dm } : this.guilds.get(guildId)?.channels.find((c) => c.id === channelId);
    this.gateway.dispatch('INTERACTION_CREATE', {
      id: this.snowflake(),
      application_id: this.applicationId,
      type,
      data,
      channel_id: channelId,
      channel: spec === undefined ? { id: channelId, type: 0 } : this.channelObject(guildId, spec),
      token,
      version: 1,
      app_permissions: EVERYONE_PERMISSIONS,
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { 0: guildId ?? '0' },
      context: guildId === undefined ? 1 : 0,
      attachment_size_limit: 10 * 1024 * 1024,
      ...(guildId === undefined ? { user: userObject(userId) } : { guild_id: guildId, guild_locale: 'en-US', member: { ...memberObject(userId), permissions: EVERYONE_PERMISSIONS } }),
      ...(message === undefined ? {} : { message }),
    });
    return token;
  }

  #messageBase(channelId: string, id: string): FakeMessage {
    return {
      id,
      channel_id: channelId,
      type: 0,
      content: '',
      // The time inside the id, as on Discord (discord.js reads createdAt from the snowflake).
      timestamp: new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH)).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      flags: 0,
    };
  }

  #store(message: FakeMessage): void {
    const list = this.messages.get(message.channel_id) ?? [];
    list.push(message);
    this.messages.set(message.channel_id, list);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/api\/v10/, '');
    const record: RecordedRequest = { method, path, query: url.searchParams, body, at: Date.now(), status: 200 };
    this.requests.push(record);
    this.onRequest?.(record);
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (payload instanceof Uint8Array) {
        res.writeHead(status, { 'content-length': String(payload.byteLength), ...headers });
        res.end(payload);
      } else if (payload === undefined) {
        res.writeHead(status, headers).end();
      } else {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
      }
    };
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && f.path.test(path));
    if (fault !== undefined && (fault.skip ?? 0) > 0) {
      fault.skip = (fault.skip ?? 0) - 1;
    } else if (fault !== undefined) {
      fault.times--;
      send(fault.status, fault.body, fault.headers);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      this.#serveAttachment(path, url.searchParams, send);
      return;
    }
    const authorized = req.headers.authorization === `Bot ${this.token}`;
    const isInteractionRoute = path.startsWith('/interactions/') || path.startsWith('/webhooks/');
    if (!authorized && !isInteractionRoute) {
      send(401, { message: '401: Unauthorized', code: 0 });
      return;
    }
    const answer = this.#route(method, path, url.searchParams, body);
    send(answer.status, answer.body);
  }

  #serveAttachment(path: string, query: URLSearchParams, send: (status: number, payload?: unknown, headers?: Record<string, string>) => void): void {
    const id = path.split('/')[3] ?? '';
    const file = this.#files.get(id);
    if (file === undefined || (this.expired.has(id) && query.get('hm') !== 'refreshed')) {
      send(404, new TextEncoder().encode('This content is no longer available.'), { 'content-type': 'text/plain' });
      return;
    }
    send(200, file.bytes, { 'content-type': file.contentType });
  }

  #route(method: string, path: string, query: URLSearchParams, body: unknown): { status: number; body?: unknown } {
    const parts = path.split('/').filter((p) => p !== '');
    const json = (body ?? {}) as Record<string, unknown>;
    if (method === 'GET' && path === '/gateway/bot') {
      return {
        status: 200,
        body: {
          url: `${this.origin.replace('http', 'ws')}/gateway`,
          shards: this.gatewayBot.shards,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: this.gatewayBot.maxConcurrency },
        },
      };
    }
    if (method === 'GET' && path === '/applications/@me') {
      return { status: 200, body: { id: this.applicationId, name: 'findimage', bot_public: true, flags: this.applicationFlags } };
    }
    if (method === 'GET' && path === '/users/@me') return { status: 200, body: this.botUser };
    if (method === 'GET' && path === '/users/@me/guilds') {
      // Partial guilds; `permissions` is the bot's guild-wide total (roles, no channel overwrites):
      // https://discord.com/developers/docs/resources/user#get-current-user-guilds
      const list = [...this.guilds.values()].map((g) => ({ id: g.id, name: g.name, icon: null, owner: false, permissions: String(this.#botGuildPermissions(g)), features: [] }));
      return { status: 200, body: list };
    }
    if (method === 'GET' && parts[0] === 'guilds' && parts.length === 2) {
      const guild = this.guilds.get(parts[1] ?? '');
      return guild === undefined ? { status: 404, body: { message: 'Unknown Guild', code: 10004 } } : { status: 200, body: this.guildObject(guild) };
    }
    if (method === 'GET' && parts[0] === 'guilds' && parts[2] === 'members' && parts.length === 4) {
      const guild = this.guilds.get(parts[1] ?? '');
      if (guild === undefined) return { status: 404, body: { message: 'Unknown Guild', code: 10004 } };
      if (parts[3] !== this.botUser.id) return { status: 404, body: { message: 'Unknown Member', code: 10007 } };
      return { status: 200, body: { user: this.botUser, roles: guild.botRoles ?? [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 } };
    }
    if (method === 'PUT' && parts[0] === 'applications' && parts[2] === 'commands') {
      return this.#putCommands('global', body);
    }
    if (method === 'PUT' && parts[0] === 'applications' && parts[2] === 'guilds' && parts[4] === 'commands') {
      return this.#putCommands(parts[3] ?? '', body);
    }
    if (method === 'POST' && parts[0] === 'interactions' && parts[3] === 'callback') {
      const token = parts[2] ?? '';
      const data = (json.data ?? {}) as Record<string, unknown>;
      // 4 reply, 5 deferred reply, 6 deferred update, 7 update: all end up as @original.
      const previous = this.#originals.get(token);
      if (json.type === 4 || json.type === 5 || previous === undefined) {
        const channelId = this.#tokenChannels.get(token) ?? '0';
        this.#originals.set(token, { ...this.#messageBase(channelId, this.snowflake()), ...data, author: this.botUser, webhook_id: this.applicationId });
      } else if (json.type === 7) {
        this.#originals.set(token, { ...previous, ...data });
      }
      return { status: 204 };
    }
    if (parts[0] === 'webhooks' && parts[3] === 'messages') {
      const token = parts[2] ?? '';
      const original = this.#originals.get(token);
      if (original === undefined) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      if (method === 'PATCH') Object.assign(original, json);
      return { status: 200, body: original };
    }
    if (method === 'POST' && parts[0] === 'webhooks') {
      const channelId = this.#tokenChannels.get(parts[2] ?? '') ?? '0';
      return { status: 200, body: { ...this.#messageBase(channelId, this.snowflake()), ...json, author: this.botUser } };
    }
    if (method === 'POST' && path === '/attachments/refresh-urls') {
      const urls = Array.isArray(json.attachment_urls) ? (json.attachment_urls as string[]) : [];
      return {
        status: 200,
        body: {
          refreshed_urls: urls.map((original) => {
            const refreshed = new URL(original);
            refreshed.search = '?ex=2&is=2&hm=refreshed';
            return { original, refreshed: refreshed.toString() };
          }),
        },
      };
    }
    if (parts[0] === 'channels') return this.#channelRoute(method, parts, query, json);
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }

  #channelRoute(method: string, parts: string[], query: URLSearchParams, json: Record<string, unknown>): { status: number; body?: unknown } {
    const channelId = parts[1] ?? '';
    const guildId = this.guildOf(channelId);
    const spec = guildId === undefined ? undefined : this.guilds.get(guildId)?.channels.find((c) => c.id === channelId);
    const known = spec !== undefined || this.dms.has(channelId);
    if (!known) return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    if (method === 'GET' && parts[2] === 'threads' && parts[3] === 'archived' && parts[4] === 'public' && parts.length === 5) {
      return this.#archivedPublicThreads(guildId, channelId, query);
    }
    if (method === 'GET' && parts.length === 2) {
      return { status: 200, body: spec === undefined ? this.channelObject(undefined, { id: channelId, type: 1 }) : this.channelObject(guildId, spec) };
    }
    const history = this.messages.get(channelId) ?? [];
    if (method === 'POST' && parts[2] === 'messages' && parts.length === 3) {
      const message: FakeMessage = {
        ...this.#messageBase(channelId, this.snowflake()),
        ...json,
        author: this.botUser,
        ...(guildId === undefined ? {} : { guild_id: guildId }),
      };
      this.#store(message);
      return { status: 200, body: message };
    }
    if (method === 'GET' && parts[2] === 'messages' && parts.length === 3) {
      const limit = Number(query.get('limit') ?? 50);
      const before = query.get('before');
      const older = before === null ? history : history.filter((m) => BigInt(m.id) < BigInt(before));
      return { status: 200, body: older.slice(-limit).reverse() };
    }
    if (method === 'PUT' && parts[2] === 'messages' && parts[4] === 'reactions') {
      const message = history.find((m) => m.id === parts[3]);
      if (message === undefined) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
      const reactions = (message.botReactions ?? []) as string[];
      message.botReactions = [...reactions, decodeURIComponent(parts[5] ?? '')];
      return { status: 204 };
    }
    if (method === 'GET' && parts[2] === 'messages' && parts[3] !== undefined) {
      const message = history.find((m) => m.id === parts[3]);
      return message === undefined ? { status: 404, body: { message: 'Unknown Message', code: 10008 } } : { status: 200, body: message };
    }
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }

  /**
   * GET /channels/{id}/threads/archived/public as Discord answers it: the channel's archived
   * public threads, most recently archived first, those archived before `before` (ISO 8601)
   * when given, at most `limit` (default 50, 2 to 100), as `{threads, members, has_more}`;
   * `members` lists the bot's own memberships, and the bot joins none here.
   */
  #archivedPublicThreads(guildId: string | undefined, channelId: string, query: URLSearchParams): { status: number; body: unknown } {
    const limitText = query.get('limit');
    const limit = limitText === null ? 50 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 2 || limit > ARCHIVED_THREADS_MAX_LIMIT) {
      return { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: { limit: { _errors: [{ code: 'NUMBER_TYPE_MAX', message: 'int value should be between 2 and 100.' }] } } } };
    }
    const before = query.get('before');
    const guild = guildId === undefined ? undefined : this.guilds.get(guildId);
    const archived = (guild?.channels ?? [])
      .filter((c) => c.parentId === channelId && c.type === CHANNEL_TYPE.publicThread && c.archived === true)
      .map((c) => ({ spec: c, at: c.archivedAt ?? new Date(0).toISOString() }))
      .filter((t) => before === null || Date.parse(t.at) < Date.parse(before))
      .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    const page = archived.slice(0, limit);
    return {
      status: 200,
      body: { threads: page.map((t) => this.channelObject(guildId, { ...t.spec, archivedAt: t.at })), members: [], has_more: archived.length > limit },
    };
  }

  #putCommands(scope: string, body: unknown): { status: number; body: unknown } {
    const list = (Array.isArray(body) ? body : []).map((command: Record<string, unknown>) => ({
      id: this.snowflake(),
      application_id: this.applicationId,
      version: '1',
      default_member_permissions: null,
      ...command,
    }));
    this.commands.set(scope, list);
    return { status: 200, body: list };
  }
}

export function userObject(id: string): Record<string, unknown> {
  return { id, username: `user${id.slice(-4)}`, discriminator: '0', global_name: null, avatar: null };
}

function memberObject(userId: string): Record<string, unknown> {
  return { user: userObject(userId), roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 };
}
