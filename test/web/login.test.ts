// Logging in to a web app bound off loopback, over real HTTP: wrong tokens are rate-limited per
// client (and a client over the limit is refused even with the right token), logging out clears
// the cookie, the cookie is Secure when a trusted proxy says the browser used HTTPS, and every
// answer (the login page, errors, the page itself) carries the Content-Security-Policy.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startWebHarness, type HarnessOptions, type WebHarness } from './web-harness.js';

const TOKEN = 'a-long-test-token-123456';
/** A small allowance keeps the tests short; the real one is MAX_AUTH_FAILURES. */
const MAX_FAILURES = 3;

describe('web login', () => {
  let h: WebHarness | undefined;
  let base: string;
  const cleanups: string[] = [];

  async function start(options: HarnessOptions = {}): Promise<void> {
    h = await startWebHarness({ host: '0.0.0.0', token: TOKEN, authFailureLimit: { max: MAX_FAILURES }, ...options });
    base = `http://127.0.0.1:${new URL(h.server.url).port}`;
  }
  afterEach(async () => {
    await h?.close();
    h = undefined;
    for (const dir of cleanups.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  const bearer = (token: string, extra: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });
  const login = (token: string, extra: Record<string, string> = {}) =>
    fetch(`${base}/login`, { method: 'POST', headers: extra, body: new URLSearchParams({ token, next: '/' }), redirect: 'manual' });

  it('refuses a client with 429 and Retry-After once it has sent too many wrong tokens, even with the right one', async () => {
    await start();
    for (let i = 0; i < MAX_FAILURES; i++) expect((await fetch(`${base}/api/stats`, bearer(`wrong-${i}`))).status).toBe(401);
    const over = await fetch(`${base}/api/stats`, bearer('wrong-again'));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await over.json()) as { error: string }).error).toBe('too_many_failures');
    // The right token no longer helps: a 200 here would tell a guesser it had found it.
    expect((await fetch(`${base}/api/stats`, bearer(TOKEN))).status).toBe(429);
    const loginPage = await login(TOKEN);
    expect(loginPage.status).toBe(429);
    expect(await loginPage.text()).toMatch(/Too many wrong tokens/);
  });

  it('counts wrong tokens typed on the login page the same way', async () => {
    await start();
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    const over = await login('wrong-again');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).not.toBeNull();
    expect((await fetch(`${base}/api/stats`, bearer(TOKEN))).status).toBe(429);
  });

  it('does not count requests without a token, nor right tokens', async () => {
    await start();
    for (let i = 0; i < MAX_FAILURES + 2; i++) {
      expect((await fetch(`${base}/api/stats`)).status).toBe(401);
      expect((await fetch(`${base}/api/stats`, bearer(TOKEN))).status).toBe(200);
    }
    expect((await login(TOKEN)).status).toBe(303);
  });

  it('lets the client try again once the window has passed', async () => {
    // A window long enough that the second wrong token lands in it on a loaded machine, short
    // enough to wait out; the limiter keeps its own clock, so the test waits for the condition.
    await start({ authFailureLimit: { max: 1, windowMs: 3_000 } });
    expect((await fetch(`${base}/api/stats`, bearer('wrong'))).status).toBe(401);
    expect((await fetch(`${base}/api/stats`, bearer('wrong'))).status).toBe(429);
    await vi.waitFor(async () => expect((await fetch(`${base}/api/stats`, bearer(TOKEN))).status).toBe(200), { timeout: 15_000, interval: 100 });
  });

  it('limits each client by its own address behind a trusted proxy, not the proxy\'s', async () => {
    await start({ trustProxy: ['127.0.0.1'] });
    const guesser = { 'x-forwarded-for': '203.0.113.5' };
    const someoneElse = { 'x-forwarded-for': '203.0.113.6' };
    for (let i = 0; i <= MAX_FAILURES; i++) await fetch(`${base}/api/stats`, bearer(`wrong-${i}`, guesser));
    expect((await fetch(`${base}/api/stats`, bearer(TOKEN, guesser))).status).toBe(429);
    expect((await fetch(`${base}/api/stats`, bearer(TOKEN, someoneElse))).status).toBe(200);
  });

  it('keeps limiting a guesser that forges X-Forwarded-For when the proxy is trusted by address', async () => {
    // The proxy appends the address it saw (nginx's $proxy_add_x_forwarded_for); the guesser
    // writes a new address of its own in front each time. The address list reads the right-most
    // entry the proxy added, so the forged ones change nothing (with `true` they would: docs/web.md).
    await start({ trustProxy: ['127.0.0.1'] });
    const forging = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.5` });
    for (let i = 0; i < MAX_FAILURES; i++) expect((await fetch(`${base}/api/stats`, bearer(`wrong-${i}`, forging(i)))).status).toBe(401);
    expect((await fetch(`${base}/api/stats`, bearer('wrong-again', forging(98)))).status).toBe(429);
    expect((await fetch(`${base}/api/stats`, bearer(TOKEN, forging(99)))).status).toBe(429);
  });

  it('logs out: the cookie is cleared and no longer lets the page in', async () => {
    await start();
    expect(await (await fetch(`${base}/api/session`, bearer(TOKEN))).json()).toEqual({ login: true });
    const cookie = (await login(TOKEN)).headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/api/stats`, { headers: { cookie } })).status).toBe(200);
    const out = await fetch(`${base}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    const cleared = out.headers.get('set-cookie') ?? '';
    expect(cleared).toMatch(/^findimage_token=;/);
    expect(cleared).toMatch(/Max-Age=0/);
    expect(cleared).toMatch(/HttpOnly/);
    expect((await fetch(`${base}/api/stats`, { headers: { cookie: cleared.split(';')[0]! } })).status).toBe(401);
    // Another site cannot log someone out.
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'cross-site' }, redirect: 'manual' })).status).toBe(403);
  });

  it('marks the cookie Secure when a trusted proxy says the browser came over HTTPS', async () => {
    await start({ trustProxy: ['127.0.0.1'] });
    const overHttps = await login(TOKEN, { 'x-forwarded-proto': 'https' });
    expect(overHttps.headers.get('set-cookie')).toMatch(/; Secure/);
    const overHttp = await login(TOKEN);
    expect(overHttp.headers.get('set-cookie')).not.toMatch(/Secure/);
    const logout = await fetch(`${base}/logout`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' }, redirect: 'manual' });
    expect(logout.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('ignores X-Forwarded-Proto from a client that is not a trusted proxy', async () => {
    await start();
    const forged = await login(TOKEN, { 'x-forwarded-proto': 'https' });
    expect(forged.status).toBe(303);
    expect(forged.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('sends the Content-Security-Policy on every answer: login page, page, errors', async () => {
    const pageDir = await mkdtemp(join(tmpdir(), 'findimage-page-'));
    cleanups.push(pageDir);
    await writeFile(join(pageDir, 'index.html'), '<!doctype html><title>findimage</title>');
    await writeFile(join(pageDir, 'styles.css'), 'body {}');
    await start({ pageDir });
    const cookie = (await login(TOKEN)).headers.get('set-cookie')!.split(';')[0]!;
    const answers = [
      await fetch(`${base}/login`),
      await login('wrong'),
      await fetch(`${base}/`, { headers: { cookie } }),
      await fetch(`${base}/static/styles.css`),
      await fetch(`${base}/api/stats`),
      await fetch(`${base}/nowhere`, { headers: { cookie } }),
      await fetch(`${base}/`, { headers: { accept: 'text/html' }, redirect: 'manual' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 200, 401, 404, 302]);
    for (const answer of answers) {
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp, answer.url).toMatch(/default-src 'self'/);
      expect(csp, answer.url).toMatch(/script-src 'self'/);
      expect(csp, answer.url).toMatch(/frame-ancestors 'none'/);
    }
  });
});

describe('web app on loopback', () => {
  it('tells the page there is no login, so it offers no logout', async () => {
    const h = await startWebHarness();
    try {
      expect(await (await fetch(`${h.server.url}api/session`)).json()).toEqual({ login: false });
    } finally {
      await h.close();
    }
  });
});
