// The page in a real browser: Debian's Chromium driven by playwright-core against the web app
// on the tiny model. Search to results, paging, a vote stored, "more like this", an upload
// indexed then found (its HTML-laden name shown as text), search by a dropped image and its next
// page, the evaluation plots drawn, and the token asked for off loopback. With
// UPDATE_SCREENSHOTS=1 the screenshots shown in docs/web.md are written to docs/images/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegOf, multipartOf, startWebHarness, type WebHarness } from './web-harness.js';

/** Debian's package; .ci/run installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Flags known to work here: no sandbox as root, and nothing that reaches for the network. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? resolve('docs/images') : undefined;
const HOSTILE_NAME = '<img src=x onerror="window.pwned=1">cat.jpg';

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `web-${name}.png`), fullPage });
}

/** Builds the page from web/ into a folder of this run's own, so the test never serves a stale build. */
function buildPage(out: string): void {
  const result = spawnSync(process.execPath, ['scripts/build-web.mjs', out], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`page build failed: ${result.stdout}${result.stderr}`);
}

// One person's visit, step by step, so it runs in the order written even when the suite is
// shuffled (the file itself still runs at any point): a step starts on the page the last one left
// (the results voted on and opened), the evaluation page grades and reopens the votes clicked
// before it, and the upload turns the 25 images the first step counts into 26. Standing alone,
// each step would need its own harness (embedding 25 images again) and votes written through the
// API instead of clicked, which is no longer the story. The off-loopback test below stands alone.
describe('the web page in Chromium', { shuffle: false }, () => {
  let pageDir: string;
  let h: WebHarness;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
    pageDir = await mkdtemp(join(tmpdir(), 'findimage-page-'));
    buildPage(pageDir);
    h = await startWebHarness({ pageDir });
    base = h.server.url.replace(/\/$/, '');
    const colours: Array<[number, number, number]> = Array.from({ length: 25 }, (_, i) => [(i * 53) % 256, (i * 97) % 256, (i * 29) % 256]);
    const files = await Promise.all(colours.map(async (rgb, i) => ({ name: `swatch ${String(i + 1).padStart(2, '0')}.jpg`, bytes: await jpegOf(rgb, 96, 72, i) })));
    for (const batch of [files.slice(0, 13), files.slice(13)]) {
      const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf(batch) });
      expect(response.status).toBe(200);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // A step that fails says which, well inside the test's own deadline.
    page.setDefaultTimeout(10_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    if (pageDir !== undefined) await rm(pageDir, { recursive: true, force: true });
  });

  it('shows a deliberate first state, searches, and pages through the results', async () => {
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('[data-state="empty"] .state-title').textContent()).toBe('Search 25 images.');
    await page.fill('#q', 'a colour swatch');
    await page.press('#q', 'Enter');
    await page.locator('.card').nth(19).waitFor();
    expect(await page.locator('.card').count()).toBe(20);
    // On loopback there is no login, so nothing to log out of.
    expect(await page.locator('#logout').count()).toBe(0);
    expect(await page.locator('#results-heading').textContent()).toBe('Results 1–20 for “a colour swatch”');
    expect(await page.locator('.card .score').first().textContent()).toMatch(/^-?\d\.\d{3}$/);
    await page.locator('.card img').last().evaluate((img: { decode(): Promise<void> }) => img.decode());
    await screenshot(page, 'search');

    await page.click('.pager .next');
    await expect.poll(() => page.locator('#results-heading').textContent()).toBe('Results 21–25 for “a colour swatch”');
    expect(await page.locator('.card').count()).toBe(5);
    expect(await page.locator('.pager .next').isDisabled()).toBe(true);
    await page.click('.pager .prev');
    await expect.poll(() => page.locator('.card').count()).toBe(20);
  });

  it('stores a vote under the name typed once, and refuses to vote without one', async () => {
    await page.click('.card .vote-up >> nth=0');
    await page.locator('[data-state="error"]', { hasText: 'Type your name first.' }).waitFor();
    await page.fill('#user-name', 'ana');
    await page.press('#user-name', 'Tab');
    const first = page.locator('.card').first();
    const imageId = await first.getAttribute('data-id');
    await first.locator('.vote-up').click();
    await expect.poll(() => first.locator('.vote-up').getAttribute('aria-pressed')).toBe('true');
    const labels = await h.findimage.labels.listLabels({ tenant: 'local', user: 'ana' });
    expect(labels.map((l) => [l.imageId, l.value])).toEqual([[imageId, 1]]);
    await first.locator('.vote-down').click();
    await expect.poll(async () => (await h.findimage.labels.listLabels({ tenant: 'local', user: 'ana' })).map((l) => l.value)).toEqual([-1]);
    // Two results judged relevant, so the evaluation page has something to grade.
    for (const n of [1, 2]) {
      const card = page.locator('.card').nth(n);
      await card.locator('.vote-up').click();
      await expect.poll(() => card.locator('.vote-up').getAttribute('aria-pressed')).toBe('true');
    }
    // The name stays in the browser: a reload shows it and the votes.
    await page.reload();
    expect(await page.inputValue('#user-name')).toBe('ana');
    await page.locator('.card').nth(19).waitFor();
    await expect.poll(() => page.locator('.card .vote-up[aria-pressed="true"]').count()).toBe(2);
    await expect.poll(() => page.locator('.card .vote-down[aria-pressed="true"]').count()).toBe(1);
  });

  it('opens an image and shows more like it', async () => {
    await page.click('.card .thumb >> nth=2');
    await page.locator('dialog.viewer[open] .more-like-this').waitFor();
    await page.locator('dialog.viewer img').evaluate((img: { decode(): Promise<void> }) => img.decode());
    await screenshot(page, 'viewer', false);
    const name = await page.locator('dialog.viewer h2').textContent();
    await page.click('dialog.viewer .more-like-this');
    await expect.poll(() => page.locator('#results-heading').textContent()).toBe(`Results 1–20 for images like ${name}`);
  });

  it('uploads on the index page, says why a file is refused, and the new image is then found', async () => {
    await page.goto(`${base}/index`);
    await page.locator('#stats .total').waitFor();
    const photo = await jpegOf([240, 30, 30], 1600, 1200, 99);
    await page.setInputFiles('#file-input', [
      { name: HOSTILE_NAME, mimeType: 'image/jpeg', buffer: photo },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image, just words') },
    ]);
    await page.locator('.upload[data-status="indexed"]').waitFor();
    await page.locator('.upload[data-status="refused"]').waitFor();
    expect(await page.locator('.upload[data-status="indexed"] .name').textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('.upload[data-status="refused"] .verdict').textContent()).toMatch(/^Refused: .*not an image/);
    await expect.poll(() => page.locator('#stats .total').textContent()).toBe('26 images indexed · 0 in the upload queue');
    await screenshot(page, 'index');

    await page.goto(`${base}/?q=${encodeURIComponent('a red photo')}`);
    await page.locator('.card').first().waitFor();
    const names = await page.locator('.card .name').allTextContents();
    if (!names.includes(HOSTILE_NAME)) {
      await page.click('.pager .next');
      await page.locator('.card', { hasText: 'cat.jpg' }).waitFor();
    }
    await expect.poll(() => page.locator('.card .name', { hasText: 'cat.jpg' }).textContent()).toBe(HOSTILE_NAME);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
  });

  it('searches by an image dropped on the page', async () => {
    await page.goto(`${base}/`);
    const base64 = (await jpegOf([10, 200, 10], 120, 90, 7)).toString('base64');
    // Run in the page (a string, since these tests compile without the DOM's types).
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob('${base64}'), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    await expect.poll(() => page.locator('#results-heading').textContent()).toBe('Results 1–20 for images like dropped.jpg');
    // The dropped image is not indexed: its next page comes from the hits kept with the search.
    expect(await page.locator('.pager .next').isDisabled()).toBe(false);
    await page.click('.pager .next');
    await expect.poll(() => page.locator('#results-heading').textContent()).toMatch(/^Results 21–2\d for images like dropped\.jpg$/);
    expect(await page.locator('.pager .next').isDisabled()).toBe(true);
  });

  it('draws the evaluation plots and lists the labelled queries', async () => {
    await page.goto(`${base}/eval`);
    await page.locator('svg.chart').nth(2).waitFor();
    expect(await page.locator('svg.chart').count()).toBe(3);
    expect(await page.locator('svg.chart path.series.plain').count()).toBe(3);
    expect(await page.locator('svg.chart path.series.feedback').count()).toBe(3);
    expect(await page.locator('svg.chart .chart-title').allTextContents()).toEqual(['Precision@K', 'Recall@K', 'nDCG@K']);
    const row = page.locator('table.queries tbody tr').first();
    expect(await row.locator('a').textContent()).toBe('a colour swatch');
    expect(await row.locator('a').getAttribute('href')).toMatch(/^\/\?q=a\+colour\+swatch&qid=[0-9a-f-]{36}$/);
    await screenshot(page, 'eval');
    // The link opens that very search, with the votes given on it.
    await row.locator('a').click();
    await page.locator('.card').nth(19).waitFor();
    await expect.poll(() => page.locator('.card .vote-up[aria-pressed="true"]').count()).toBe(2);
  });
});

describe('the web page off loopback', () => {
  it('asks for the token, then works with the cookie it sets', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
    const pageDir = await mkdtemp(join(tmpdir(), 'findimage-page-'));
    buildPage(pageDir);
    const token = 'browser-test-token-0123456789';
    const h = await startWebHarness({ pageDir, host: '0.0.0.0', token });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const base = `http://127.0.0.1:${new URL(h.server.url).port}`;
      await page.goto(`${base}/eval`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('input[name="token"]', 'wrong-token');
      await page.click('button[type="submit"]');
      await page.locator('.error', { hasText: 'That token is wrong.' }).waitFor();
      await screenshot(page, 'login');
      await page.fill('input[name="token"]', token);
      await page.click('button[type="submit"]');
      await page.locator('main[data-view="evaluation"] [data-state="empty"]').waitFor();
      expect(new URL(page.url()).pathname).toBe('/eval');
      // Logging out clears the cookie: the page then asks for the token again.
      await page.click('#logout');
      await page.waitForURL((url) => url.pathname === '/login');
      await page.goto(`${base}/eval`);
      expect(new URL(page.url()).pathname).toBe('/login');
    } finally {
      await browser.close();
      await h.close();
      await rm(pageDir, { recursive: true, force: true });
    }
  });
});
