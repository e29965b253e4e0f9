// One connection to a Qdrant server: the REST client, with every call retried by the policy and
// failures turned into StoreErrors that name the URL. Shared by the store, collection setup and
// re-indexing; close() ends pending retries.
import { QdrantClient } from '@qdrant/js-client-rest';
import type { Logger } from '../../../logger.js';
import { StoreError } from '../../errors.js';
import { retryVerdict, safeUrl, toStoreError } from './qdrant-failure.js';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry-policy.js';

/**
 * How long one request may take, in ms. A wait=true upsert of a full batch on a busy server
 * takes seconds, not tens of seconds; 30 s fails a hung server without cutting off real work.
 */
export const QDRANT_REQUEST_TIMEOUT_MS = 30_000;

export interface QdrantConnectionOptions {
  /** Base URL, e.g. http://localhost:6333 or https://xyz.cloud.qdrant.io:6333. */
  url: string;
  /** Sent as the api-key header (Qdrant Cloud, or a server with service.api_key set). */
  apiKey?: string;
  /** Retries and connection warnings are logged here. */
  logger: Logger;
  /** Retry policy for every call (default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy;
  /** Per-request timeout in ms (default QDRANT_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

export class QdrantConnection {
  /** The REST client; call it through `call()` so that retries and errors are handled. */
  readonly client: QdrantClient;
  /** The URL without credentials, for messages. */
  readonly url: string;
  readonly logger: Logger;
  #policy: RetryPolicy;
  readonly #hasApiKey: boolean;
  readonly #closing = new AbortController();

  constructor(options: QdrantConnectionOptions) {
    if (!/^https?:\/\//.test(options.url)) {
      throw new StoreError(
        'store_unavailable',
        `QDRANT_URL must start with http:// or https:// (got "${safeUrl(options.url)}").`,
      );
    }
    this.url = safeUrl(options.url);
    this.logger = options.logger;
    this.#policy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.#hasApiKey = options.apiKey !== undefined && options.apiKey !== '';
    const headers: Record<string, string> = {};
    // The key goes in as a header, not as `apiKey`: the client then prints a console warning
    // on http URLs (to stdout, where it would corrupt --json output). We warn in the log.
    if (this.#hasApiKey) headers['api-key'] = options.apiKey as string;
    const parsed = new URL(options.url);
    if (this.#hasApiKey && parsed.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname)) {
      this.logger.warn({ url: this.url }, 'QDRANT_API_KEY is sent over plain http; use an https:// QDRANT_URL');
    }
    // The client drops a URL's path unless it comes as `prefix` (a Qdrant behind a proxy path).
    const prefix = parsed.pathname.replace(/\/+$/, '');
    this.client = new QdrantClient({
      url: prefix === '' ? options.url : `${parsed.protocol}//${parsed.host}`,
      ...(prefix === '' ? {} : { prefix }),
      headers,
      timeout: options.timeoutMs ?? QDRANT_REQUEST_TIMEOUT_MS,
      // We check the version ourselves (serverVersion); the client's check warns on the console.
      checkCompatibility: false,
    });
  }

  /** The policy calls retry by from now on (opening uses a more patient one than serving). */
  set retryPolicy(policy: RetryPolicy) {
    this.#policy = policy;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /**
   * Runs one client call with retries. `operation` completes "Qdrant failed to ..." in logs and
   * messages ("upsert 256 points into findimage_clip-vit-b32").
   */
  async call<T>(operation: string, run: (client: QdrantClient) => Promise<T>, policy?: RetryPolicy): Promise<T> {
    if (this.closed) {
      throw new StoreError('store_failed', `The Qdrant store was closed; cannot ${operation}.`);
    }
    return withRetry(() => run(this.client), {
      policy: policy ?? this.#policy,
      classify: retryVerdict,
      giveUp: (error, attempts) =>
        toStoreError(error, { url: this.url, operation, attempts, hasApiKey: this.#hasApiKey }),
      logger: this.logger,
      operation,
      signal: this.#closing.signal,
    });
  }

  /** The server's version (GET /, which needs no API key): proves the server answers. */
  async serverVersion(policy?: RetryPolicy): Promise<string> {
    const info = await this.call('answer at GET /', (c) => c.versionInfo(), policy);
    if (typeof info?.version !== 'string') {
      throw new StoreError(
        'store_failed',
        `${this.url} answered GET / without a Qdrant version. Check that QDRANT_URL points at Qdrant.`,
      );
    }
    return info.version;
  }

  /** Ends pending retries; later calls fail at once. */
  close(): void {
    this.#closing.abort();
  }
}
