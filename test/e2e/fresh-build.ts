// Vitest global setup of the end-to-end tests: they run the real binary, bin/findimage.js, which
// loads the bundle in dist/ (scripts/build-cli.mjs), so the bundle is rebuilt first whenever a
// source (or the build script) is newer than it. `npm test` builds before vitest (and this then
// finds nothing to do); `npx vitest run <file>` relies on this to never test a stale dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build-cli.mjs');
/** The bundle's command-line entry: written by every build. */
const BUNDLE_ENTRY = join(ROOT, 'dist', 'findimage.js');

/** How much of the build's output to show when it fails. */
const SHOWN_OUTPUT_CHARS = 4_000;

/** Whether `relative` (a path under src/) can end up in the bundle: any TypeScript source but a test. */
function isBundled(relative: string): boolean {
  return relative.endsWith('.ts') && !relative.endsWith('.d.ts') && !relative.endsWith('.test.ts');
}

/** The sources newer than the bundle (all of them when there is none), and the build script if it is. */
export function staleSources(): string[] {
  const built = existsSync(BUNDLE_ENTRY) ? statSync(BUNDLE_ENTRY).mtimeMs : Number.NEGATIVE_INFINITY;
  const stale = (readdirSync(SRC, { recursive: true }) as string[]).filter(
    (relative) => isBundled(relative) && statSync(join(SRC, relative)).mtimeMs > built,
  );
  if (statSync(BUILD_SCRIPT).mtimeMs > built) stale.push('../scripts/build-cli.mjs');
  return stale;
}

export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  const started = performance.now();
  const build = spawnSync(process.execPath, [BUILD_SCRIPT], { cwd: ROOT, encoding: 'utf8' });
  if (build.error !== undefined) throw build.error;
  // esbuild does not type-check (npm test does, before this): only a failed bundle stops the run.
  if (build.status !== 0 || !existsSync(BUNDLE_ENTRY)) {
    throw new Error(`Bundling dist/ for the end-to-end tests failed:\n${`${build.stdout}${build.stderr}`.slice(0, SHOWN_OUTPUT_CHARS)}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`Rebuilt dist/ for the end-to-end tests in ${seconds} s (${stale.length} sources changed)\n`);
}
