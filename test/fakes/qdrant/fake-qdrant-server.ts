// A fake Qdrant REST server on 127.0.0.1 for tests: HTTP, API key checks as Qdrant does them,
// injectable faults and a request log, around FakeQdrantApi (the endpoints, envelopes and error
// bodies). Bodies are typed with the client's Schemas, so a wire-format change in the client
// breaks the build here first.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Schemas } from '@qdrant/js-client-rest';
import { FakeQdrantApi } from './fake-qdrant-api.js';
import type { FakeCollection } from './fake-collection.js';
import { FaultPlan, type Fault } from './fake-faults.js';
import { FakeQdrantError, formatError } from './fake-qdrant-error.js';

/** Qdrant's default `service.max_request_size_mb`: bigger bodies are refused. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Paths Qdrant serves without an API key (its auth whitelist). */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/', '/healthz', '/livez', '/readyz']);


export interface FakeQdrantOptions {
  /** When set, every request but the open paths needs this key (api-key or Bearer header). */
  apiKey?: string;
  /** Version reported at GET / (the client compares it with its own). */
  version?: string;
  /**
   * How long an update sent without wait=true takes to become visible, in ms. Qdrant applies
   * such updates asynchronously, so a client that forgets wait=true sees stale reads here too.
   */
  unwaitedApplyDelayMs?: number;
  /** Keep a log of requests in `requests` (default true; the bench turns it off). */
  recordRequests?: boolean;
  /** Peers of the cluster the fake stands for (default 1); a new collection's default shard_number. */
  peers?: number;
  /**
   * Milliseconds added to every request before it is answered (default 0): 20 is a realistic
   * network between findimage and a Qdrant server. Requests still run side by side.
   */
  latencyMs?: number;
}

/** One request as the fake saw it. */
export interface LoggedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query parameters (wait, timeout, ...). */
  query: Record<string, string>;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /** The api-key header, or the token of an Authorization: Bearer header. */
  apiKey: string | undefined;
  /** The fault injected into this request, if any. */
  fault: Fault['kind'] | undefined;
  /** Milliseconds since the fake started. */
  at: number;
}

export class FakeQdrantServer {
  /** Faults to inject into upcoming requests. */
  readonly faults = new FaultPlan();
  /** Requests received, oldest first. */
  readonly requests: LoggedRequest[] = [];
  /** Requests received, counted even when `recordRequests` is off (for benchmarks). */
  requestCount = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #options: FakeQdrantOptions;
  readonly #api: FakeQdrantApi;
  readonly #startedAt = Date.now();
  #apiKey: string | undefined;
  #port = 0;
  #up = false;

  private constructor(options: FakeQdrantOptions) {
    this.#options = options;
    this.#apiKey = options.apiKey;
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.#server.keepAliveTimeout = 5_000;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#api = new FakeQdrantApi(options);
  }

  /** Starts a fake on a random port of 127.0.0.1. */
  static async start(options: FakeQdrantOptions = {}): Promise<FakeQdrantServer> {
    const fake = new FakeQdrantServer(options);
    await fake.comeUp();
    return fake;
  }

  /** Base URL for QdrantClient, e.g. http://127.0.0.1:41234. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Changes the API key the fake demands (undefined: none). */
  set apiKey(key: string | undefined) {
    this.#apiKey = key;
  }

  /** Stops listening and cuts every open connection: clients now get "connection refused". */
  async goDown(): Promise<void> {
    if (!this.#up) return;
    this.#up = false;
    const closed = once(this.#server, 'close');
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** Listens again, on the same port once it has one; the data survives, as on a restart. */
  async comeUp(): Promise<void> {
    if (this.#up) return;
    this.#server.listen(this.#port, '127.0.0.1');
    await once(this.#server, 'listening');
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('fake Qdrant has no TCP address');
    this.#port = address.port;
    this.#up = true;
  }

  async stop(): Promise<void> {
    this.faults.clear();
    await this.goDown();
  }

  /** A collection by its name or by an alias of it. */
  collection(name: string): FakeCollection | undefined {
    return this.#api.collection(name);
  }

  /** The collection an alias points at. */
  aliasTarget(alias: string): string | undefined {
    return this.#api.aliasTarget(alias);
  }

  /** Creates a collection directly (as another program would have), bypassing faults and auth. */
  seedCollection(name: string, body: Schemas['CreateCollection']): FakeCollection {
    return this.#api.seedCollection(name, body);
  }

  /** Points an alias at a collection directly, bypassing faults and auth. */
  seedAlias(alias: string, collection: string): void {
    this.#api.seedAlias(alias, collection);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    let raw: Buffer;
    try {
      raw = await this.#readBody(req);
    } catch (error) {
      this.#sendError(res, error, started);
      return;
    }
    this.requestCount++;
    const latency = this.#options.latencyMs ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = this.faults.take({ method, path: url.pathname });
    const apiKey = headerKey(req);
    let body: unknown;
    let bodyError: unknown;
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch (error) {
      bodyError = formatError(error instanceof Error ? error.message : String(error));
    }
    if (this.#options.recordRequests !== false) {
      this.requests.push({
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        apiKey,
        fault: fault?.kind,
        at: Date.now() - this.#startedAt,
      });
    }

    if (fault?.kind === 'status' && fault.afterApplying !== true) {
      this.#sendFault(res, fault, started);
      return;
    }
    if (fault?.kind === 'respond') {
      res.writeHead(fault.status, {
        'content-type': fault.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(fault.body),
      });
      res.end(fault.body);
      return;
    }
    if (fault?.kind === 'drop' && fault.afterApplying !== true) {
      req.socket.destroy();
      return;
    }

    let status = 200;
    let payload: string;
    let contentType = 'application/json';
    const denial = this.#authDenial(url.pathname, apiKey);
    if (denial !== null) {
      status = 401;
      contentType = 'text/plain; charset=utf-8';
      payload = denial;
    } else {
      try {
        if (bodyError !== undefined) throw bodyError;
        const reply = await this.#api.route(method, url, body);
        if (reply.bare === true && typeof reply.result === 'string') {
          contentType = 'text/plain; charset=utf-8';
          payload = reply.result;
        } else {
          payload = JSON.stringify(reply.bare === true ? reply.result : { result: reply.result, status: 'ok', time: elapsed(started) });
        }
      } catch (error) {
        const failure = asFakeError(error);
        status = failure.status;
        const errorBody: Schemas['ErrorResponse'] = { status: { error: failure.message }, time: elapsed(started) };
        payload = JSON.stringify(errorBody);
      }
    }

    if (fault?.kind === 'hold') {
      fault.applied?.();
      await fault.release;
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      this.#sendFault(res, fault, started);
      return;
    }
    if (fault?.kind === 'truncate') {
      const bytes = Buffer.from(payload, 'utf8');
      res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
      return;
    }
    if (fault?.kind === 'malformed') {
      payload = '{"result": {"points": [{"id": "8f1b4c2e-0000-4000-8000-00000000000'; // cut mid-string
    }
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  #authDenial(path: string, key: string | undefined): string | null {
    if (this.#apiKey === undefined || OPEN_PATHS.has(path)) return null;
    if (key === undefined) return 'Unauthorized: Must provide an API key or an Authorization bearer token';
    if (key !== this.#apiKey) return 'Unauthorized: Invalid API key or JWT';
    return null;
  }

  async #readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        throw new FakeQdrantError(413, `Payload too large: request body exceeds ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  #sendFault(res: ServerResponse, fault: Extract<Fault, { kind: 'status' }>, started: bigint): void {
    const headers: Record<string, string | number> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    if (fault.status === 401 || fault.status === 403) {
      const text = fault.message ?? 'Unauthorized: Invalid API key or JWT';
      res.writeHead(fault.status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const message =
      fault.message ??
      (fault.status === 429 ? 'Too many requests: rate limit exceeded' : 'Service internal error: injected fault');
    const body: Schemas['ErrorResponse'] = { status: { error: message }, time: elapsed(started) };
    const text = JSON.stringify(body);
    res.writeHead(fault.status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #sendError(res: ServerResponse, error: unknown, started: bigint): void {
    const failure = asFakeError(error);
    const body: Schemas['ErrorResponse'] = { status: { error: failure.message }, time: elapsed(started) };
    const text = JSON.stringify(body);
    res.writeHead(failure.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function headerKey(req: IncomingMessage): string | undefined {
  const key = req.headers['api-key'];
  if (typeof key === 'string') return key;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

function asFakeError(error: unknown): FakeQdrantError {
  if (error instanceof FakeQdrantError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new FakeQdrantError(500, `Service internal error: ${text}`);
}

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
