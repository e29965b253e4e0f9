// The login page of a server bound off loopback: one field for FINDIMAGE_WEB_TOKEN, which, when
// right, is kept in an HttpOnly, SameSite=Strict cookie so the page's own requests carry it
// (Secure too when the request came over HTTPS); logging out clears it. Wrong tokens count
// against the client's allowance (auth-failure-limit.ts). GET /api/session tells the page
// whether there is a login at all, so it shows a logout button only when there is.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthFailureLimit } from '../auth-failure-limit.js';
import { TOKEN_COOKIE, TOKEN_COOKIE_MAX_AGE_S, sameSecret } from '../web-access.js';

/** Where to go after logging in: a path on this server only, never another site. */
function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/(?!\/)[\w\-/]*$/.test(next) ? next : '/';
}

function loginPage(message: string | undefined, next: string): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>findimage: log in</title><link rel="stylesheet" href="/static/styles.css"></head>
<body class="login"><main class="login-box"><h1>findimage</h1>
<p>This server needs its access token (FINDIMAGE_WEB_TOKEN).</p>
${message === undefined ? '' : `<p class="error" role="alert">${escape(message)}</p>`}
<form method="post" action="/login"><input type="hidden" name="next" value="${escape(next)}">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form></main></body></html>`;
}

/** The token cookie with `value` and `maxAge`; Secure when the request came over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto). */
function tokenCookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${TOKEN_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

function sendLoginPage(reply: FastifyReply, status: number, message: string | undefined, next: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(loginPage(message, next));
}

function waitMessage(retryAfterS: number): string {
  return `Too many wrong tokens from this address. Try again in ${Math.ceil(retryAfterS / 60)} minute(s).`;
}

export function registerLoginRoutes(app: FastifyInstance, token: string | undefined, limit: AuthFailureLimit): void {
  app.get('/api/session', async () => ({ login: token !== undefined }));
  if (token === undefined) return;
  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => sendLoginPage(reply, 200, undefined, safeNext(request.query.next)));
  app.post<{ Body: { token?: string; next?: string } }>('/login', async (request, reply) => {
    const body = request.body ?? {};
    const next = safeNext(body.next);
    const blocked = limit.retryAfterS(request);
    if (blocked !== undefined) return sendLoginPage(reply.header('retry-after', String(blocked)), 429, waitMessage(blocked), next);
    if (typeof body.token !== 'string' || !sameSecret(body.token, token)) {
      const nowBlocked = await limit.failed(request);
      if (nowBlocked !== undefined) return sendLoginPage(reply.header('retry-after', String(nowBlocked)), 429, waitMessage(nowBlocked), next);
      return sendLoginPage(reply, 401, 'That token is wrong.', next);
    }
    return reply.header('set-cookie', tokenCookie(request, token, TOKEN_COOKIE_MAX_AGE_S)).redirect(next, 303);
  });
  // A POST, so a link or an image elsewhere cannot log someone out (and refuseCrossSite applies).
  app.post('/logout', async (request, reply) => reply.header('set-cookie', tokenCookie(request, '', 0)).redirect('/login', 303));
}
