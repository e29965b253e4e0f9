// The scopes the doctor checks a token against are the manifest's, so that a scope added to the
// manifest is checked on every deployment too.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLACK_BOT_SCOPES } from './slack-scopes.js';

const MANIFEST = join(import.meta.dirname, '..', '..', '..', 'slack-app-manifest.yaml');

describe('SLACK_BOT_SCOPES', () => {
  it('are exactly the bot scopes of slack-app-manifest.yaml', async () => {
    const lines = (await readFile(MANIFEST, 'utf8')).split('\n');
    const start = lines.findIndex((line) => line.trim() === 'bot:');
    const scopes: string[] = [];
    for (const line of lines.slice(start + 1)) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      if (!trimmed.startsWith('- ')) break;
      scopes.push(trimmed.slice(2).trim());
    }
    expect(start).toBeGreaterThan(0);
    expect([...SLACK_BOT_SCOPES].sort()).toEqual(scopes.sort());
  });
});
