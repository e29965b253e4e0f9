// Vitest global setup of the end-to-end tests: they run the real binary, bin/findimage.js, which
// loads the compiled dist/, so dist/ is rebuilt first whenever a source is newer than its output.
// `npm test` builds before vitest (and this then finds nothing to do); `npx vitest run <file>`
// relies on this to never test a stale dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/** How much of tsc's output to show when the build has errors. */
const SHOWN_OUTPUT_CHARS = 4_000;

/** Whether tsconfig.build.json compiles `relative` (a path under src/) into dist/. */
function isBuilt(relative: string): boolean {
  // Mirrors tsconfig.build.json's include and exclude.
  return (
    relative.endsWith('.ts') &&
    !relative.endsWith('.d.ts') &&
    !relative.endsWith('.test.ts') &&
    !relative.endsWith('.contract.ts') &&
    !relative.split(/[\\/]/).includes('testing')
  );
}

/** The compiled sources whose dist/ output is missing or older than they are. */
export function staleSources(): string[] {
  const stale: string[] = [];
  for (const relative of readdirSync(SRC, { recursive: true }) as string[]) {
    if (!isBuilt(relative)) continue;
    const output = join(DIST, relative.replace(/\.ts$/, '.js'));
    if (!existsSync(output) || statSync(output).mtimeMs < statSync(join(SRC, relative)).mtimeMs) {
      stale.push(relative);
    }
  }
  return stale;
}

export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  const started = performance.now();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.error !== undefined) throw build.error;
  // tsc emits even when it reports type errors, and vitest does not type-check either (npm test
  // does, before this); so only an output tsc could not write at all stops the run.
  const output = `${build.stdout}${build.stderr}`.slice(0, SHOWN_OUTPUT_CHARS);
  const missing = stale.filter((relative) => !existsSync(join(DIST, relative.replace(/\.ts$/, '.js'))));
  if (missing.length > 0) {
    throw new Error(`Building dist/ for the end-to-end tests left ${missing.join(', ')} unbuilt:\n${output}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const note = build.status === 0 ? '' : ', with type errors (npm test reports them):\n' + output;
  process.stderr.write(`Rebuilt dist/ for the end-to-end tests in ${seconds} s (${stale.length} sources changed)${note}\n`);
}
