// What the browser tests share: Chromium (Debian's, driven by playwright-core), the page built
// into a folder of the run's own, the two screen sizes, axe-core's verdict on a page, and the
// layout checks every page must pass on a phone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's package; .ci/run installs it when missing. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Flags known to work here: no sandbox as root, and nothing that reaches for the network. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where UPDATE_SCREENSHOTS=1 writes the screenshots docs/web.md shows. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? resolve('docs/images') : undefined;
/** axe-core from npm, injected into the page under test. */
const AXE = resolve('node_modules/axe-core/axe.min.js');

/** The screens every page is tried on: a laptop and a phone. */
export const SIZES = [
  { name: 'laptop', width: 1366, height: 900, phone: false },
  { name: 'phone', width: 390, height: 844, phone: true },
] as const;
export type Size = (typeof SIZES)[number];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A page at `size`. The CSP of the app forbids scripts it did not serve; bypassCSP lets the test
 * add axe-core (the page's own CSP is asserted by the API tests).
 */
export async function openPage(browser: Browser, size: Size): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: size.width, height: size.height }, bypassCSP: true, isMobile: size.phone, hasTouch: size.phone });
  // A step that fails says which, well inside the test's own deadline.
  page.setDefaultTimeout(15_000);
  return page;
}

/** Builds the page from web/ into `out`, so a test never serves a stale build. */
export function buildPage(out: string): void {
  const result = spawnSync(process.execPath, ['scripts/build-web.mjs', out], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`page build failed: ${result.stdout}${result.stderr}`);
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `web-${name}.png`), fullPage });
}

/** axe-core's serious and critical violations on the page as it is, in light and in dark mode. */
export async function axeViolations(page: Page): Promise<string[]> {
  if ((await page.evaluate('typeof window.axe')) === 'undefined') await page.addScriptTag({ path: AXE });
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })))`)) as Array<{ id: string; impact: string; nodes: string[] }>;
    for (const v of violations) if (v.impact === 'serious' || v.impact === 'critical') found.push(`${colorScheme}: ${v.id} (${v.impact}) at ${v.nodes.join(', ')}`);
  }
  await page.emulateMedia({ colorScheme: null });
  return found;
}

/** What a phone must never see: a page wider than the screen, a header of 80 px or more, one <h1> too many or too few. */
export async function layoutFaults(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const faults = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width) faults.push('page is ' + document.documentElement.scrollWidth + ' px wide on a ' + width + ' px screen');
    const header = document.querySelector('header.top');
    if (header && header.getBoundingClientRect().height >= 80) faults.push('header is ' + header.getBoundingClientRect().height + ' px tall');
    // Every page's link shows whole in the header, none hidden past its edge. With a login, Log out
    // takes the room of about one link on a phone: the navigation may then scroll sideways, but
    // the current page's link is in view.
    const nav = document.querySelector('header.top nav');
    if (nav && !document.querySelector('.logout') && nav.scrollWidth > nav.clientWidth) faults.push('the navigation needs ' + nav.scrollWidth + ' px and has ' + nav.clientWidth);
    const current = nav && nav.querySelector('[aria-current="page"]');
    if (current) {
      const box = current.getBoundingClientRect(), room = nav.getBoundingClientRect();
      if (box.left < room.left - 1 || box.right > room.right + 1) faults.push('the link to the current page is scrolled out of view');
    }
    const h1 = document.querySelectorAll('h1').length;
    if (h1 !== 1) faults.push(h1 + ' <h1> on the page');
    return faults;
  })()`)) as string[];
}

/** Visible controls smaller than 44 px in height (or width, for icon buttons): too small for a finger. */
export async function smallTouchTargets(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const small = [];
    for (const el of document.querySelectorAll('button, a[href], input:not([type=hidden]), select, summary')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || el.closest('[hidden]')) continue;
      // A link inside a sentence is exempt (WCAG 2.5.8 inline exception).
      if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
      const icon = el.matches('.vote, .icon-button');
      if (box.height < 44 || (icon && box.width < 44)) small.push((el.getAttribute('aria-label') || el.textContent || el.tagName).trim().slice(0, 40) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
    }
    return small;
  })()`)) as string[];
}
