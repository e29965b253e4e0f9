// src/core stays platform-free: no chat SDK and nothing from src/bots may be imported there, so
// labels, query syntax and search work the same for every front end.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '..');
const FORBIDDEN = [/from '@slack\//, /from 'discord\.js'/, /from '@discordjs\//, /from '(\.\.\/)+bots\//, /import\('@slack\//];

async function sourcesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourcesUnder(path)));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

describe('src/core', () => {
  it('imports no chat platform SDK and nothing from src/bots', async () => {
    const offenders: string[] = [];
    for (const file of await sourcesUnder(CORE)) {
      if (file === import.meta.filename) continue;
      const text = await readFile(file, 'utf8');
      for (const pattern of FORBIDDEN) if (pattern.test(text)) offenders.push(`${relative(CORE, file)} matches ${pattern}`);
    }
    expect(offenders).toEqual([]);
  });

  it('would notice such an import', () => {
    expect(FORBIDDEN.some((p) => p.test("import { App } from '@slack/bolt';"))).toBe(true);
    expect(FORBIDDEN.some((p) => p.test("import { x } from '../../bots/slack/slack-bot.js';"))).toBe(true);
  });
});
