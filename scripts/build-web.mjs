// Builds the web app's page: compiles web/src with TypeScript (no bundler, no CDN: the browser
// loads the ES modules as they are) and copies web/static beside it. Run by `npm run build`;
// tests pass an output folder of their own.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'web', 'page'));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'web', 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(out, { recursive: true });
cpSync(join(root, 'web', 'static'), out, { recursive: true });
