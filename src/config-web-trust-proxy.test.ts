// FINDIMAGE_WEB_TRUST_PROXY as src/config.ts reads it: which reverse proxies' X-Forwarded-*
// headers the web app believes. A typo must be refused, never read as "trust nobody" (cookies
// would lose Secure behind HTTPS) or "trust everybody" (anyone could forge their address).
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('FINDIMAGE_WEB_TRUST_PROXY', () => {
  it('trusts no proxy when unset, empty or false', () => {
    expect(loadConfig({}).web.trustProxy).toBeUndefined();
    expect(loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: '' }).web.trustProxy).toBeUndefined();
    expect(loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: 'false' }).web.trustProxy).toBeUndefined();
  });

  it('reads true, and a list of addresses, CIDR ranges and range names', () => {
    expect(loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: 'true' }).web.trustProxy).toBe(true);
    expect(loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: '127.0.0.1' }).web.trustProxy).toEqual(['127.0.0.1']);
    expect(loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: ' 10.0.0.0/8, fd00::/8 ,Loopback,::1' }).web.trustProxy).toEqual(['10.0.0.0/8', 'fd00::/8', 'loopback', '::1']);
  });

  it('refuses anything else, naming the setting and the bad entry', () => {
    for (const bad of ['yes', '1', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/8', 'fd00::/129', '127.0.0.1,nginx', ',']) {
      expect(() => loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: bad }), bad).toThrow(/FINDIMAGE_WEB_TRUST_PROXY must be true, false, or a comma-separated list/);
    }
    expect(() => loadConfig({ FINDIMAGE_WEB_TRUST_PROXY: '127.0.0.1,nginx' })).toThrow(/"nginx"/);
  });
});
