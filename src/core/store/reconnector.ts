// Keeps connecting to a server-backed resource in the background (Qdrant while it is down),
// so `findimage serve` can start without it. Until connected, callers get a transient
// "unavailable" error that the upload queue retries; a refusal retrying cannot fix stops it.
import type { Logger } from 'pino';
import { FindimageError, StoreError, asFindimageError, isTransient } from '../errors.js';

export interface ReconnectorOptions<T> {
  /** Opens the resource; called again after each transient failure. */
  open: () => Promise<T>;
  /** Named in logs ("Qdrant at http://qdrant:6333"). */
  description: string;
  /** The user-facing message while not yet connected. */
  unavailableMessage: string;
  logger: Logger;
  /** First delay between attempts; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

const DEFAULT_RETRY_DELAY_MS = 1_000;
/** A restarted server is picked up within a minute. */
const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

export class Reconnector<T extends { close(): Promise<void> }> {
  readonly #options: ReconnectorOptions<T>;
  #resource: T | undefined;
  /** Set when opening failed in a way retrying cannot fix (wrong key, wrong schema). */
  #fatal: FindimageError | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #connected: Promise<void>;
  #markConnected: () => void = () => {};

  constructor(options: ReconnectorOptions<T>) {
    this.#options = options;
    this.#connected = new Promise((resolve) => (this.#markConnected = resolve));
    void this.#attempt(0);
  }

  /** Resolves once connected (for tests and start-up logs); never rejects. */
  whenConnected(): Promise<void> {
    return this.#connected;
  }

  /** The connected resource; throws 'store_unavailable' until then, or the fatal error. */
  current(): T {
    if (this.#resource !== undefined) return this.#resource;
    if (this.#fatal !== undefined) throw this.#fatal;
    if (this.#closed) throw new StoreError('store_failed', `${this.#options.description} is closed.`);
    throw new StoreError('store_unavailable', this.#options.unavailableMessage);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#resource?.close();
  }

  async #attempt(retry: number): Promise<void> {
    if (this.#closed) return;
    const { open, logger, description } = this.#options;
    try {
      const resource = await open();
      if (this.#closed) {
        await resource.close();
        return;
      }
      this.#resource = resource;
      logger.info({ resource: description }, 'connected');
      this.#markConnected();
    } catch (thrown) {
      const error = asFindimageError(thrown);
      if (!isTransient(error)) {
        this.#fatal = error;
        logger.error({ resource: description, code: error.code, err: thrown }, 'cannot be used; not retrying');
        return;
      }
      const base = this.#options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
      const delay = Math.min(base * 2 ** retry, this.#options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
      logger.warn({ resource: description, code: error.code, retryInMs: delay }, 'unreachable; retrying');
      this.#timer = setTimeout(() => void this.#attempt(retry + 1), delay);
      this.#timer.unref();
    }
  }
}
