// Bundles the command line with esbuild into dist/, so that a one-shot command loads a few files
// instead of some 550 modules (issue 18: Node spent most of a cold `findimage --help` resolving
// and compiling them). Run by `npm run build`; `node scripts/build-cli.mjs [outdir]`.
// - ESM with code splitting: what a command imports dynamically (the web server, the chat bots,
//   the fleet, sharp's preprocessing) lands in chunks of its own and loads only when it runs.
// - Entry points that are loaded by path stay separate outputs in one flat folder:
//   embedding-worker.js, which the pool starts as a worker thread by its URL beside the code that
//   starts it (src/gpu-worker/worker-entry.ts), early-worker.js, which bin/findimage.js loads to
//   start that thread before the bundle when a search will need it, and model-registry.js, which the cold-search
//   bench's preload extends (bench/cold-child-preload.mjs); both share their chunks with the CLI.
// - Packages stay external (imported from node_modules at run time) unless listed in BUNDLED:
//   native addons and packages that load files by path cannot be bundled, and keeping the
//   packages a cold search must not load external lets test/e2e/cold-start.e2e.test.ts see them.
// - Linked source maps without the sources: bin/findimage.js turns source maps on, so stack
//   traces name the src/ files and lines.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));

/**
 * Pure-JavaScript packages on every command's start-up path, bundled: zod alone is 225 ES
 * modules. Measured in docs/benchmarks.md ("Issue 18, part 3: cold search").
 */
const BUNDLED = new Set(['zod', 'commander', 'env-paths', 'is-safe-filename', 'cli-progress']);

/** The outputs loaded by path, each named for what it is. */
const ENTRY_POINTS = [
  { in: 'src/cli/bin-entry.ts', out: 'findimage' },
  { in: 'src/gpu-worker/embedding-worker.ts', out: 'embedding-worker' },
  { in: 'src/gpu-worker/early-worker.ts', out: 'early-worker' },
  { in: 'src/core/models/model-registry.ts', out: 'model-registry' },
];

/** A bare specifier's package name: "@scope/name" or "name". */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Marks every package outside BUNDLED external; relative imports and builtins are esbuild's. */
const externalPackages = {
  name: 'external-packages',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || BUNDLED.has(packageName(args.path))) return undefined;
      return { path: args.path, external: true };
    });
  },
};

// A previous build's chunks (or tsc's tree from before the bundle) would linger. The web page in
// dist/web/page is scripts/build-web.mjs's and stays: the end-to-end tests rebuild only this.
for (const name of existsSync(out) ? readdirSync(out) : []) {
  if (name !== 'web') rmSync(join(out, name), { recursive: true, force: true });
}
for (const name of existsSync(join(out, 'web')) ? readdirSync(join(out, 'web')) : []) {
  if (name !== 'page') rmSync(join(out, 'web', name), { recursive: true, force: true });
}

const result = await build({
  absWorkingDir: root,
  entryPoints: ENTRY_POINTS,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  plugins: [externalPackages],
  // Bundled CommonJS packages (commander) require Node's builtins; ESM has no `require` of its own.
  banner: { js: "import { createRequire as __findimageCreateRequire } from 'node:module';\nconst require = __findimageCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
// Which inputs and packages each output holds and imports: read by the cold-start test.
writeFileSync(join(out, 'bundle-meta.json'), JSON.stringify(result.metafile));
