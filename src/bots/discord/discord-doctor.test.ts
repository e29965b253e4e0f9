// The bot's guild-wide permissions, as Discord computes them: @everyone's (the role whose id is
// the guild's) and its roles' together, everything for the owner or an Administrator.
import { PermissionFlagsBits, PermissionsBitField } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { guildPermissions } from './discord-doctor.js';

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
