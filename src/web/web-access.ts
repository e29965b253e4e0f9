// Who may use the web app. On loopback only this machine can connect, so no login is asked; on
// any other address the server refuses to start without FINDIMAGE_WEB_TOKEN, and then every
// request carries the token (a bearer header, or the cookie the login page sets). State-changing
// requests from another site are refused whatever the address, since a page elsewhere could
// otherwise post to a loopback server through the person's own browser. Without a token the
// Host header must name this machine too: otherwise a page on an attacker's domain that resolves
// to 127.0.0.1 (DNS rebinding) would count as same-origin and could read everything.
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../core/errors.js';
import type { AuthFailureLimit } from './auth-failure-limit.js';

/** Cookie the login page sets; HttpOnly and SameSite=Strict, so pages elsewhere never send it. */
export const TOKEN_COOKIE = 'findimage_token';
/** How long the login cookie lasts: a working week. */
export const TOKEN_COOKIE_MAX_AGE_S = 7 * 24 * 3600;
/** Routes open without a token: the login page, the form it posts, and logging out (which only clears the cookie). */
const OPEN_PATHS = new Set(['/login', '/logout']);
/** The page's own scripts and styles hold no data, and the login page needs its stylesheet. */
const OPEN_PREFIX = '/static/';

/** Whether `host` names this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}

/** Throws ConfigError when the server would be reachable from other machines without a token. */
export function checkListenAddress(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || token !== undefined) return;
  throw new ConfigError(
    `The web app would listen on ${host}, which other machines can reach, without a login. ` +
      'Set FINDIMAGE_WEB_TOKEN to a long random secret (for example: openssl rand -hex 24), ' +
      'or set FINDIMAGE_WEB_HOST=127.0.0.1 to keep it on this machine.',
    { details: { variable: 'FINDIMAGE_WEB_TOKEN' } },
  );
}

/** Compares secrets in constant time (hashes first, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request carries: `Authorization: Bearer ...` or the login cookie. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1]?.trim();
  }
  return cookieValue(request.headers.cookie, TOKEN_COOKIE);
}

/** One cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The 429 for a client that sent too many wrong tokens. */
export async function tooManyFailures(reply: FastifyReply, retryAfterS: number): Promise<void> {
  await reply
    .code(429)
    .header('retry-after', String(retryAfterS))
    .send({ error: 'too_many_failures', message: `Too many wrong tokens from this address; try again in ${Math.ceil(retryAfterS / 60)} minute(s).` });
}

/**
 * onRequest hook: with a token configured, refuses requests without it. Pages get a redirect
 * to the login page; the API and metrics get 401 with a JSON reason. A wrong token counts
 * against the client's allowance in `limit`; a client over it gets 429 whatever token it sends.
 */
export function requireToken(token: string | undefined, limit: AuthFailureLimit) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (token === undefined) return;
    const path = request.url.split('?')[0] ?? '/';
    if (OPEN_PATHS.has(path) || path.startsWith(OPEN_PREFIX)) return;
    const given = tokenOf(request);
    if (given !== undefined) {
      const blocked = limit.retryAfterS(request);
      if (blocked !== undefined) return tooManyFailures(reply, blocked);
      if (sameSecret(given, token)) return;
      const nowBlocked = await limit.failed(request);
      if (nowBlocked !== undefined) return tooManyFailures(reply, nowBlocked);
    }
    const wantsPage = request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
    if (wantsPage) {
      await reply.redirect(`/login?next=${encodeURIComponent(path)}`);
      return;
    }
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="findimage"')
      .send({ error: 'unauthorized', message: given === undefined ? 'This server needs a token: send Authorization: Bearer <FINDIMAGE_WEB_TOKEN> or log in at /login.' : 'The token is wrong.' });
  };
}

/** The hostname of a Host header (`localhost:8080`, `[::1]:8080`, `127.0.0.1`), lower-cased. */
export function hostnameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end < 0 ? value : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * onRequest hook: without a token (loopback mode), refuses requests whose Host header names
 * anything but this machine (localhost, 127.x.x.x, [::1]), so a page on another domain that
 * resolves to 127.0.0.1 (DNS rebinding) can neither read nor post. With a token, the token
 * guards every request and the Host header is not checked. A request with no Host header at
 * all cannot come from a browser, so it passes.
 */
export function refuseForeignHost(token: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (token !== undefined) return;
    const header = request.headers.host;
    if (header === undefined) return;
    if (isLoopbackHost(hostnameOf(header))) return;
    await reply.code(421).send({
      error: 'misdirected_request',
      message:
        `This server answers only to localhost, 127.0.0.1 or [::1], not to ${JSON.stringify(header)}. ` +
        'To reach it under another name, set FINDIMAGE_WEB_TOKEN.',
    });
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * onRequest hook: refuses state-changing requests sent by another site. Browsers send
 * Sec-Fetch-Site (same-origin for the page's own requests) and Origin on every POST; a request
 * with neither comes from a script such as curl, which a page elsewhere cannot make.
 */
export async function refuseCrossSite(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return;
    await reply.code(403).send({ error: 'cross_site', message: 'Requests from other sites are refused.' });
    return;
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const host = request.headers.host;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (host !== undefined && originHost === host) return;
  await reply.code(403).send({ error: 'cross_site', message: 'Requests from other sites are refused.' });
}
