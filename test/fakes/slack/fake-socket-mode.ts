// A fake Slack Socket Mode server on 127.0.0.1: greets the app with "hello", sends it envelopes
// (events, slash commands, interactions) and hands back the app's acknowledgements.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What the app sent back for one envelope. */
export interface Ack {
  envelope_id: string;
  /** The ack's response payload (a slash command's immediate reply), when there is one. */
  payload?: Record<string, unknown>;
}

/** How long a test waits for the app to connect or acknowledge (generous: 2 shared cores under load). */
const WAIT_MS = 15_000;

export class FakeSocketMode {
  readonly #server: WebSocketServer;
  #socket: WebSocket | undefined;
  #connected: Promise<void>;
  #markConnected: () => void = () => undefined;
  #closed: Promise<void> = Promise.resolve();
  readonly #pending = new Map<string, (ack: Ack) => void>();
  #connections = 0;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    this.#connected = new Promise((resolve) => (this.#markConnected = resolve));
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async start(): Promise<FakeSocketMode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new FakeSocketMode(server);
  }

  /** The URL apps.connections.open should return. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/link`;
  }

  /** How many times an app connected. */
  get connections(): number {
    return this.#connections;
  }

  /** Resolves once an app has connected and been sent "hello". */
  waitForConnection(): Promise<void> {
    return withTimeout(this.#connected, 'the app to connect');
  }

  /** Resolves once the current connection has closed (app.stop() resolves before that). */
  waitForClose(): Promise<void> {
    return withTimeout(this.#closed, 'the socket to close');
  }

  /** Sends an envelope and resolves with the app's ack. */
  async send(type: 'events_api' | 'slash_commands' | 'interactive', payload: Record<string, unknown>): Promise<Ack> {
    const socket = this.#socket;
    if (socket === undefined) throw new Error('no app is connected to the fake Socket Mode server');
    const envelopeId = randomUUID();
    const acked = new Promise<Ack>((resolve) => this.#pending.set(envelopeId, resolve));
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        retry_attempt: 0,
        retry_reason: '',
      }),
    );
    return withTimeout(acked, `the app to acknowledge a ${type} envelope`);
  }

  /** Sends an Events API event for team `teamId`. */
  sendEvent(event: Record<string, unknown>, teamId = 'T1'): Promise<Ack> {
    return this.send('events_api', {
      token: 'verification-token',
      team_id: teamId,
      api_app_id: 'A1',
      event,
      type: 'event_callback',
      event_id: `Ev${randomUUID().slice(0, 8)}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: teamId, user_id: 'UBOT', is_bot: true }],
    });
  }

  async close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    this.#connections++;
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data) => {
      const ack = JSON.parse(String(data)) as Ack;
      const resolve = this.#pending.get(ack.envelope_id);
      if (resolve !== undefined) {
        this.#pending.delete(ack.envelope_id);
        resolve(ack);
      }
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A1' },
      }),
    );
    this.#markConnected();
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
