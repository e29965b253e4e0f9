// How many wrong tokens one client may send before it is made to wait. Every wrong token (a
// bearer header, a login cookie, or the login form) is counted per client address by
// @fastify/rate-limit; once a client has used up its allowance, all its requests that carry a
// token are refused with 429 until the window ends, the right token included: otherwise the
// one guess that answered 200 instead of 429 would tell a guesser it had found the token.
import type {} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Wrong tokens one client may send per window. A person mistyping the token a few times stays
 * well under it; a guesser gets 10 tries per quarter hour, against a token of 16 or more
 * characters.
 */
export const MAX_AUTH_FAILURES = 10;
/** The window the failures are counted over, and at most how long a client then waits. */
export const AUTH_FAILURE_WINDOW_MS = 15 * 60 * 1000;

/** The counter @fastify/rate-limit builds for the failures (app.createRateLimit). */
type FailureCounter = ReturnType<FastifyInstance['createRateLimit']>;

/** Limits on wrong tokens (tests shorten them). */
export interface AuthFailureLimitOptions {
  /** Wrong tokens allowed per window; MAX_AUTH_FAILURES unless given. */
  max?: number;
  /** The window in milliseconds; AUTH_FAILURE_WINDOW_MS unless given. */
  windowMs?: number;
  /** The clock in milliseconds; Date.now unless given. */
  now?: () => number;
}

/**
 * Counts wrong tokens per client address (request.ip, which honours FINDIMAGE_WEB_TRUST_PROXY)
 * and says when a client must wait. Needs @fastify/rate-limit registered on `app`.
 */
export class AuthFailureLimit {
  readonly #count: FailureCounter;
  readonly #now: () => number;
  /** Clients that used up their allowance, and when they may try again (ms). */
  readonly #blockedUntil = new Map<string, number>();

  constructor(app: FastifyInstance, options: AuthFailureLimitOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#count = app.createRateLimit({
      max: options.max ?? MAX_AUTH_FAILURES,
      timeWindow: options.windowMs ?? AUTH_FAILURE_WINDOW_MS,
      keyGenerator: (request) => request.ip,
    });
  }

  /** Seconds until this request's client may present a token again; undefined when it may now. */
  retryAfterS(request: FastifyRequest): number | undefined {
    const until = this.#blockedUntil.get(request.ip);
    if (until === undefined) return undefined;
    const left = until - this.#now();
    if (left > 0) return Math.ceil(left / 1000);
    this.#blockedUntil.delete(request.ip);
    return undefined;
  }

  /**
   * Counts one wrong token from this request's client. Returns the seconds it must now wait when
   * this failure used up its allowance, undefined while it may still try.
   */
  async failed(request: FastifyRequest): Promise<number | undefined> {
    const result = await this.#count(request);
    if (result.isAllowed || !result.isExceeded) return undefined;
    const now = this.#now();
    // Only clients over the limit are kept here, and each only for its window.
    for (const [client, until] of this.#blockedUntil) if (until <= now) this.#blockedUntil.delete(client);
    this.#blockedUntil.set(request.ip, now + result.ttl);
    return Math.max(1, result.ttlInSeconds);
  }
}
