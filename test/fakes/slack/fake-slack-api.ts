// A fake Slack Web API and file host on 127.0.0.1: enough of chat.*, conversations.*,
// reactions.* and url_private_download for the real Bolt App to run against, recording every call.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as the fake received it. */
export interface RecordedCall {
  method: string;
  /** Form or JSON fields; JSON-encoded fields (blocks) are decoded. */
  args: Record<string, unknown>;
  /** The bearer token sent. */
  token: string | undefined;
  /** Date.now() when it arrived. */
  at: number;
  /** What the fake answered (JSON body). */
  reply?: unknown;
}

/** A message the bot posted, with the ts the fake gave it. */
export interface PostedMessage {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  blocks: Record<string, unknown>[];
}

/** A conversation as conversations.info returns it. */
export interface FakeChannel {
  id: string;
  name?: string;
  is_channel?: boolean;
  is_group?: boolean;
  is_im?: boolean;
  is_mpim?: boolean;
  is_private?: boolean;
  is_member?: boolean;
  is_ext_shared?: boolean;
  is_shared?: boolean;
  is_org_shared?: boolean;
}

/** How the file host answers a download. */
export type FileServing =
  /** 200 with the bytes, Content-Type and Content-Length. */
  | 'normal'
  /** 200 text/html: the sign-in page Slack serves when it will not give the file. */
  | 'login-page'
  /** Declares `declaredLength` in Content-Length and streams zeros until the client stops. */
  | 'huge-declared'
  /** No Content-Length; streams zeros until the client stops. */
  | 'huge-chunked'
  /** 404 Not Found. */
  | 'missing'
  /** 503 Service Unavailable, every time. */
  | 'unavailable';

/** A failed answer the file host gives before serving normally: an HTTP status, or the connection dropped. */
export type FileFailure = { status: number; retryAfter?: string } | 'reset';

export interface FakeFileOptions {
  id: string;
  name: string;
  bytes?: Uint8Array;
  mimetype: string;
  /** `size` in the file object (what the event claims); defaults to the byte length. */
  size?: number;
  serving?: FileServing;
  /** Answers given, in order, to the first downloads (one per request) before `serving` applies. */
  failures?: FileFailure[];
  /** Content-Type sent; defaults to the mimetype. */
  contentType?: string;
  /** Content-Length for 'huge-declared'. */
  declaredLength?: number;
  /** Serve from this origin instead of the fake's own (a host the bot must refuse). */
  hostOverride?: string;
}

/** The file object Slack puts in events (the fields the bot reads). */
export interface FakeFileObject {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  mode: 'hosted';
  url_private: string;
  url_private_download: string;
  permalink: string;
}

/** A reply with a chosen HTTP status and headers (429s, 500s). */
export class HttpReply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export type MethodHandler = (
  args: Record<string, unknown>,
  call: RecordedCall,
) => Record<string, unknown> | HttpReply | undefined;

interface FileEntry {
  options: FakeFileOptions;
  served: number;
  requests: number;
  authorizations: (string | undefined)[];
}

const STREAM_CHUNK = new Uint8Array(64 * 1024);

export class FakeSlackApi {
  readonly calls: RecordedCall[] = [];
  /** Bodies POSTed to response_url and accepted, in order. */
  readonly responses: Record<string, unknown>[] = [];
  /** Bodies POSTed to response_url that were refused (invalid_blocks). */
  readonly refusedResponses: Record<string, unknown>[] = [];
  readonly channels = new Map<string, FakeChannel>();
  /** Slack file ids that no longer exist: a block showing one is refused (invalid_blocks). */
  readonly missingFiles = new Set<string>();
  /** When true, a carousel block is refused (invalid_blocks), as in a workspace without carousels. */
  refuseCarousels = false;
  /** Tokens the API accepts; any other gets invalid_auth. */
  readonly validTokens = new Set<string>();
  /**
   * The scopes of each token, sent back in the `x-oauth-scopes` header of every answer to a call
   * made with it, as Slack does (the Web API client reads it into response_metadata.scopes:
   * https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebAPICallResult).
   * A token not listed gets no header.
   */
  readonly tokenScopes = new Map<string, readonly string[]>();
  teamId = 'T1';
  botUserId = 'UBOT';
  /** Where apps.connections.open points (the fake Socket Mode server). */
  socketUrl = '';
  readonly #server: Server;
  readonly #handlers = new Map<string, MethodHandler[]>();
  readonly #history = new Map<string, Record<string, unknown>[]>();
  readonly #files = new Map<string, FileEntry>();
  #ts = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(tokens: readonly string[]): Promise<FakeSlackApi> {
    let api: FakeSlackApi | undefined;
    const server = createServer((req, res) => {
      void api?.handle(req, res);
    });
    api = new FakeSlackApi(server);
    for (const token of tokens) api.validTokens.add(token);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** http://127.0.0.1:PORT */
  get origin(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The Web API base, as SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /** A response_url the bot may POST to. */
  responseUrl(name = 'cmd'): string {
    return `${this.origin}/response/${name}`;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Handles the next calls to `method` before the defaults (return undefined to fall through). */
  on(method: string, handler: MethodHandler): void {
    const list = this.#handlers.get(method) ?? [];
    list.push(handler);
    this.#handlers.set(method, list);
  }

  /** The next `times` calls to `method` fail with Slack error `error` (ok: false). */
  failNext(method: string, error: string, times = 1): void {
    let left = times;
    this.on(method, () => {
      if (left <= 0) return undefined;
      left--;
      return { ok: false, error };
    });
  }

  /** The next call to `method` gets HTTP 429 with Retry-After. */
  rateLimitNext(method: string, retryAfterSeconds: number): void {
    let used = false;
    this.on(method, () => {
      if (used) return undefined;
      used = true;
      return new HttpReply(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(retryAfterSeconds) });
    });
  }

  /** Sets a channel's history, newest message first (as conversations.history returns it). */
  setHistory(channel: string, messages: Record<string, unknown>[]): void {
    this.#history.set(channel, messages);
  }

  /** Serves a file and returns the file object an event would carry. */
  addFile(options: FakeFileOptions): FakeFileObject {
    this.#files.set(options.id, { options, served: 0, requests: 0, authorizations: [] });
    const origin = options.hostOverride ?? this.origin;
    const extension = options.name.includes('.') ? (options.name.split('.').pop() ?? '') : '';
    return {
      id: options.id,
      name: options.name,
      title: options.name,
      mimetype: options.mimetype,
      filetype: extension,
      size: options.size ?? options.bytes?.byteLength ?? 0,
      mode: 'hosted',
      url_private: `${origin}/files-pri/${this.teamId}-${options.id}/${encodeURIComponent(options.name)}`,
      url_private_download: `${origin}/files-pri/${this.teamId}-${options.id}/download/${encodeURIComponent(options.name)}`,
      permalink: `https://example.slack.com/files/U1/${options.id}/${encodeURIComponent(options.name)}`,
    };
  }

  /** How many download requests a file got, and how many bytes were written before the client stopped. */
  fileStats(id: string): { requests: number; served: number; authorizations: (string | undefined)[] } {
    const entry = this.#files.get(id);
    return { requests: entry?.requests ?? 0, served: entry?.served ?? 0, authorizations: entry?.authorizations ?? [] };
  }

  /** Messages the bot posted successfully with chat.postMessage, in order. */
  posted(): PostedMessage[] {
    return this.callsTo('chat.postMessage')
      .filter((c) => (c.reply as { ok?: boolean } | undefined)?.ok === true)
      .map((c) => ({
        channel: String(c.args.channel),
        ts: String((c.reply as { ts: string }).ts),
        threadTs: c.args.thread_ts === undefined ? undefined : String(c.args.thread_ts),
        text: String(c.args.text ?? ''),
        blocks: (c.args.blocks ?? []) as Record<string, unknown>[],
      }));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname.startsWith('/api/')) return this.#handleApi(url.pathname.slice(5), req, res);
    if (url.pathname.startsWith('/response/')) {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>;
      const refusal = this.#refusedBlocks(body.blocks);
      if (refusal !== undefined) {
        this.refusedResponses.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(refusal));
        return;
      }
      this.responses.push(body);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (url.pathname.startsWith('/files-pri/')) return this.#handleFile(url, req, res);
    if (url.pathname === '/login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>Sign in to Slack</body></html>');
      return;
    }
    res.writeHead(404).end();
  }

  async #handleApi(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
    const call: RecordedCall = { method, args, token: token ?? (typeof args.token === 'string' ? args.token : undefined), at: Date.now() };
    this.calls.push(call);

    let reply: Record<string, unknown> | HttpReply | undefined;
    if (call.token === undefined || !this.validTokens.has(call.token)) {
      reply = { ok: false, error: 'invalid_auth' };
    }
    for (const handler of this.#handlers.get(method) ?? []) {
      if (reply !== undefined) break;
      reply = handler(args, call);
    }
    reply ??= this.#defaultReply(method, args, call.token);
    call.reply = reply instanceof HttpReply ? reply.body : reply;
    const scopes = call.token === undefined ? undefined : this.tokenScopes.get(call.token);
    const scopeHeader: Record<string, string> = scopes === undefined ? {} : { 'x-oauth-scopes': scopes.join(',') };
    if (reply instanceof HttpReply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...scopeHeader, ...reply.headers }).end(JSON.stringify(reply.body));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...scopeHeader }).end(JSON.stringify(reply));
  }

  #defaultReply(method: string, args: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: this.botUserId, bot_id: 'BBOT', team_id: this.teamId, team: 'Test team', user: 'findimage' };
      case 'apps.connections.open':
        // Only an app-level token (xapp-, scope connections:write:
        // https://api.slack.com/scopes/connections:write) may open a Socket Mode connection;
        // Slack answers a bot or user token with not_allowed_token_type.
        if (!String(token).startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
        return { ok: true, url: this.socketUrl };
      case 'chat.postMessage': {
        const channel = String(args.channel);
        if (!this.channels.has(channel)) return { ok: false, error: 'channel_not_found' };
        if (this.channels.get(channel)?.is_member === false) return { ok: false, error: 'not_in_channel' };
        return this.#refusedBlocks(args.blocks) ?? { ok: true, channel, ts: this.nextTs(), message: { text: args.text } };
      }
      case 'chat.update':
        return this.#refusedBlocks(args.blocks) ?? { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'reactions.add':
        return { ok: true };
      case 'conversations.info': {
        const channel = this.channels.get(String(args.channel));
        return channel === undefined ? { ok: false, error: 'channel_not_found' } : { ok: true, channel };
      }
      case 'conversations.list':
        return {
          ok: true,
          channels: [...this.channels.values()].filter((c) => c.is_channel === true),
          response_metadata: { next_cursor: '' },
        };
      case 'conversations.history':
        return this.#historyPage(args);
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /**
   * Slack's answer to blocks it will not show: invalid_blocks, naming each bad element with a
   * JSON pointer, as the real API does. Undefined when the blocks are fine.
   */
  #refusedBlocks(blocks: unknown): Record<string, unknown> | undefined {
    if (!Array.isArray(blocks)) return undefined;
    const errors: string[] = [];
    const checkImage = (image: unknown, pointer: string) => {
      const id = (image as { slack_file?: { id?: unknown } } | undefined)?.slack_file?.id;
      if (typeof id === 'string' && this.missingFiles.has(id)) errors.push(`invalid slack_file id [json-pointer:${pointer}/slack_file]`);
    };
    blocks.forEach((block: Record<string, unknown>, i) => {
      if (block.type === 'carousel' && this.refuseCarousels) errors.push(`unsupported type: carousel [json-pointer:/blocks/${i}]`);
      if (block.type === 'image') checkImage(block, `/blocks/${i}`);
      if (block.type === 'carousel' && Array.isArray(block.elements)) {
        block.elements.forEach((card: Record<string, unknown>, j) => checkImage(card.hero_image, `/blocks/${i}/elements/${j}/hero_image`));
      }
    });
    if (errors.length === 0) return undefined;
    return { ok: false, error: 'invalid_blocks', errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } };
  }

  #historyPage(args: Record<string, unknown>): Record<string, unknown> {
    const channel = this.channels.get(String(args.channel));
    if (channel === undefined) return { ok: false, error: 'channel_not_found' };
    if (channel.is_member === false) return { ok: false, error: 'not_in_channel' };
    const oldest = args.oldest === undefined ? undefined : Number(args.oldest);
    const all = (this.#history.get(channel.id) ?? []).filter((m) => oldest === undefined || Number(m.ts) > oldest);
    const start = typeof args.cursor === 'string' && args.cursor !== '' ? Number(args.cursor.slice(1)) : 0;
    const limit = args.limit === undefined ? 100 : Number(args.limit);
    const messages = all.slice(start, start + limit);
    const next = start + limit < all.length ? `c${start + limit}` : '';
    return { ok: true, messages, has_more: next !== '', response_metadata: { next_cursor: next } };
  }

  #handleFile(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/files-pri\/[^-]+-([^/]+)\//.exec(url.pathname);
    const entry = match === null ? undefined : this.#files.get(match[1] ?? '');
    if (entry === undefined) {
      res.writeHead(404).end();
      return;
    }
    entry.requests++;
    const auth = req.headers.authorization;
    entry.authorizations.push(auth);
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    // Slack answers a download without a valid token with a redirect to its sign-in page.
    if (token === undefined || !this.validTokens.has(token)) {
      res.writeHead(302, { location: `${this.origin}/login` }).end();
      return;
    }
    const { options } = entry;
    const contentType = options.contentType ?? options.mimetype;
    const failure = options.failures?.shift();
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failure !== undefined) {
      res.writeHead(failure.status, { 'content-type': 'text/plain', ...(failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter }) }).end('try later');
      return;
    }
    switch (options.serving ?? 'normal') {
      case 'unavailable':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      case 'missing':
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      case 'login-page':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><body>Sign in</body></html>');
        return;
      case 'huge-declared':
      case 'huge-chunked': {
        const headers: Record<string, string> = { 'content-type': contentType };
        if (options.serving === 'huge-declared') headers['content-length'] = String(options.declaredLength ?? 200 * 1024 * 1024);
        res.writeHead(200, headers);
        const limit = options.declaredLength ?? 200 * 1024 * 1024;
        const pump = (): void => {
          while (entry.served < limit) {
            entry.served += STREAM_CHUNK.byteLength;
            if (!res.write(STREAM_CHUNK)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      default: {
        const bytes = options.bytes ?? new Uint8Array();
        entry.served += bytes.byteLength;
        res.writeHead(200, { 'content-type': contentType, 'content-length': String(bytes.byteLength) }).end(bytes);
      }
    }
  }

  private nextTs(): string {
    this.#ts++;
    return `${1_770_000_000 + this.#ts}.000100`;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** WebClient sends form fields with objects JSON-encoded; decode those back. */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if ((value.startsWith('[') || value.startsWith('{')) && value.length > 1) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // Not JSON after all: keep the string.
      }
    }
    args[key] = value;
  }
  return args;
}
