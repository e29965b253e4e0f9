// `findimage discord register` through the real CLI entry point against the fake Discord: the
// commands land in the guild (or globally), and the invite URL asks for exactly the
// permissions the bot uses.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionsBitField } from 'discord.js';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Terminal } from '../../src/cli/terminal.js';
import { FakeDiscord } from '../fakes/discord/fake-discord.js';

let fake: FakeDiscord;
let dir: string;
beforeEach(async () => {
  fake = await FakeDiscord.start();
  dir = await mkdtemp(join(tmpdir(), 'findimage-discord-register-'));
});
afterEach(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function recordingTerminal(): Terminal & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const progress = { tick: () => undefined, update: () => undefined, stop: () => undefined };
  return { lines, errors, out: (t) => lines.push(t), err: (t) => errors.push(t), progress: () => progress };
}

const env = () => ({ DISCORD_TOKEN: fake.token, DISCORD_API_URL: fake.apiUrl, FINDIMAGE_DATA: dir });

test('register --guild puts /findimage and "Find similar images" in that guild and prints an invite URL with exactly the needed permissions', async () => {
  const terminal = recordingTerminal();
  expect(await main(['discord', 'register', '--guild', '100000000000000001'], { env: env(), terminal })).toBe(0);

  const commands = fake.commands.get('100000000000000001') as Array<{ name: string; type: number; options?: Array<{ name: string }> }>;
  expect(commands.map((c) => [c.name, c.type])).toEqual([
    ['findimage', 1],
    ['Find similar images', 3],
  ]);
  expect(commands[0]?.options?.map((o) => o.name)).toEqual(['query', 'channel', 'user', 'after', 'before', 'count']);
  expect(fake.commands.has('global')).toBe(false);

  const url = new URL(terminal.lines.find((l) => l.includes('oauth2/authorize'))?.trim() ?? '');
  expect(url.searchParams.get('client_id')).toBe(fake.applicationId);
  expect(url.searchParams.get('scope')).toBe('bot applications.commands');
  const permissions = new PermissionsBitField(BigInt(url.searchParams.get('permissions') ?? '0')).toArray().sort();
  expect(permissions).toEqual(['AddReactions', 'EmbedLinks', 'ReadMessageHistory', 'SendMessages', 'UseApplicationCommands', 'ViewChannel']);
});

test('register without --guild registers globally', async () => {
  const terminal = recordingTerminal();
  expect(await main(['discord', 'register'], { env: env(), terminal })).toBe(0);
  expect((fake.commands.get('global') ?? []).length).toBe(2);
  expect(terminal.lines[0]).toContain('(global)');
});

test('register without DISCORD_TOKEN says what to set', async () => {
  const terminal = recordingTerminal();
  expect(await main(['discord', 'register'], { env: { FINDIMAGE_DATA: dir }, terminal })).not.toBe(0);
  expect(terminal.errors.join('\n')).toContain('Set DISCORD_TOKEN');
});

test('backfill without DISCORD_TOKEN says what to set', async () => {
  const terminal = recordingTerminal();
  expect(await main(['discord', 'backfill', '200000000000000001'], { env: { FINDIMAGE_DATA: dir }, terminal })).not.toBe(0);
  expect(terminal.errors.join('\n')).toContain('Set DISCORD_TOKEN to backfill');
});
