// The app manifest in the repo must match what the bot listens for, or a pasted app would
// silently miss events or lack a scope.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHORTCUT_FIND_SIMILAR } from './result-blocks.js';
import { SLASH_COMMAND } from './search-command-events.js';
import { SLACK_BOT_SCOPES } from './slack-scopes.js';
import { FACT_CHANGING_EVENTS } from './visibility-events.js';

const MANIFEST = join(import.meta.dirname, '..', '..', '..', 'slack-app-manifest.yaml');

/** The items of the YAML list under `key:` (this manifest's lists are plain "- item" lines). */
function listUnder(text: string, key: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `${key}:`);
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (!trimmed.startsWith('- ')) break;
    items.push(trimmed.slice(2).trim());
  }
  return items;
}

describe('slack-app-manifest.yaml', () => {
  it('subscribes to exactly the events the bot handles', async () => {
    const text = await readFile(MANIFEST, 'utf8');
    expect(listUnder(text, 'bot_events').sort()).toEqual(
      [
        'channel_deleted',
        'file_deleted',
        'message.channels',
        'message.groups',
        'message.im',
        'message.mpim',
        'reaction_added',
        'reaction_removed',
        ...FACT_CHANGING_EVENTS,
      ].sort(),
    );
  });

  it('asks for exactly the scopes those events and calls need', async () => {
    const text = await readFile(MANIFEST, 'utf8');
    expect(listUnder(text, 'bot').sort()).toEqual([...SLACK_BOT_SCOPES].sort());
  });

  it('subscribes to the events that say a channel changed, by their literal names', async () => {
    // Spelled out, so that a typo in FACT_CHANGING_EVENTS cannot pass by being in both lists.
    expect([...FACT_CHANGING_EVENTS].sort()).toEqual(['channel_rename', 'channel_shared', 'channel_unshared', 'group_rename']);
    // Conversions to private or public come as messages in the channel: message.groups and
    // message.channels must stay subscribed for them.
    const text = await readFile(MANIFEST, 'utf8');
    expect(listUnder(text, 'bot_events')).toEqual(expect.arrayContaining(['message.channels', 'message.groups']));
  });

  it('registers the command and shortcut ids the listeners use, with escaping on', async () => {
    const text = await readFile(MANIFEST, 'utf8');
    expect(text).toContain(`- command: ${SLASH_COMMAND}\n`);
    expect(text).toContain(`callback_id: ${SHORTCUT_FIND_SIMILAR}\n`);
    expect(text).toMatch(/should_escape: true/);
    expect(text).toMatch(/socket_mode_enabled: true/);
  });
});
