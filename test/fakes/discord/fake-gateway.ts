// A fake Discord gateway (WebSocket, JSON encoding, no compression) for the real discord.js
// Client: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats acknowledged, and RESUME replaying
// every dispatch the client missed while disconnected, so a reconnect can be tested to lose nothing.
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/** Gateway opcodes the fake speaks (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
const OP = { dispatch: 0, heartbeat: 1, identify: 2, resume: 6, reconnect: 7, invalidSession: 9, hello: 10, heartbeatAck: 11 } as const;

/** Long enough that no heartbeat is due during a test unless the test asks for one. */
const HEARTBEAT_INTERVAL_MS = 45_000;

interface GatewayPayload {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

export interface FakeGatewayOptions {
  /** The HTTP server the gateway shares (path /gateway). */
  server: Server;
  /** The only token IDENTIFY and RESUME accept. */
  token: string;
  /** The READY payload's user and application, and the guilds to send as GUILD_CREATE. */
  ready: () => { user: Record<string, unknown>; applicationId: string; guilds: Record<string, unknown>[] };
}

export class FakeGateway {
  readonly #wss: WebSocketServer;
  readonly #options: FakeGatewayOptions;
  /** Every dispatch, in order, for RESUME to replay (s = index + 1). */
  readonly #sent: GatewayPayload[] = [];
  #socket: WebSocket | undefined;
  #sessionId = '';
  #sessions = 0;
  /** Whether the current socket finished IDENTIFY or RESUME (dispatches wait until then). */
  #live = false;
  /** IDENTIFY and RESUME payloads received, in order. */
  readonly handshakes: Array<{ op: 'identify' | 'resume'; d: Record<string, unknown> }> = [];
  heartbeats = 0;
  #waiters: Array<() => void> = [];

  constructor(options: FakeGatewayOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({ server: options.server, path: '/gateway' });
    this.#wss.on('connection', (socket) => this.#accept(socket));
  }

  /** Sends a dispatch event; while the client is away it is kept, and a RESUME replays it. */
  dispatch(t: string, d: unknown): void {
    const payload: GatewayPayload = { op: OP.dispatch, t, s: this.#sent.length + 1, d };
    this.#sent.push(payload);
    if (this.#live) this.#socket?.send(JSON.stringify(payload));
  }

  /** Whether a client is connected and identified or resumed. */
  get connected(): boolean {
    return this.#live;
  }

  /** Resolves once a client is connected and past IDENTIFY or RESUME. */
  async waitForLive(): Promise<void> {
    if (this.#live) return;
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Drops the connection as a network fault would (close code 4000: the client may resume). */
  drop(): void {
    this.#live = false;
    this.#socket?.close(4000, 'unknown error');
    this.#socket = undefined;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    this.#socket?.terminate();
    this.#socket = socket;
    this.#live = false;
    socket.on('message', (raw: Buffer) => this.#receive(socket, JSON.parse(raw.toString('utf8')) as GatewayPayload));
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
      this.#identify(socket);
    } else if (payload.op === OP.resume) {
      this.handshakes.push({ op: 'resume', d });
      if (d.token !== this.#options.token || d.session_id !== this.#sessionId) {
        socket.send(JSON.stringify({ op: OP.invalidSession, d: false }));
        return;
      }
      const seq = typeof d.seq === 'number' ? d.seq : 0;
      for (const missed of this.#sent.slice(seq)) socket.send(JSON.stringify(missed));
      this.#goLive(socket);
      this.dispatch('RESUMED', {});
    }
  }

  #identify(socket: WebSocket): void {
    const { user, applicationId, guilds } = this.#options.ready();
    this.#sessions++;
    this.#sessionId = `session-${this.#sessions}`;
    this.#goLive(socket);
    const address = this.#wss.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    this.dispatch('READY', {
      v: 10,
      user,
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: this.#sessionId,
      resume_gateway_url: `ws://127.0.0.1:${port}/gateway`,
      application: { id: applicationId, flags: 0 },
      shard: [0, 1],
    });
    for (const guild of guilds) this.dispatch('GUILD_CREATE', guild);
  }

  #goLive(socket: WebSocket): void {
    if (socket !== this.#socket) return;
    this.#live = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
