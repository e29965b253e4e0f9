// The login page of a server bound off loopback: one field for FINDIMAGE_WEB_TOKEN, which, when
// right, is kept in an HttpOnly, SameSite=Strict cookie so the page's own requests carry it.
import type { FastifyInstance } from 'fastify';
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

export function registerLoginRoutes(app: FastifyInstance, token: string | undefined): void {
  if (token === undefined) return;
  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').send(loginPage(undefined, safeNext(request.query.next))),
  );
  app.post<{ Body: { token?: string; next?: string } }>('/login', async (request, reply) => {
    const body = request.body ?? {};
    const next = safeNext(body.next);
    if (typeof body.token !== 'string' || !sameSecret(body.token, token)) {
      return reply.code(401).header('content-type', 'text/html; charset=utf-8').send(loginPage('That token is wrong.', next));
    }
    const secure = request.protocol === 'https' ? '; Secure' : '';
    return reply
      .header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${TOKEN_COOKIE_MAX_AGE_S}${secure}`)
      .redirect(next, 303);
  });
}
