// The page is ES modules loaded one by one, and the server serves only the files it lists: every
// module the build writes must be on that list, or the page breaks on an import nobody serves.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage } from './browser-kit.js';
import { startWebHarness, type WebHarness } from './web-harness.js';

describe('the page files', () => {
  let pageDir: string;
  let h: WebHarness;
  beforeAll(async () => {
    pageDir = await mkdtemp(join(tmpdir(), 'findimage-page-'));
    buildPage(pageDir);
    h = await startWebHarness({ pageDir, holdCore: true });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await rm(pageDir, { recursive: true, force: true });
  });

  it('serves every module and style the build writes, with its type', async () => {
    const built = (await readdir(pageDir)).filter((name) => /\.(js|css|svg)$/.test(name));
    expect(built).toContain('app.js');
    for (const name of built) {
      const response = await fetch(`${h.server.url}static/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type'), name).toMatch(name.endsWith('.js') ? /^text\/javascript/ : /^(text\/css|image\/svg\+xml)/);
    }
  });
});
