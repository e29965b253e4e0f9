// The page in a real browser, on a laptop (1366x900) and a phone (390x844): Debian's Chromium
// driven by playwright-core against the web app on the tiny model, with 30 photos of mixed
// shapes (mixed-photos.ts). Each size runs one person's visit: a grid whose cards keep one size,
// the cut-off's hidden results offered, paging with the focus on the results and the count
// announced, every search a URL that Back, Forward, reload and a shared link restore, votes with
// names of their own, the viewer, search by a dropped image, errors that recover, the upload page
// and the evaluation page; axe-core finds no serious or critical fault on any page, light or
// dark. With UPDATE_SCREENSHOTS=1 the screenshots in docs/web.md are written to docs/images/.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, buildPage, launchChromium, layoutFaults, openPage, screenshot, SIZES, smallTouchTargets } from './browser-kit.js';
import { mixedPhotos } from './mixed-photos.js';
import { jpegOf, multipartOf, startWebHarness, type WebHarness } from './web-harness.js';

const HOSTILE_NAME = '<img src=x onerror="window.pwned=1">cat.jpg';
/** Photos indexed for the visit: a full page of 20 and a second page of 10. */
const PHOTOS = 30;

/** The results heading's text, once it says something. */
const headingOf = (page: Page) => page.locator('#results-heading').textContent();
/** The search part of the page's address, as URLSearchParams entries. */
const paramsOf = (page: Page) => Object.fromEntries(new URL(page.url()).searchParams);

let pageDir: string;
let browser: Browser;
beforeAll(async () => {
  pageDir = await mkdtemp(join(tmpdir(), 'findimage-page-'));
  buildPage(pageDir);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (pageDir !== undefined) await rm(pageDir, { recursive: true, force: true });
});

// One person's visit per size, step by step, so it runs in the order written even when the
// suite is shuffled: a step starts on the page the last one left, and the evaluation page grades
// the votes clicked before it. Standing alone, each step would need its own harness and votes
// written through the API instead of clicked, which is no longer the story.
for (const size of SIZES) {
  const shot = (name: string) => (size.phone ? `${name}-phone` : name);

  describe(`the web page on a ${size.name} (${size.width}x${size.height})`, { shuffle: false }, () => {
    let h: WebHarness;
    let base: string;
    let page: Page;
    const names = new Map<string, { width: number; height: number }>();

    /** The page passes every check that holds on every page: layout, one <h1>, axe, touch targets on a phone. */
    const pageIsSound = async (what: string) => {
      expect(await layoutFaults(page), what).toEqual([]);
      expect(await axeViolations(page), what).toEqual([]);
      if (size.phone) expect(await smallTouchTargets(page), what).toEqual([]);
    };

    beforeAll(async () => {
      // The server keeps its usual relative cut-off, so the page has results to offer below it.
      h = await startWebHarness({ pageDir, env: { FINDIMAGE_MIN_RELATIVE_SCORE: '0.8' } });
      base = h.server.url.replace(/\/$/, '');
      const photos = await mixedPhotos(PHOTOS);
      for (const photo of photos) names.set(photo.name, { width: photo.width, height: photo.height });
      for (const batch of [photos.slice(0, 15), photos.slice(15)]) {
        const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf(batch) });
        expect(response.status).toBe(200);
      }
      page = await openPage(browser, size);
    }, 120_000);
    afterAll(async () => {
      await page?.close();
      await h?.close();
    });

    it('says how many results the cut-off hid and shows them on request', async () => {
      await page.goto(`${base}/`);
      await expect.poll(() => page.locator('[data-state="empty"] .state-title').textContent()).toBe(`Search ${PHOTOS} images.`);
      await pageIsSound('the first view');
      await page.fill('#q', 'a kangaroo');
      await page.press('#q', 'Enter');
      await page.locator('#cut-off-note').waitFor();
      const kept = await page.locator('.card').count();
      expect(kept).toBeLessThan(20);
      expect(await headingOf(page)).toBe(`Results 1–${kept} for “a kangaroo”`);
      // The window read is the page plus one: 21 results, of which the cut-off kept `kept`.
      expect(await page.locator('#cut-off-note').textContent()).toBe(`At least ${21 - kept} more results scored under the cut-off (80% of the best score). Show them`);
      // Scores as the API gives them, to three decimals.
      expect(await page.locator('.card .score').first().textContent()).toMatch(/^-?\d\.\d{3}$/);
      await page.click('#cut-off-note .show-all');
      await page.locator('.card').nth(19).waitFor();
      expect(await headingOf(page)).toBe('Results 1–20 for “a kangaroo”');
      expect(paramsOf(page)).toMatchObject({ q: 'a kangaroo', min: '0' });
      expect(await page.locator('#cut-off-note').isHidden()).toBe(true);
    });

    it('keeps every card of a row the same size on photos of mixed shapes, and opens a result from anywhere on its card', async () => {
      // Thumbnails load lazily; below the fold on a phone they would not load at all.
      await page.locator('.card img').evaluateAll((imgs) => {
        for (const img of imgs) (img as unknown as { loading: string }).loading = 'eager';
      });
      await expect.poll(() => page.locator('.card img').evaluateAll((imgs) => imgs.filter((img) => (img as unknown as { naturalWidth: number }).naturalWidth === 0).length)).toBe(0);
      const boxes = await page.locator('.card').evaluateAll((cards) => cards.map((card) => {
        const box = card.getBoundingClientRect();
        const img = card.querySelector('img') as unknown as { naturalWidth: number; naturalHeight: number; getBoundingClientRect(): { width: number; height: number } };
        const shown = img.getBoundingClientRect();
        // Whole pixels: a grid's fractions of a pixel are not a different size.
        return { top: Math.round(box.top), width: Math.round(box.width), height: Math.round(box.height), ratio: img.naturalWidth / img.naturalHeight, shown: shown.width / shown.height, fit: (globalThis as unknown as { getComputedStyle(el: unknown): { objectFit: string } }).getComputedStyle(img).objectFit };
      }));
      // The photos really are of mixed shapes, from panoramas to tall portraits.
      expect(Math.max(...boxes.map((b) => b.ratio)) / Math.min(...boxes.map((b) => b.ratio))).toBeGreaterThan(5);
      const rows = new Map<number, typeof boxes>();
      for (const box of boxes) rows.set(box.top, [...(rows.get(box.top) ?? []), box]);
      expect(rows.size).toBeGreaterThan(1);
      for (const row of rows.values()) {
        expect(new Set(row.map((b) => b.height)).size, 'heights in a row').toBe(1);
        expect(new Set(row.map((b) => b.width)).size, 'widths in a row').toBe(1);
      }
      // Every row is as tall as the others, every image fills the same 4:3 frame, fitted.
      expect(new Set(boxes.map((b) => b.height)).size).toBe(1);
      for (const box of boxes) {
        expect(box.fit).toBe('cover');
        expect(box.shown).toBeCloseTo(4 / 3, 1);
      }
      await screenshot(page, shot('search'));

      // A click on the card's date, not its image, opens it; Escape closes and gives the focus back.
      const third = page.locator('.card').nth(2);
      const name = await third.locator('.name').textContent();
      // A real click at that point (the card's opener covers it, which is the point).
      await third.locator('.date').scrollIntoViewIfNeeded();
      const date = await third.locator('.date').boundingBox();
      await page.mouse.click((date?.x ?? 0) + 5, (date?.y ?? 0) + 5);
      await expect.poll(() => page.locator('dialog.viewer[open] #viewer-title').textContent()).toBe(name);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('dialog.viewer').getAttribute('open')).toBeNull();
      expect(await page.evaluate(`document.activeElement.getAttribute('aria-label')`)).toBe(`Open image 3, ${name}`);
      await pageIsSound('the results');
    });

    it('pages with the focus on the results heading, announces the count, and keeps the page in the URL', async () => {
      await page.click('.pager .next');
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS} for “a kangaroo”`);
      expect(await page.evaluate('document.activeElement.id')).toBe('results-heading');
      expect(await page.locator('#announcer').textContent()).toBe('10 results, page 2, the last.');
      expect(paramsOf(page)).toMatchObject({ q: 'a kangaroo', offset: '20', min: '0' });
      expect(paramsOf(page).qid).toMatch(/^[0-9a-f-]{36}$/);
      expect(await page.locator('.pager .next').isDisabled()).toBe(true);
      const pageTwo = page.url();

      await page.goBack();
      await expect.poll(() => headingOf(page)).toBe('Results 1–20 for “a kangaroo”');
      expect(paramsOf(page).offset).toBeUndefined();
      await page.goForward();
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS} for “a kangaroo”`);
      await page.reload();
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS} for “a kangaroo”`);
      // A shared link opens the same page in another browser.
      const other = await openPage(browser, size);
      await other.goto(pageTwo);
      await expect.poll(() => headingOf(other)).toBe(`Results 21–${PHOTOS} for “a kangaroo”`);
      expect(await other.locator('.card .name').allTextContents()).toEqual(await page.locator('.card .name').allTextContents());
      await other.close();
      await page.click('.pager .prev');
      await expect.poll(() => headingOf(page)).toBe('Results 1–20 for “a kangaroo”');
    });

    it('stores a vote under the name typed once, from buttons named for each result', async () => {
      const labels = await page.locator('.card .vote').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
      expect(new Set(labels).size).toBe(40);
      const firstName = await page.locator('.card .name').first().textContent();
      expect(labels[0]).toBe(`Good match: image 1, ${firstName}`);
      expect(labels[1]).toBe(`Bad match: image 1, ${firstName}`);
      // Icons are SVG: nothing depends on an emoji font.
      expect(await page.locator('.card .vote svg').count()).toBe(40);

      await page.click('.card .vote-up >> nth=0');
      await page.locator('[data-state="error"]', { hasText: 'Type your name first.' }).waitFor();
      await page.fill('#user-name', 'ana');
      await page.press('#user-name', 'Tab');
      const first = page.locator('.card').first();
      const imageId = await first.getAttribute('data-id');
      await first.locator('.vote-up').click();
      await expect.poll(() => first.locator('.vote-up').getAttribute('aria-pressed')).toBe('true');
      const stored = await h.findimage.labels.listLabels({ tenant: 'local', user: 'ana' });
      expect(stored.map((l) => [l.imageId, l.value])).toEqual([[imageId, 1]]);
      await first.locator('.vote-down').click();
      await expect.poll(async () => (await h.findimage.labels.listLabels({ tenant: 'local', user: 'ana' })).map((l) => l.value)).toEqual([-1]);
      for (const n of [1, 2]) {
        const card = page.locator('.card').nth(n);
        await card.locator('.vote-up').click();
        await expect.poll(() => card.locator('.vote-up').getAttribute('aria-pressed')).toBe('true');
      }
      await page.reload();
      expect(await page.inputValue('#user-name')).toBe('ana');
      await page.locator('.card').nth(19).waitFor();
      await expect.poll(() => page.locator('.card .vote-up[aria-pressed="true"]').count()).toBe(2);
      // The votes now steer this search (relevance feedback): the image voted down may have left
      // the first page, but wherever it shows, it shows its vote.
      const down = page.locator(`.card[data-id="${imageId}"] .vote-down`);
      if ((await down.count()) > 0) expect(await down.getAttribute('aria-pressed')).toBe('true');
      expect(await page.locator('.card .vote-down[aria-pressed="true"]').count()).toBe(await down.count());
    });

    it('shows a result large, steps with the arrow keys, votes, downloads, and keeps the focus inside until Escape', async () => {
      const fourth = page.locator('.card').nth(3);
      const [thirdName, fourthName] = [await page.locator('.card .name').nth(2).textContent(), await fourth.locator('.name').textContent()];
      await page.click('.card .thumb >> nth=2');
      const viewer = page.locator('dialog.viewer[open]');
      await viewer.locator('.more-like-this').waitFor();
      // The original, not the 512 px thumbnail.
      const natural = await viewer.locator('img').evaluate(async (img) => {
        await (img as unknown as { decode(): Promise<void> }).decode();
        return { width: (img as unknown as { naturalWidth: number }).naturalWidth, src: img.getAttribute('src') };
      });
      expect(natural.src).toMatch(/^\/api\/images\/[0-9a-f-]{36}\/large$/);
      expect(natural.width).toBe(names.get(thirdName as string)?.width);
      await screenshot(page, shot('viewer'), false);
      expect(await axeViolations(page)).toEqual([]);

      await page.keyboard.press('ArrowRight');
      await expect.poll(() => viewer.locator('#viewer-title').textContent()).toBe(fourthName);
      await page.keyboard.press('ArrowLeft');
      await expect.poll(() => viewer.locator('#viewer-title').textContent()).toBe(thirdName);
      // Tab goes round the viewer's controls and never behind it.
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        expect(await page.evaluate(`!!document.activeElement.closest('dialog.viewer')`)).toBe(true);
      }
      // The viewer shows the card's vote, and a vote in the viewer shows on the card too. (Votes
      // steer later runs of the same text, so which card was voted on earlier is read, not assumed.)
      const cardUp = page.locator('.card').nth(2).locator('.vote-up');
      const before = await cardUp.getAttribute('aria-pressed');
      expect(await viewer.locator('.vote-up').getAttribute('aria-pressed')).toBe(before);
      const after = before === 'true' ? 'false' : 'true';
      await viewer.locator('.vote-up').click();
      await expect.poll(() => cardUp.getAttribute('aria-pressed')).toBe(after);
      expect(await viewer.locator('.vote-up').getAttribute('aria-pressed')).toBe(after);
      await viewer.locator('.vote-up').click();
      await expect.poll(() => cardUp.getAttribute('aria-pressed')).toBe(before);
      const download = viewer.locator('a.download');
      expect(await download.getAttribute('download')).toBe(thirdName);
      const file = await page.request.get(`${base}${await download.getAttribute('href')}`);
      expect(file.status()).toBe(200);
      expect(file.headers()['content-disposition']).toContain(`filename="${thirdName}"`);

      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('dialog.viewer').getAttribute('open')).toBeNull();
      expect(await page.evaluate(`document.activeElement.getAttribute('aria-label')`)).toBe(`Open image 3, ${thirdName}`);
      // "/" comes back to the search box.
      await page.keyboard.press('/');
      expect(await page.evaluate('document.activeElement.id')).toBe('q');
    });

    it('says inside the viewer why a vote was not stored, and shows the thumbnail when the original is not here', async () => {
      // No name: the message must be in the dialog, since the page behind a modal is inert.
      await page.evaluate(`localStorage.removeItem('findimage.user')`);
      await page.click('.card .thumb >> nth=0');
      const viewer = page.locator('dialog.viewer[open]');
      await viewer.locator('.vote-up').click();
      await expect.poll(() => viewer.locator('.viewer-message').textContent()).toMatch(/^Type your name first\./);
      expect(await viewer.locator('.viewer-message').getAttribute('aria-live')).toBe('polite');
      expect(await page.evaluate(`!!document.activeElement.closest('dialog.viewer')`)).toBe(true);
      await page.keyboard.press('Escape');
      await page.evaluate(`localStorage.setItem('findimage.user', 'ana')`);

      // /large answers 404 on a replica of a fleet without the file, or when the file is gone.
      // A card not opened since the last reload, so no image of it is in the page's memory.
      await page.route('**/api/images/*/large', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not_found","message":"gone"}' }));
      try {
        await page.click('.card .thumb >> nth=10');
        await expect.poll(() => viewer.locator('img').getAttribute('src')).toMatch(/^\/api\/images\/[0-9a-f-]{36}\/thumbnail$/);
        expect(await viewer.locator('.viewer-message').textContent()).toMatch(/^The original is not available here\./);
        await expect.poll(() => viewer.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
        expect(await axeViolations(page)).toEqual([]);
      } finally {
        await page.unroute('**/api/images/*/large');
      }
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('dialog.viewer').getAttribute('open')).toBeNull();
    });

    it('turns a bad address into one the server answers, never a dead end', async () => {
      const visited = page.url();
      await page.goto(`${base}/?q=${encodeURIComponent('a photo')}&offset=99999&tpl=${encodeURIComponent('{}'.repeat(100))}`);
      // 30 photos: the clamped offset (9980) is past the last, so the page says so; no 400.
      await page.locator('[data-state="empty"]', { hasText: 'No more results.' }).waitFor();
      expect(paramsOf(page)).toMatchObject({ q: 'a photo', offset: '9980' });
      expect(paramsOf(page)).not.toHaveProperty('tpl');
      expect(await page.locator('[data-state="error"]').count()).toBe(0);
      await page.goto(`${base}/?like=not-an-id&offset=40`);
      await expect.poll(() => new URL(page.url()).search).toBe('');
      // Back to the search the visit was on, for the steps after this one.
      await page.goto(visited);
      await page.locator('.card').first().waitFor();
    });

    it('shows more like a result as a search of its own, which Back, paging and reload keep', async () => {
      const name = await page.locator('.card .name').nth(1).textContent();
      const id = await page.locator('.card').nth(1).getAttribute('data-id');
      await page.click('.card .thumb >> nth=1');
      await page.click('dialog.viewer[open] .more-like-this');
      await expect.poll(() => headingOf(page)).toBe(`Results 1–20 for images like ${name}`);
      expect(paramsOf(page)).toMatchObject({ like: id });
      await page.goBack();
      await expect.poll(() => headingOf(page)).toBe('Results 1–20 for “a kangaroo”');
      await page.goForward();
      await expect.poll(() => headingOf(page)).toBe(`Results 1–20 for images like ${name}`);
      await page.click('.pager .next');
      // The image itself is left out: 29 others.
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS - 1} for images like ${name}`);
      await page.reload();
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS - 1} for images like ${name}`);
    });

    it('searches by a dropped image and pages it from the saved search, also after a reload', async () => {
      await page.goto(`${base}/`);
      const base64 = (await jpegOf([10, 200, 10], 120, 90, 7)).toString('base64');
      await page.evaluate(`(() => {
        const bytes = Uint8Array.from(atob('${base64}'), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      })()`);
      await expect.poll(() => headingOf(page)).toBe('Results 1–20 for images like dropped.jpg');
      expect(Object.keys(paramsOf(page))).toEqual(['qid']);
      await page.click('.pager .next');
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS} for images like dropped.jpg`);
      await page.reload();
      await expect.poll(() => headingOf(page)).toBe(`Results 21–${PHOTOS} for images like dropped.jpg`);
      await page.goBack();
      await expect.poll(() => headingOf(page)).toBe('Results 1–20 for images like dropped.jpg');
    });

    it('runs a search with its own prompt template and cut-off, kept in its URL', async () => {
      await page.goto(`${base}/`);
      await page.click('.tuning summary');
      await page.fill('#min-score', '50');
      await page.selectOption('#template', '{}');
      await page.fill('#q', 'a penguin');
      await page.press('#q', 'Enter');
      await page.locator('.card').first().waitFor();
      expect(paramsOf(page)).toMatchObject({ q: 'a penguin', min: '0.5', tpl: '{}' });
      await page.reload();
      await page.locator('.card').first().waitFor();
      expect(await page.inputValue('#min-score')).toBe('50');
      expect(await page.inputValue('#template')).toBe('{}');
      await page.selectOption('#template', 'custom');
      await page.fill('#template-custom', 'a drawing of {}');
      await page.press('#q', 'Enter');
      await expect.poll(() => paramsOf(page).tpl).toBe('a drawing of {}');
      await pageIsSound('a search with its own settings');
    });

    it('shows a query syntax error under the box, at the part at fault', async () => {
      await page.fill('#q', 'a cat after:2026-02-30');
      await page.press('#q', 'Enter');
      await page.locator('#query-error').waitFor();
      expect(await page.locator('#query-error mark').textContent()).toBe('after:2026-02-30');
      expect(await page.locator('#query-error').textContent()).toMatch(/^after:2026-02-30 is not a date/);
      expect(await page.getAttribute('#q', 'aria-invalid')).toBe('true');
      expect(await page.locator('[data-state="error"]').count()).toBe(0);
      await pageIsSound('a query error');
      await page.fill('#q', 'a cat');
      await page.press('#q', 'Enter');
      await page.locator('.card').first().waitFor();
      expect(await page.locator('#query-error').isHidden()).toBe(true);
    });

    it('offers Retry when the server cannot be reached, and the search then runs', async () => {
      const cut = (route: import('playwright-core').Route) => route.abort('connectionrefused');
      await page.route('**/api/search?*', cut);
      await page.fill('#q', 'a dog');
      await page.press('#q', 'Enter');
      await page.locator('[data-state="error"] button.retry').waitFor();
      expect(await page.locator('[data-state="error"] .state-detail').textContent()).toMatch(/does not answer/);
      await pageIsSound('a lost server');
      await page.unroute('**/api/search?*', cut);
      await page.click('[data-state="error"] button.retry');
      await expect.poll(() => headingOf(page)).toMatch(/ for “a dog”$/);
    });

    it('uploads with whole names, says why a file is refused, and the drop zone is no empty Tab stop', async () => {
      await page.goto(`${base}/index`);
      await page.locator('#stats .total').waitFor();
      expect(await page.getAttribute('#drop-zone', 'tabindex')).toBeNull();
      const longName = 'holiday at the lake with the whole family.jpg';
      await page.setInputFiles('#file-input', [
        { name: HOSTILE_NAME, mimeType: 'image/jpeg', buffer: await jpegOf([240, 30, 30], 1600, 1200, 99) },
        { name: longName, mimeType: 'image/jpeg', buffer: await jpegOf([30, 30, 240], 800, 600, 98) },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image, just words') },
      ]);
      await expect.poll(() => page.locator('.upload[data-status="indexed"]').count()).toBe(2);
      await page.locator('.upload[data-status="refused"]').waitFor();
      expect(await page.locator('.upload[data-status="indexed"] .name').first().textContent()).toBe(HOSTILE_NAME);
      expect(await page.locator('.upload[data-status="refused"] .verdict').textContent()).toMatch(/^Refused: .*not an image/);
      // Every name is shown whole: none is cut by its box.
      const cutNames = await page.locator('.upload .name').evaluateAll((els) => els.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent));
      expect(cutNames).toEqual([]);
      await expect.poll(() => page.locator('#stats .total').textContent()).toBe(`${PHOTOS + 2} images indexed · 0 in the upload queue`);
      await screenshot(page, shot('index'));
      // Tab from the top of the page never stops on the drop zone itself.
      await page.locator('.brand').focus();
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement.id')).not.toBe('drop-zone');
      }
      await pageIsSound('the index page');

      await page.goto(`${base}/?q=${encodeURIComponent('a red photo')}&min=0`);
      await page.locator('.card').first().waitFor();
      if (!(await page.locator('.card .name').allTextContents()).includes(HOSTILE_NAME)) {
        await page.click('.pager .next');
        await page.locator('.card', { hasText: 'cat.jpg' }).waitFor();
      }
      await expect.poll(() => page.locator('.card .name', { hasText: 'cat.jpg' }).textContent()).toBe(HOSTILE_NAME);
      expect(await page.evaluate('window.pwned')).toBeUndefined();
    });

    it('draws the evaluation plots, keeps its table in its own box, and links to the voted search', async () => {
      await page.goto(`${base}/eval`);
      await page.locator('svg.chart').nth(2).waitFor();
      expect(await page.locator('svg.chart .chart-title').allTextContents()).toEqual(['Precision@K', 'Recall@K', 'nDCG@K']);
      const row = page.locator('table.queries tbody tr').first();
      expect(await row.locator('a').textContent()).toBe('a kangaroo');
      await screenshot(page, shot('eval'));
      await pageIsSound('the evaluation page');
      await row.locator('a').click();
      await page.locator('.card').nth(19).waitFor();
      await expect.poll(() => page.locator('.card .vote-up[aria-pressed="true"]').count()).toBe(2);
      // The link names the search; the page takes the settings it ran with.
      expect(paramsOf(page)).toMatchObject({ q: 'a kangaroo', min: '0' });
    });
  });
}

describe('the web page while findimage starts', () => {
  it('says it is starting, tries again after Retry-After by itself, and clears', async () => {
    const h = await startWebHarness({ pageDir, holdCore: true });
    const pages = await Promise.all(SIZES.map((size) => openPage(browser, size)));
    try {
      for (const page of pages) {
        // The page's timers run on a fake clock: the test moves it on, never waits the real
        // Retry-After.
        await page.clock.install();
        await page.goto(h.server.url);
        await page.locator('[data-state="not-ready"]').waitFor();
        expect(await page.locator('[data-state="not-ready"] .state-detail').textContent()).toMatch(/still loading its model.*Trying again in \d s\./);
      }
      h.server.core.ready(h.findimage);
      for (const page of pages) {
        // The page asks again on its own after Retry-After, with no reload: a second of its
        // clock at a time until it has.
        const cleared = page.locator('[data-state="empty"]', { hasText: 'Nothing is indexed yet.' });
        await expect.poll(async () => {
          await page.clock.runFor(1_000);
          return cleared.count();
        }).toBe(1);
        expect(await page.locator('[data-state="not-ready"]').count()).toBe(0);
      }
    } finally {
      await Promise.all(pages.map((page) => page.close()));
      await h.close();
    }
  }, 60_000);
});

describe('the web page off loopback', () => {
  it('asks for the token, then works with the cookie it sets', async () => {
    const token = 'browser-test-token-0123456789';
    const h = await startWebHarness({ pageDir, host: '0.0.0.0', token });
    try {
      for (const size of SIZES) {
        const page = await openPage(browser, size);
        const base = `http://127.0.0.1:${new URL(h.server.url).port}`;
        await page.goto(`${base}/eval`);
        expect(new URL(page.url()).pathname).toBe('/login');
        await page.fill('input[name="token"]', 'wrong-token');
        await page.click('button[type="submit"]');
        await page.locator('.error', { hasText: 'That token is wrong.' }).waitFor();
        if (!size.phone) await screenshot(page, 'login');
        expect(await layoutFaults(page)).toEqual([]);
        expect(await axeViolations(page)).toEqual([]);
        await page.fill('input[name="token"]', token);
        await page.click('button[type="submit"]');
        await page.locator('main[data-view="evaluation"] [data-state="empty"]').waitFor();
        expect(new URL(page.url()).pathname).toBe('/eval');
        expect(await layoutFaults(page)).toEqual([]);
        // Logging out clears the cookie: the page then asks for the token again.
        await page.click('#logout');
        await page.waitForURL((url) => url.pathname === '/login');
        await page.goto(`${base}/eval`);
        expect(new URL(page.url()).pathname).toBe('/login');
        await page.close();
      }
    } finally {
      await h.close();
    }
  }, 60_000);
});
