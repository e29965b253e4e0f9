// A fake Discord gateway (WebSocket, JSON encoding, no compression) for the real discord.js
// Client: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats acknowledged, and RESUME replaying
// every dispatch the client missed while disconnected, so a reconnect can be tested to lose nothing.
// Sharded as Discord shards: each IDENTIFY names its shard [id, count] and opens a session of
// its own, and a guild's events go only to shard (guild_id >> 22) % count (DMs to shard 0).
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/** Gateway opcodes the fake speaks (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
const OP = { dispatch: 0, heartbeat: 1, identify: 2, resume: 6, reconnect: 7, invalidSession: 9, hello: 10, heartbeatAck: 11 } as const;

/** Long enough that no heartbeat is due during a test unless the test asks for one. */
const HEARTBEAT_INTERVAL_MS = 45_000;

/** Guild-level events whose `d.id` is the guild id (others carry `d.guild_id`). */
const GUILD_EVENTS: ReadonlySet<string> = new Set(['GUILD_CREATE', 'GUILD_UPDATE', 'GUILD_DELETE']);

interface GatewayPayload {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

/** One shard's session: its socket (while connected) and every dispatch, for RESUME to replay. */
interface ShardSession {
  shard: number;
  socket: WebSocket | undefined;
  sessionId: string;
  /** Every dispatch of this shard, in order (s = index + 1). */
  sent: GatewayPayload[];
  /** Whether the socket finished IDENTIFY or RESUME (dispatches wait until then). */
  live: boolean;
}

export interface FakeGatewayOptions {
  /** The HTTP server the gateway shares (path /gateway). */
  server: Server;
  /** The only token IDENTIFY and RESUME accept. */
  token: string;
  /** The READY payload's user and application, and the guilds to send as GUILD_CREATE. */
  ready: () => { user: Record<string, unknown>; applicationId: string; guilds: Record<string, unknown>[] };
}

/** The shard Discord sends a guild's events to: (guild_id >> 22) % shard count. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export class FakeGateway {
  readonly #wss: WebSocketServer;
  readonly #options: FakeGatewayOptions;
  /** Sessions by shard id; a dropped shard's session stays, for RESUME. */
  readonly #shards = new Map<number, ShardSession>();
  /** The shard count the last IDENTIFY named (1 before any, and for an unsharded client). */
  #shardCount = 1;
  #sessions = 0;
  /** IDENTIFY and RESUME payloads received, in order (an IDENTIFY's `d.shard` is [id, count] when sharded). */
  readonly handshakes: Array<{ op: 'identify' | 'resume'; d: Record<string, unknown> }> = [];
  heartbeats = 0;
  #waiters: Array<() => void> = [];

  constructor(options: FakeGatewayOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({ server: options.server, path: '/gateway' });
    this.#wss.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Sends a dispatch event to the shard that owns its guild (shard 0 for events of no guild);
   * while that shard is away it is kept, and a RESUME replays it.
   */
  dispatch(t: string, d: unknown): void {
    this.#dispatchTo(this.#session(this.#shardFor(t, d)), t, d);
  }

  /** Whether a client is connected and identified or resumed (on any shard). */
  get connected(): boolean {
    return [...this.#shards.values()].some((s) => s.live);
  }

  /** The shards connected and identified or resumed now, in order. */
  get liveShards(): number[] {
    return [...this.#shards.values()].filter((s) => s.live).map((s) => s.shard).sort((a, b) => a - b);
  }

  /** Resolves once a client is connected and past IDENTIFY or RESUME. */
  async waitForLive(): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Drops every shard's connection as a network fault would (close code 4000: the client may resume). */
  drop(): void {
    for (const session of this.#shards.values()) {
      session.live = false;
      session.socket?.close(4000, 'unknown error');
      session.socket = undefined;
    }
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #shardFor(t: string, d: unknown): number {
    const fields = (d ?? {}) as Record<string, unknown>;
    const guildId = typeof fields.guild_id === 'string' ? fields.guild_id : GUILD_EVENTS.has(t) && typeof fields.id === 'string' ? fields.id : undefined;
    return guildId === undefined ? 0 : shardOfGuild(guildId, this.#shardCount);
  }

  #session(shard: number): ShardSession {
    let session = this.#shards.get(shard);
    if (session === undefined) {
      session = { shard, socket: undefined, sessionId: '', sent: [], live: false };
      this.#shards.set(shard, session);
    }
    return session;
  }

  #dispatchTo(session: ShardSession, t: string, d: unknown): void {
    const payload: GatewayPayload = { op: OP.dispatch, t, s: session.sent.length + 1, d };
    session.sent.push(payload);
    if (session.live) session.socket?.send(JSON.stringify(payload));
  }

  #accept(socket: WebSocket): void {
    socket.on('message', (raw: Buffer) => this.#receive(socket, JSON.parse(raw.toString('utf8')) as GatewayPayload));
    socket.on('close', () => {
      for (const session of this.#shards.values()) {
        if (session.socket !== socket) continue;
        session.live = false;
        session.socket = undefined;
      }
    });
    socket.send(JSON.stringify({ op: OP.hello, d: { heartbeat_interval: HEARTBEAT_INTERVAL_MS } }));
  }

  #receive(socket: WebSocket, payload: GatewayPayload): void {
    const d = (payload.d ?? {}) as Record<string, unknown>;
    if (payload.op === OP.heartbeat) {
      this.heartbeats++;
      socket.send(JSON.stringify({ op: OP.heartbeatAck }));
    } else if (payload.op === OP.identify) {
      this.handshakes.push({ op: 'identify', d });
      if (d.token !== this.#options.token) {
        socket.close(4004, 'Authentication failed.');
        return;
      }
      const [shard, count] = Array.isArray(d.shard) ? (d.shard as [number, number]) : [0, 1];
      if (!Number.isInteger(shard) || !Number.isInteger(count) || count < 1 || shard < 0 || shard >= count) {
        socket.close(4010, 'Invalid shard.');
        return;
      }
      this.#identify(socket, shard, count);
    } else if (payload.op === OP.resume) {
      this.handshakes.push({ op: 'resume', d });
      const session = [...this.#shards.values()].find((s) => s.sessionId !== '' && s.sessionId === d.session_id);
      if (d.token !== this.#options.token || session === undefined) {
        socket.send(JSON.stringify({ op: OP.invalidSession, d: false }));
        return;
      }
      const seq = typeof d.seq === 'number' ? d.seq : 0;
      for (const missed of session.sent.slice(seq)) socket.send(JSON.stringify(missed));
      this.#goLive(session, socket);
      this.#dispatchTo(session, 'RESUMED', {});
    }
  }

  #identify(socket: WebSocket, shard: number, count: number): void {
    const { user, applicationId, guilds } = this.#options.ready();
    this.#shardCount = count;
    const session = this.#session(shard);
    if (session.socket !== undefined && session.socket !== socket) session.socket.terminate();
    this.#sessions++;
    session.sessionId = `session-${this.#sessions}`;
    this.#goLive(session, socket);
    const address = this.#wss.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const mine = guilds.filter((g) => shardOfGuild(String(g.id), count) === shard);
    this.#dispatchTo(session, 'READY', {
      v: 10,
      user,
      guilds: mine.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.sessionId,
      resume_gateway_url: `ws://127.0.0.1:${port}/gateway`,
      application: { id: applicationId, flags: 0 },
      shard: [shard, count],
    });
    for (const guild of mine) this.#dispatchTo(session, 'GUILD_CREATE', guild);
  }

  #goLive(session: ShardSession, socket: WebSocket): void {
    session.socket = socket;
    session.live = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
