// The web app's bind and token, as the doctor judges them: loopback needs nothing, any other
// address needs FINDIMAGE_WEB_TOKEN (without it serve refuses to start), and a token sent over
// plain http to a public address asks for an HTTPS proxy in front.
import { describe, expect, it } from 'vitest';
import { webAccessCheck, type WebDoctorOptions } from './web-doctor.js';

const judge = (options: Partial<WebDoctorOptions>) =>
  webAccessCheck({ host: '127.0.0.1', port: 8765, hasToken: false, behindProxy: false, ...options }).run(new AbortController().signal);

describe('the web access check', () => {
  it('passes loopback without a token', async () => {
    expect(await judge({ host: '::1' })).toMatchObject({ status: 'ok' });
  });

  it('fails a public bind without a token', async () => {
    expect(await judge({ host: '0.0.0.0' })).toMatchObject({ status: 'fail', summary: expect.stringContaining('FINDIMAGE_WEB_TOKEN is not set') });
  });

  it('warns about a token sent over plain http to a public bind, and passes it behind a proxy', async () => {
    expect(await judge({ host: '10.0.0.4', hasToken: true })).toMatchObject({ status: 'warn', action: expect.stringContaining('FINDIMAGE_WEB_TRUST_PROXY') });
    expect(await judge({ host: '10.0.0.4', hasToken: true, behindProxy: true })).toMatchObject({ status: 'ok' });
  });
});
