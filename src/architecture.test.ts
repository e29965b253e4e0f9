// The layers of src, kept one way: cli -> serve -> web and bots -> core. Every source file of a
// layer, its tests included, is read and its imports (static, type-only, re-exports and dynamic
// `import()`) are checked against what the layer must not know. core is the platform-free domain:
// no front end, no composition root (findimage.ts, config.ts), no web framework, model runtime or
// chat SDK, so search, labels and scope behave the same for every front end.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = import.meta.dirname;

interface LayerRule {
  /** The folder under src whose files, tests included, are checked. */
  layer: string;
  /** What it must not import: `folder/` or `file.ts` under src, a package, or `@scope/*` for a whole scope. */
  forbidden: readonly string[];
  /** Why, for the reader of a failure. */
  because: string;
}

const CHAT_SDKS = ['@slack/*', 'discord.js', '@discordjs/*'];

const LAYER_RULES: readonly LayerRule[] = [
  {
    layer: 'core',
    forbidden: ['web/', 'cli/', 'serve/', 'gpu-worker/', 'bots/', 'findimage.ts', 'config.ts', 'fastify', '@fastify/*', 'onnxruntime-node', ...CHAT_SDKS],
    because: 'core is the domain every front end builds on: it is given its settings and adapters, and knows none of them',
  },
  {
    layer: 'web',
    forbidden: ['cli/', 'serve/', 'bots/'],
    because: 'the web app is one front end beside the bots; src/serve composes it with them, and the CLI starts serve',
  },
  {
    layer: 'bots',
    forbidden: ['cli/', 'serve/', 'web/'],
    because: 'a bot only translates its platform\'s events into core calls; src/serve composes the bots, and the CLI starts serve',
  },
  {
    layer: 'serve',
    forbidden: ['cli/'],
    because: 'serve runs the web app and bots for any caller; the CLI is one caller, and depends on serve, not the reverse',
  },
];

/** Every .ts file below `dir`. */
async function sourcesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourcesUnder(path)));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** Whether `specifier`, imported by the file at `file`, names what `entry` forbids. */
function isForbidden(file: string, specifier: string, entry: string): boolean {
  if (specifier.startsWith('.')) {
    if (!entry.endsWith('/') && !entry.endsWith('.ts')) return false;
    // Sources import each other by their emitted .js names.
    const target = relative(SRC, resolve(dirname(file), specifier)).split('\\').join('/').replace(/\.js$/, '.ts');
    return entry.endsWith('/') ? target.startsWith(entry) : target === entry;
  }
  if (entry.endsWith('/*')) return specifier.startsWith(entry.slice(0, -1));
  return specifier === entry || specifier.startsWith(`${entry}/`);
}

/** The imports in `text` (the source of `file`) that `rule` forbids, one line each. */
function forbiddenImports(file: string, text: string, rule: LayerRule): string[] {
  // TypeScript's own pre-processor: it skips comments and strings and sees import() expressions.
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  return specifiers.flatMap((specifier) =>
    rule.forbidden.filter((entry) => isForbidden(file, specifier, entry)).map((entry) => `${relative(SRC, file)} imports '${specifier}' (${entry})`),
  );
}

describe('the layers of src', () => {
  for (const rule of LAYER_RULES) {
    it(`src/${rule.layer} imports none of ${rule.forbidden.join(', ')}`, async () => {
      const files = await sourcesUnder(join(SRC, rule.layer));
      // A renamed folder must not leave the rule checking nothing.
      expect(files.length).toBeGreaterThan(0);
      const offenders: string[] = [];
      for (const file of files) offenders.push(...forbiddenImports(file, await readFile(file, 'utf8'), rule));
      expect(offenders, `${rule.because}. Move what is needed into the layer below, or pass it in.`).toEqual([]);
    });
  }

  it('notices every form of a forbidden import, and only forbidden ones', () => {
    const core = LAYER_RULES.find((r) => r.layer === 'core') as LayerRule;
    const file = join(SRC, 'core', 'search', 'example.ts');
    const text = [
      "// an import named in a comment: from '../../cli/main.js'",
      "import { App } from '@slack/bolt';",
      "import type { Config } from '../../config.js';",
      "export { startWebServer } from '../../web/web-server.js';",
      "const { createPool } = await import('../../gpu-worker/embedding-pool.js');",
      "type Composed = import('../../findimage.js').Findimage;",
      "import fastify from 'fastify';",
      "import multipart from '@fastify/multipart';",
      "import * as ort from 'onnxruntime-node';",
      "import { Client } from 'discord.js';",
      // Allowed: core within core, and packages that merely share a prefix.
      "import { FindimageError } from '../errors.js';",
      "import { configure } from '../configuration.js';",
      "import fastifyLike from 'fastify-like';",
    ].join('\n');
    expect(forbiddenImports(file, text, core).map((line) => line.replace(/^.* imports /, ''))).toEqual([
      "'@slack/bolt' (@slack/*)",
      "'../../config.js' (config.ts)",
      "'../../web/web-server.js' (web/)",
      "'../../gpu-worker/embedding-pool.js' (gpu-worker/)",
      "'../../findimage.js' (findimage.ts)",
      "'fastify' (fastify)",
      "'@fastify/multipart' (@fastify/*)",
      "'onnxruntime-node' (onnxruntime-node)",
      "'discord.js' (discord.js)",
    ]);
  });
});
