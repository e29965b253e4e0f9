// One person's visit with the keyboard alone, on a laptop and on a phone: no click and no
// element focused by the test. They search, page, open a result, vote in the viewer, and take the
// page's address to a new tab, where the same search comes back. Every control is reached with
// Tab (tabTo fails when it takes more than MAX_TABS presses) and worked with Enter or Space.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, launchChromium, openPage, SIZES } from './browser-kit.js';
import { mixedPhotos } from './mixed-photos.js';
import { multipartOf, startWebHarness, type WebHarness } from './web-harness.js';

/** Photos for a full first page and a second one. */
const PHOTOS = 24;
/**
 * More Tab presses than this means a control is not reachable: the pager lies past a page of 20
 * cards of three stops each (open, good match, bad match), after the search form.
 */
const MAX_TABS = 80;

let pageDir: string;
let browser: Browser;
beforeAll(async () => {
  pageDir = await mkdtemp(join(tmpdir(), 'findimage-keyboard-'));
  buildPage(pageDir);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (pageDir !== undefined) await rm(pageDir, { recursive: true, force: true });
});

/** Presses Tab until the focused element matches `selector`; returns how many presses it took. */
async function tabTo(page: Page, selector: string): Promise<number> {
  for (let presses = 1; presses <= MAX_TABS; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`!!document.activeElement && document.activeElement.matches(${JSON.stringify(selector)})`)) return presses;
  }
  throw new Error(`${selector} was not reached in ${MAX_TABS} presses of Tab`);
}

/** The focused element's id and accessible name. */
const focused = (page: Page) =>
  page.evaluate(`(() => {
    const element = document.activeElement;
    return { id: element ? element.id : '', label: (element && element.getAttribute('aria-label')) || '' };
  })()`) as Promise<{ id: string; label: string }>;

for (const size of SIZES) {
  describe(`the page with the keyboard alone on a ${size.name}`, () => {
    let h: WebHarness;
    let base: string;

    beforeAll(async () => {
      h = await startWebHarness({ pageDir, env: { FINDIMAGE_MIN_RELATIVE_SCORE: '0' } });
      base = h.server.url.replace(/\/$/, '');
      // In two requests, as the other browser test does: one request may carry only so many bytes.
      const photos = await mixedPhotos(PHOTOS);
      for (const batch of [photos.slice(0, PHOTOS / 2), photos.slice(PHOTOS / 2)]) {
        const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf(batch) });
        expect(response.status).toBe(200);
      }
    }, 120_000);
    afterAll(async () => {
      await h?.close();
    });

    it('searches, pages, opens a result, votes on it and shares the search, without a pointer', async () => {
      const page = await openPage(browser, size);
      await page.goto(`${base}/`);

      // The voter's name first: it is in the header, the first stops of the page.
      await tabTo(page, '#user-name');
      await page.keyboard.type('kim');
      await tabTo(page, '#q');
      await page.keyboard.type('a photo');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#results-heading').textContent()).toBe('Results 1–20 for “a photo”');

      // Next page: reached with Tab, and the focus lands on the results heading after it.
      await tabTo(page, '.pager .next');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#results-heading').textContent()).toBe('Results 21–24 for “a photo”');
      expect((await focused(page)).id).toBe('results-heading');
      expect(new URL(page.url()).searchParams.get('offset')).toBe('20');

      // The first result of this page opens in the viewer, and Good match is one Tab stop in it.
      await tabTo(page, '.card .thumb');
      const opened = (await focused(page)).label;
      expect(opened).toMatch(/^Open image 21, /);
      await page.keyboard.press('Enter');
      const viewer = page.locator('dialog.viewer[open]');
      await viewer.waitFor();
      await tabTo(page, 'dialog.viewer .vote-up');
      await page.keyboard.press('Space');
      await expect.poll(() => viewer.locator('.vote-up').getAttribute('aria-pressed')).toBe('true');
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('dialog.viewer').getAttribute('open')).toBeNull();
      expect((await focused(page)).label).toBe(opened);
      expect(await page.locator('.card').first().locator('.vote-up').getAttribute('aria-pressed')).toBe('true');
      // From a result, "/" goes back to the search box.
      await page.keyboard.press('/');
      expect(await focused(page)).toEqual({ id: 'q', label: 'Describe the image' });

      // The address is the search: a new tab given it shows the same page of results.
      const shared = page.url();
      await page.close();
      const other = await openPage(browser, size);
      await other.goto(shared);
      await expect.poll(() => other.locator('#results-heading').textContent()).toBe('Results 21–24 for “a photo”');
      // Votes steer later runs of the same text, so the order may differ; the page of results is the same.
      expect(await other.locator('.card').count()).toBe(PHOTOS - 20);
      await other.close();
    });
  });
}
