// Reads what went wrong in a call through @qdrant/js-client-rest (HTTP status, network error,
// unreadable body) and turns it into a retry verdict and, in the end, a StoreError whose message
// tells the user what to do. Nothing else in the adapter inspects client errors. A 404 keeps its
// meaning: only Qdrant's own word that the collection is missing means "deleted"; a 404 from a
// proxy, or from a server without the endpoint, may pass and is retried.
import { parseRetryAfter } from '../../retry-after.js';
import { STATUS_CODES } from 'node:http';
import {
  QdrantClientResourceExhaustedError,
  QdrantClientTimeoutError,
  QdrantClientUnexpectedResponseError,
} from '@qdrant/js-client-rest';
import { StoreError } from '../../errors.js';
import type { RetryVerdict } from './retry-policy.js';

/** A response that parsed as JSON but not into what Qdrant documents for the call. */
export class MalformedResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedResponseError';
  }
}

export type QdrantFailureKind =
  /** No connection: refused, reset, host unknown. Retryable. */
  | 'unreachable'
  /** The connection closed before the whole response arrived. Retryable. */
  | 'truncated'
  /** No answer in time. Retryable. */
  | 'timeout'
  /** 429: the server asks us to slow down. Retryable. */
  | 'throttled'
  /** 5xx or 408. Retryable. */
  | 'server'
  /** 401 or 403. */
  | 'auth'
  /** 404 with Qdrant's own "Collection `x` doesn't exist": the collection was deleted. */
  | 'collection_missing'
  /** 404 with Qdrant's own word that something else it names (a point, an alias) is missing. */
  | 'not_found'
  /**
   * Any other 404: nothing answered for this endpoint (a proxy in front of Qdrant during a
   * redeploy, a server that lacks the endpoint). Retryable, since it may pass.
   */
  | 'endpoint_missing'
  /** 409: it already exists. */
  | 'conflict'
  /** Any other 4xx: the request itself was refused. */
  | 'rejected'
  /** A body that is not JSON, or not of the documented shape. */
  | 'malformed'
  /** A TLS failure (bad certificate, wrong host name). */
  | 'tls'
  /** Anything else. */
  | 'unknown';

export interface QdrantFailure {
  /** What kind of failure, which decides retrying and the error code. */
  kind: QdrantFailureKind;
  /** HTTP status, when there was a response. */
  status?: number;
  /** The server's Retry-After, in ms. */
  retryAfterMs?: number;
  /** One line for people: Qdrant's own error text or the network error. */
  detail: string;
  /** The path the answer came for ("/aliases"), when there was a response. */
  path?: string;
}

const RETRYABLE: ReadonlySet<QdrantFailureKind> = new Set([
  'unreachable',
  'truncated',
  'timeout',
  'throttled',
  'server',
  'endpoint_missing',
]);

/**
 * How Qdrant words a 404 for something it knows is missing ("Not found: Collection `x` doesn't
 * exist!", "Not found: No point with id 7 found"). A 404 without these words is not Qdrant's
 * verdict on our data but a missing route: a proxy's page, or actix's empty answer.
 */
const QDRANT_NOT_FOUND = /^Not found: \S/;
const QDRANT_COLLECTION_MISSING = /^Not found: Collection `[^`]*` doesn't exist/;

/** Network error codes (Node and undici) that mean "no usable connection". */
const UNREACHABLE_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
};

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/** The shape of the client's ApiError (from @qdrant/openapi-typescript-fetch, not a direct dependency). */
interface HttpErrorLike {
  status: number;
  data: unknown;
  headers?: { get(name: string): string | null };
  /** The status line's text ("Not Found"), as the server sent it. */
  statusText?: string;
  /** The URL the response came from. */
  url?: string;
}

function isHttpError(error: unknown): error is HttpErrorLike {
  return (
    error instanceof Error &&
    typeof (error as Partial<HttpErrorLike>).status === 'number' &&
    'data' in error
  );
}

/** Qdrant's error text from its error body ({status: {error}}), or undefined for any other body. */
function qdrantErrorText(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null) {
    const status = (data as { status?: unknown }).status;
    if (typeof status === 'object' && status !== null && typeof (status as { error?: unknown }).error === 'string') {
      return (status as { error: string }).error;
    }
  }
  return undefined;
}

/** Qdrant's error text from an error body ({status: {error}}), or the body itself if text. */
function serverMessage(data: unknown): string {
  if (typeof data === 'string') return data.trim().slice(0, 300);
  return qdrantErrorText(data) ?? '';
}

/** The path of the URL an answer came from, without the query string. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && current !== undefined; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

function fromHttpError(error: HttpErrorLike): QdrantFailure {
  const { status } = error;
  const text = serverMessage(error.data);
  const detail = `HTTP ${status}${text === '' ? '' : `: ${text}`}`;
  if (status === 401 || status === 403) return { kind: 'auth', status, detail };
  if (status === 404) return fromNotFound(error);
  if (status === 409) return { kind: 'conflict', status, detail };
  if (status === 429) {
    return { kind: 'throttled', status, detail, retryAfterMs: parseRetryAfter(error.headers?.get('retry-after')) };
  }
  if (status >= 500 || status === 408) return { kind: 'server', status, detail };
  return { kind: 'rejected', status, detail };
}

/** A 404: Qdrant's verdict that the collection (or a point) is missing, or a missing endpoint. */
function fromNotFound(error: HttpErrorLike): QdrantFailure {
  const status = 404;
  const path = pathOf(error.url);
  const said = qdrantErrorText(error.data);
  if (said !== undefined && QDRANT_COLLECTION_MISSING.test(said)) {
    return { kind: 'collection_missing', status, detail: `HTTP 404: ${said}`, ...(path === undefined ? {} : { path }) };
  }
  if (said !== undefined && QDRANT_NOT_FOUND.test(said)) {
    return { kind: 'not_found', status, detail: `HTTP 404: ${said}`, ...(path === undefined ? {} : { path }) };
  }
  const statusText = error.statusText !== undefined && error.statusText !== '' ? error.statusText : (STATUS_CODES[status] ?? '');
  const where = path === undefined ? '' : ` to ${path}`;
  return { kind: 'endpoint_missing', status, detail: `404 ${statusText}${where}`, ...(path === undefined ? {} : { path }) };
}

/** Reads any error thrown by a client call. */
export function describeFailure(error: unknown): QdrantFailure {
  if (error instanceof QdrantClientResourceExhaustedError) {
    // Client 1.18.0 passes only the first character of Retry-After (`headers.get(...)?.[0]`),
    // so "12" arrives as 1 s; backoff still grows on each retry, so we never hammer the server.
    return { kind: 'throttled', status: 429, detail: 'HTTP 429: too many requests', retryAfterMs: error.retry_after * 1000 };
  }
  if (error instanceof QdrantClientTimeoutError) return { kind: 'timeout', detail: 'no answer in time' };
  if (error instanceof QdrantClientUnexpectedResponseError) {
    return { kind: 'malformed', detail: error.message.split('\n')[0] ?? error.message };
  }
  if (isHttpError(error)) return fromHttpError(error);
  if (error instanceof MalformedResponseError) return { kind: 'malformed', detail: error.message };
  if (error instanceof SyntaxError) return { kind: 'malformed', detail: `the body is not JSON (${error.message})` };
  if (error instanceof Error) {
    if (error.message.startsWith('Invalid retryAfter value')) {
      return { kind: 'throttled', status: 429, detail: 'HTTP 429: too many requests' };
    }
    if (error.message === 'Result came uninitialized') {
      return { kind: 'malformed', detail: 'the response has no "result"' };
    }
    const codes = causeCodes(error);
    if (error.message === 'terminated') {
      return { kind: 'truncated', detail: 'the connection closed before the whole response arrived' };
    }
    for (const code of codes) {
      const reason = UNREACHABLE_CODES[code];
      if (reason !== undefined) return { kind: 'unreachable', detail: reason };
      if (TIMEOUT_CODES.has(code)) return { kind: 'timeout', detail: 'connection timed out' };
      if (code.startsWith('ERR_TLS') || code.includes('CERT')) return { kind: 'tls', detail: `TLS failed (${code})` };
    }
    if (error instanceof TypeError && error.message === 'fetch failed') {
      return { kind: 'unreachable', detail: codes[0] ?? 'network error' };
    }
    return { kind: 'unknown', detail: error.message };
  }
  return { kind: 'unknown', detail: String(error) };
}

/** Whether to try again after this error, and how long the server asked us to wait. */
export function retryVerdict(error: unknown): RetryVerdict {
  const failure = describeFailure(error);
  const verdict: RetryVerdict = { retry: RETRYABLE.has(failure.kind), reason: failure.detail };
  if (failure.retryAfterMs !== undefined) verdict.retryAfterMs = failure.retryAfterMs;
  return verdict;
}

/** A URL fit for messages and logs: no user name or password. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

export interface FailureContext {
  /** The Qdrant URL (credentials are stripped before use). */
  url: string;
  /** What was being done, e.g. "upsert into findimage_clip-vit-b32". */
  operation: string;
  /** How many tries were made. */
  attempts: number;
  /** Whether an API key was configured, to word a 401 rightly. */
  hasApiKey: boolean;
}

/** The StoreError a user sees once retries are over; its message says what to do. */
export function toStoreError(error: unknown, context: FailureContext): StoreError {
  if (error instanceof StoreError) return error;
  const failure = describeFailure(error);
  const url = safeUrl(context.url);
  const tries = context.attempts === 1 ? '' : ` after ${context.attempts} tries`;
  const details = {
    url,
    operation: context.operation,
    attempts: context.attempts,
    status: failure.status,
    kind: failure.kind,
    ...(failure.path === undefined ? {} : { path: failure.path }),
  };
  const options = { cause: error, details };
  switch (failure.kind) {
    case 'auth':
      return new StoreError(
        'store_auth',
        context.hasApiKey
          ? `Qdrant refused the API key: check QDRANT_API_KEY (${url} answered ${failure.detail}).`
          : `Qdrant at ${url} requires an API key: set QDRANT_API_KEY (it answered ${failure.detail}).`,
        options,
      );
    case 'unreachable':
    case 'timeout':
      return new StoreError(
        'store_unavailable',
        `Cannot reach Qdrant at ${url} (${failure.detail})${tries}. Check that Qdrant is running ` +
          '(docker compose up -d qdrant) and that QDRANT_URL is right.',
        options,
      );
    case 'truncated':
      return new StoreError(
        'store_unavailable',
        `Qdrant at ${url} closed the connection before sending its whole answer to ${context.operation}${tries}. ` +
          'It may be restarting or short of memory; check its logs.',
        options,
      );
    case 'throttled':
      return new StoreError(
        'store_unavailable',
        `Qdrant at ${url} kept refusing ${context.operation} as too many requests (HTTP 429)${tries}. ` +
          'Lower the load (fewer workers) or raise the rate limit of the cluster.',
        options,
      );
    case 'server':
      return new StoreError(
        'store_unavailable',
        `Qdrant at ${url} failed to ${context.operation} (${failure.detail})${tries}. Check the Qdrant logs.`,
        options,
      );
    case 'tls':
      return new StoreError(
        'store_unavailable',
        `Cannot open a secure connection to Qdrant at ${url} (${failure.detail}). Check the certificate and that QDRANT_URL names the right host.`,
        options,
      );
    case 'malformed':
      return new StoreError(
        'store_failed',
        `Qdrant at ${url} sent a response findimage cannot read while trying to ${context.operation} (${failure.detail}). ` +
          'Check that QDRANT_URL points at Qdrant itself and not at a proxy or another service.',
        options,
      );
    case 'collection_missing':
      return new StoreError(
        'store_failed',
        `Qdrant at ${url} no longer has the collection findimage uses while trying to ${context.operation} (${failure.detail}). ` +
          'Was the collection deleted? Restart findimage to create it again.',
        options,
      );
    case 'endpoint_missing':
      // Transient: a proxy redeploying answers 404 for a while; the upload queue keeps retrying.
      return new StoreError(
        'store_unavailable',
        `Qdrant at ${url} answered ${failure.detail} while trying to ${context.operation}${tries}. ` +
          'Either a proxy in front of Qdrant is redeploying (this passes, and queued uploads are retried), or QDRANT_URL ' +
          'points at a server without this endpoint (another service, or a Qdrant too old for findimage).',
        options,
      );
    case 'not_found':
    case 'conflict':
    case 'rejected':
    case 'unknown':
      return new StoreError(
        'store_failed',
        `Qdrant at ${url} refused to ${context.operation} (${failure.detail}).`,
        options,
      );
  }
}
