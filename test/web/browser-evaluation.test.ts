// "Evaluate models" and the labels split in a real browser (Debian's Chromium through
// playwright-core) on the tiny model, at a laptop's 1366x900 and a phone's 390x844, in light and
// dark: an evaluation started from the form, followed and cancelled; one run to its report with
// charts and intervals, opened again from the past runs and from its link; the labels view split
// set in the page and kept in the URL. axe-core finds no serious or critical violation on any of
// them, and no page is wider than the screen. With UPDATE_SCREENSHOTS=1 the screenshots shown in
// docs/web.md are written to docs/images/.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, buildPage, launchChromium, layoutFaults, screenshot, SIZES, type Size } from './browser-kit.js';
import { jpegOf, multipartOf, startWebHarness, type WebHarness } from './web-harness.js';

const COLOURS = fileURLToPath(new URL('../fixtures/datasets/colours', import.meta.url));
const SCHEMES = ['light', 'dark'] as const;
/** How long a condition in the page is waited for (vitest's expect.poll gives up after 1 s by default). */
const POLL = { timeout: 20_000 };

describe('evaluating models and splitting labels in Chromium', { shuffle: false }, () => {
  let pageDir: string;
  let datasets: string;
  let h: WebHarness;
  let base: string;
  let browser: Browser;
  /** The finished run every size and scheme opens. */
  let runId: string;
  let letSecondModelOpen = () => {};
  const secondModel = new Promise<void>((resolve) => (letSecondModelOpen = resolve));

  const open = async (size: Size, scheme: (typeof SCHEMES)[number]): Promise<Page> => {
    // The page's CSP forbids inline scripts: axe-core is added with the CSP bypassed.
    const page = await browser.newPage({ viewport: { width: size.width, height: size.height }, bypassCSP: true, colorScheme: scheme });
    page.setDefaultTimeout(20_000);
    return page;
  };

  beforeAll(async () => {
    pageDir = await mkdtemp(join(tmpdir(), 'findimage-page-'));
    buildPage(pageDir);
    datasets = await mkdtemp(join(tmpdir(), 'findimage-datasets-'));
    await cp(COLOURS, join(datasets, 'colours'), { recursive: true });
    // An evaluation of tiny-test then tiny-test-q8 waits before opening the second model until
    // the test lets it: the first test sees it running at a known step, every time.
    h = await startWebHarness({ pageDir, env: { FINDIMAGE_DATASETS_DIR: datasets }, beforeEvaluationModel: (id) => (id === 'tiny-test-q8' ? secondModel : Promise.resolve()) });
    base = h.server.url.replace(/\/$/, '');
    // Labelled searches for the labels view: five searches, each with a vote.
    const files = await Promise.all(Array.from({ length: 6 }, async (_, i) => ({ name: `p${i}.jpg`, bytes: await jpegOf([40 * i, 120, 200 - 30 * i], 64, 48, i) })));
    const { files: stored } = (await (await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf(files) })).json()) as { files: Array<{ id: string }> };
    for (const [i, q] of ['a red photo', 'a blue photo', 'a green photo', 'a dark photo', 'a bright photo'].entries()) {
      const { queryId } = (await (await fetch(`${base}/api/search?q=${encodeURIComponent(q)}&k=6`)).json()) as { queryId: string };
      const vote = await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId, imageId: stored[i]?.id, user: 'ana', value: 1 }) });
      expect(vote.status).toBe(200);
    }
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    // A run held before its second model would otherwise keep the server from closing.
    letSecondModelOpen();
    await browser?.close();
    await h?.close();
    for (const dir of [pageDir, datasets]) if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('starts an evaluation from the form, shows its progress, and cancels it', async () => {
    const page = await open(SIZES[0], 'light');
    await page.goto(`${base}/models`);
    await page.locator('#dataset option', { hasText: 'colours (6 images)' }).waitFor({ state: 'attached' });
    expect(await page.isChecked('input[name="model"][value="tiny-test"]')).toBe(true);
    await page.check('input[name="model"][value="tiny-test-q8"]');
    await page.click('#start-evaluation');
    // The run is in the URL and its progress is shown while it runs: here, held before its second
    // model, after the 12 distinct captions of the first were asked with the second template set.
    await page.waitForURL((url) => url.pathname === '/models' && /^[0-9a-f-]{36}$/.test(url.searchParams.get('run') ?? ''));
    await expect.poll(() => page.locator('#evaluation-progress .progress-label').textContent(), POLL).toBe('Step 3 of 6: Querying tiny-test, no template, 12 of 12');
    expect(Number(await page.locator('#evaluation-progress progress').getAttribute('value'))).toBeCloseTo(0.5, 5);
    expect(await page.locator('#evaluation-history tr[data-state="running"] button.delete').isDisabled()).toBe(true);
    await screenshot(page, 'models-progress');
    // A second start while it runs is refused politely.
    await page.click('#start-evaluation');
    await page.locator('#evaluation-status [data-state="error"]', { hasText: 'Another evaluation is running.' }).waitFor();
    await page.click('#evaluation-progress .cancel');
    letSecondModelOpen();
    await page.locator('#evaluation-history tr[data-state="cancelled"]').waitFor();
    expect(await page.locator('#evaluation-progress').textContent()).toBe('');
    await page.locator('#evaluation-report [data-state="empty"]', { hasText: 'has no report (cancelled)' }).waitFor();
    await page.close();
  });

  it('runs an evaluation to its report: metrics with intervals per model and template, and its plots', async () => {
    const page = await open(SIZES[0], 'light');
    await page.goto(`${base}/models`);
    await page.locator('#dataset option', { hasText: 'colours (6 images)' }).waitFor({ state: 'attached' });
    await page.fill('#own-templates', 'a picture of {} | {}, a swatch');
    await page.fill('#ks', '1, 2, 5');
    await page.selectOption('#split', '0.3');
    await page.click('#start-evaluation');
    await page.locator('#evaluation-report table.metrics').first().waitFor();
    runId = new URL(page.url()).searchParams.get('run') as string;
    expect(await page.locator('#report-heading').textContent()).toMatch(/^Report: colours, /);
    const columns = await page.locator('#evaluation-report table.metrics').first().locator('thead th').allTextContents();
    expect(columns).toEqual(['Metric', 'tiny-test, "a photo of {}"', 'tiny-test, no template', 'tiny-test, "a picture of {}" | "{}, a swatch"']);
    const rows = await page.locator('#evaluation-report table.metrics').first().locator('tbody th').allTextContents();
    expect(rows).toEqual(['text→image R@1', 'text→image R@2', 'text→image R@5', 'text→image P@1', 'text→image P@2', 'text→image P@5', 'text→image nDCG@10', 'text→image MRR', 'text→image median rank', 'image→text R@1', 'image→text R@2', 'image→text R@5']);
    expect(await page.locator('#evaluation-report table.metrics').first().locator('tbody td').first().textContent()).toMatch(/^\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]$/);
    // Recall against K, a line per run with its intervals, and a score histogram per run.
    expect(await page.locator('#evaluation-report svg.chart:not(.histogram) path.series').count()).toBe(3);
    expect(await page.locator('#evaluation-report svg.chart:not(.histogram) line.whisker').count()).toBe(9);
    expect(await page.locator('#evaluation-report svg.histogram').count()).toBe(3);
    expect(await page.locator('#feedback-heading').textContent()).toBe('Held-out captions, without and with label feedback');
    expect(await page.locator('#evaluation-history tr[data-state="done"]').count()).toBe(1);
  });

  for (const size of SIZES) {
    for (const scheme of SCHEMES) {
      it(`shows a kept report on a ${size.name} in ${scheme} mode, accessible and no wider than the screen`, async () => {
        const page = await open(size, scheme);
        await page.goto(`${base}/models?run=${runId}`);
        await page.locator('#evaluation-report svg.histogram').nth(2).waitFor();
        await page.locator('#evaluation-history tr[data-state="done"]').waitFor();
        expect(await layoutFaults(page)).toEqual([]);
        expect(await axeViolations(page)).toEqual([]);
        if (scheme === 'light') await screenshot(page, size.name === 'laptop' ? 'models' : 'models-phone');
        await page.close();
      });

      it(`sets the labels split in the page on a ${size.name} in ${scheme} mode, and keeps it in the URL`, async () => {
        const page = await open(size, scheme);
        await page.goto(`${base}/eval`);
        await expect.poll(() => page.locator('#split-summary').textContent(), POLL).toBe('Graded: 5 labelled searches.');
        await page.selectOption('#split', '0.5');
        await page.fill('#split-seed', '12');
        await page.click('.split-form button[type="submit"]');
        await page.waitForURL((url) => url.search === '?split=0.5&seed=12');
        await expect.poll(() => page.locator('#split-summary').textContent(), POLL).toMatch(/^Graded: (\d) of 5 labelled searches held out \(each with a 50% chance, seed 12\), feedback learned from the other \d\.$/);
        const heldOut = Number(/Graded: (\d)/.exec((await page.locator('#split-summary').textContent()) ?? '')?.[1]);
        expect(await page.locator('table.queries tbody tr').count()).toBe(heldOut);
        await page.locator('svg.chart').nth(2).waitFor();
        expect(await layoutFaults(page)).toEqual([]);
        expect(await axeViolations(page)).toEqual([]);
        if (scheme === 'light') await screenshot(page, size.name === 'laptop' ? 'eval-split' : 'eval-split-phone');
        // A reload and Back restore the split from the URL.
        await page.reload();
        await expect.poll(() => page.inputValue('#split'), POLL).toBe('0.5');
        await expect.poll(() => page.locator('#split-summary').textContent(), POLL).toContain('held out (each with a 50% chance, seed 12)');
        await page.goBack();
        await expect.poll(() => page.locator('#split-summary').textContent(), POLL).toBe('Graded: 5 labelled searches.');
        expect(await page.inputValue('#split')).toBe('');
        await page.close();
      });
    }
  }

  it('opens a past run from the list, and deletes it', async () => {
    const page = await open(SIZES[1], 'light');
    await page.goto(`${base}/models`);
    const row = page.locator(`#evaluation-history tr[data-id="${runId}"]`);
    await row.locator('a').click();
    await page.locator('#evaluation-report svg.histogram').first().waitFor();
    expect(new URL(page.url()).searchParams.get('run')).toBe(runId);
    await row.locator('button.delete').click();
    await row.waitFor({ state: 'detached' });
    expect(await page.locator('#evaluation-report').textContent()).toBe('');
    expect((await fetch(`${base}/api/evaluations/${runId}`)).status).toBe(404);
    await page.close();
  });
});
