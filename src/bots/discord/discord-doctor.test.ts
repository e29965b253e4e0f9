// The bot's guild-wide permissions, as Discord computes them: @everyone's (the role whose id is
// the guild's) and its roles' together, everything for the owner or an Administrator.
import { PermissionFlagsBits, PermissionsBitField } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../../../test/fakes/discord/fake-discord.js';
import { discordChecks, GUILDS_AT_ONCE, guildPermissions } from './discord-doctor.js';

const BOT = '42';
const guild = (roles: Array<{ id: string; permissions: bigint }>, owner = '1') => ({
  id: 'g',
  owner_id: owner,
  roles: roles.map((r) => ({ id: r.id, permissions: String(r.permissions) })),
});

describe('guildPermissions', () => {
  it('adds the roles the member holds to @everyone, and no other role', () => {
    const roles = [
      { id: 'g', permissions: PermissionFlagsBits.ViewChannel },
      { id: 'bot-role', permissions: PermissionFlagsBits.EmbedLinks },
      { id: 'mods', permissions: PermissionFlagsBits.BanMembers },
    ];
    expect(guildPermissions(guild(roles), { roles: ['bot-role'] }, BOT)).toBe(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.EmbedLinks);
  });

  it('gives everything to an Administrator and to the owner', () => {
    const roles = [{ id: 'g', permissions: 0n }, { id: 'admin', permissions: PermissionFlagsBits.Administrator }];
    expect(guildPermissions(guild(roles), { roles: ['admin'] }, BOT)).toBe(PermissionsBitField.All);
    expect(guildPermissions(guild(roles, BOT), { roles: [] }, BOT)).toBe(PermissionsBitField.All);
  });
});

describe('the discord permissions check past its time limit', () => {
  let discord: FakeDiscord;
  beforeAll(async () => {
    discord = await FakeDiscord.start();
  });
  afterAll(async () => {
    await discord.close();
  });

  it('reads no further guild once its signal aborts mid-run', async () => {
    for (let i = 0; i < 12; i++) discord.guilds.set(`70000000000000010${i}`, { id: `70000000000000010${i}`, name: `guild ${i}`, channels: [] });
    const checks = discordChecks({ config: { token: discord.token, apiUrl: discord.apiUrl } as Parameters<typeof discordChecks>[0]['config'] });
    const byName = (name: string) => checks.find((c) => c.name === name) as (typeof checks)[number];
    // The token check reads /users/@me, which the permissions check shares.
    expect((await byName('discord token').run(new AbortController().signal)).status).toBe('ok');

    // Time runs out as the first guild is read: at most that first group of guilds was asked for.
    // Two guards stop the rest, either one enough: the signal on each guild's reads, and the loop's
    // check between groups; the test fails only when both are gone.
    const outOfTime = new AbortController();
    const guildRead = /^\/guilds\/\d+$/;
    discord.onRequest = (request) => {
      if (request.method === 'GET' && guildRead.test(request.path)) outOfTime.abort();
    };
    try {
      await expect(byName('discord permissions').run(outOfTime.signal)).rejects.toThrow();
    } finally {
      discord.onRequest = undefined;
    }
    expect(outOfTime.signal.aborted).toBe(true);
    expect(discord.requestsTo('GET', guildRead).length).toBeGreaterThan(0);
    expect(discord.requestsTo('GET', guildRead).length).toBeLessThanOrEqual(GUILDS_AT_ONCE);
  });
});
