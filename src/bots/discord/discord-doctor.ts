// The doctor's look at Discord, through discord.js's REST client at DISCORD_API_URL when set (as
// the bot): the token (GET /users/@me), the application's Message Content intent (GET
// /applications/@me, its flags), and in each guild the bot is in, its guild-wide permissions
// (@everyone's and its roles', from GET /guilds/{id} and its member) against BOT_PERMISSIONS.
import {
  ApplicationFlags,
  DiscordAPIError,
  PermissionFlagsBits,
  PermissionsBitField,
  REST,
  Routes,
  type APIApplication,
  type APIGuild,
  type APIGuildMember,
  type APIUser,
  type RESTAPIPartialCurrentUserGuild,
} from 'discord.js';
import type { Config } from '../../config.js';
import { blockedBy, fail, ok, unreachable, type CallFailure, type Check, type CheckResult } from '../../core/doctor/check.js';
import { DOCTOR_REQUEST_TIMEOUT_MS } from '../../core/doctor/doctor-report.js';
import { BOT_PERMISSIONS } from './application-commands.js';

/**
 * Guilds looked at, at most: two requests each (the guild's roles, the bot's member), so 100
 * guilds are 200 requests, within Discord's global limit of 50 a second over a few seconds.
 * A bot in more guilds gets the first 100 checked, and the line says so.
 */
const MAX_GUILDS_CHECKED = 100;

/** Guilds read at once: fast enough for 100 guilds in a few seconds, gentle on rate limits. */
export const GUILDS_AT_ONCE = 5;

/** Room for MAX_GUILDS_CHECKED guilds at GUILDS_AT_ONCE, with rate-limit waits. */
const PERMISSIONS_CHECK_TIMEOUT_MS = 60_000;

/** Either intent flag lets the bot read attachments: the first for verified bots, the second under 100 guilds. */
const MESSAGE_CONTENT_FLAGS = ApplicationFlags.GatewayMessageContent | ApplicationFlags.GatewayMessageContentLimited;

export interface DiscordDoctorOptions {
  /** config.discord. */
  config: NonNullable<Config['discord']>;
}

/** "EmbedLinks" → "Embed Links". */
function permissionName(flag: string): string {
  return flag.replace(/([a-z])([A-Z])/g, '$1 $2');
}

/** Why a REST call failed: `refused` when Discord answered (401, 403, ...), else it was not reached. */
function restError(error: unknown): CallFailure {
  if (error instanceof DiscordAPIError) return { refused: true, error: `${error.status} ${error.message}` };
  return { refused: false, error: error instanceof Error ? error.message : String(error) };
}

/** The permission bits a member holds guild-wide: @everyone's and its roles', all for the owner or an Administrator. */
export function guildPermissions(
  guild: { id: string; owner_id: string; roles: ReadonlyArray<{ id: string; permissions: string }> },
  member: { roles: readonly string[] },
  userId: string,
): bigint {
  if (guild.owner_id === userId) return PermissionsBitField.All;
  const roleIds = new Set([guild.id, ...member.roles]);
  let bits = 0n;
  for (const role of guild.roles) if (roleIds.has(role.id)) bits |= BigInt(role.permissions);
  return (bits & PermissionFlagsBits.Administrator) !== 0n ? PermissionsBitField.All : bits;
}

/** The Discord checks: token, intents, guild permissions. */
export function discordChecks(options: DiscordDoctorOptions): Check[] {
  const { config } = options;
  const rest = new REST({ timeout: DOCTOR_REQUEST_TIMEOUT_MS, retries: 0, ...(config.apiUrl === undefined ? {} : { api: config.apiUrl }) }).setToken(config.token);
  let me: Promise<APIUser | CallFailure> | undefined;
  const whoAmI = () => {
    me ??= (rest.get(Routes.user()) as Promise<APIUser>).catch(restError);
    return me;
  };
  const tokenLine = (failure: CallFailure) =>
    failure.refused
      ? fail(`Discord refused DISCORD_TOKEN (${failure.error})`, 'Copy the bot token from the Developer Portal (Bot → Reset Token) into DISCORD_TOKEN.')
      : unreachable({ name: "Discord's API", owner: 'Discord', url: config.apiUrl ?? 'https://discord.com/api', setting: 'DISCORD_API_URL' }, failure.error);
  return [
    {
      name: 'discord token',
      run: async () => {
        const user = await whoAmI();
        if ('error' in user) return tokenLine(user);
        return ok(`GET /users/@me: bot ${user.username} (${user.id})`);
      },
    },
    {
      name: 'discord intents',
      run: async (signal) => {
        const user = await whoAmI();
        if ('error' in user) return blockedBy('discord token', `cannot read the application (${user.error})`);
        return checkIntents((await rest.get(Routes.currentApplication(), { signal })) as APIApplication);
      },
    },
    {
      name: 'discord permissions',
      timeoutMs: PERMISSIONS_CHECK_TIMEOUT_MS,
      run: async (signal) => {
        const user = await whoAmI();
        if ('error' in user) return blockedBy('discord token', `cannot read the bot's guilds (${user.error})`);
        return checkPermissions(rest, user.id, signal);
      },
    },
  ];
}

function checkIntents(application: APIApplication): CheckResult {
  const flags = BigInt(application.flags ?? 0);
  if ((flags & BigInt(MESSAGE_CONTENT_FLAGS)) === 0n) {
    return fail(
      `the Message Content intent is off for application ${application.name} (${application.id}): the bot cannot see attachments and indexes nothing`,
      'Turn on "Message Content Intent" under Bot → Privileged Gateway Intents in the Developer Portal (a verified bot in 100 or more servers must be approved for it).',
    );
  }
  return ok(`the Message Content intent is on for application ${application.name}`);
}

/** Reads each guild's roles and the bot's member; stops (rejects) once `signal` aborts: the line already says the check ran out of time. */
async function checkPermissions(rest: REST, botId: string, signal: AbortSignal): Promise<CheckResult> {
  const guilds = (await rest.get(Routes.userGuilds(), { query: new URLSearchParams({ limit: String(MAX_GUILDS_CHECKED) }), signal })) as RESTAPIPartialCurrentUserGuild[];
  if (guilds.length === 0) {
    return fail('the bot is in no guild', 'Invite it with the URL "findimage discord register" prints (it asks for exactly the permissions the bot needs).');
  }
  const lacking: string[] = [];
  for (let at = 0; at < guilds.length; at += GUILDS_AT_ONCE) {
    signal.throwIfAborted();
    const verdicts = await Promise.all(
      guilds.slice(at, at + GUILDS_AT_ONCE).map(async (partial) => {
        const guild = (await rest.get(Routes.guild(partial.id), { signal })) as APIGuild;
        const member = (await rest.get(Routes.guildMember(partial.id, botId), { signal })) as APIGuildMember;
        const missing = BOT_PERMISSIONS & ~guildPermissions(guild, member, botId);
        return missing === 0n ? undefined : `${guild.name} (${guild.id}) lacks ${new PermissionsBitField(missing).toArray().map(permissionName).join(', ')}`;
      }),
    );
    for (const verdict of verdicts) if (verdict !== undefined) lacking.push(verdict);
  }
  const needed = new PermissionsBitField(BOT_PERMISSIONS).toArray().map(permissionName).join(', ');
  if (lacking.length > 0) {
    return fail(
      `in ${lacking.length} of ${guilds.length} guild${guilds.length === 1 ? '' : 's'} the bot cannot do its work: ${lacking.join('; ')}`,
      `Give the bot's role ${needed} in Server Settings → Roles, or invite it again with the URL "findimage discord register" prints.`,
    );
  }
  const more = guilds.length === MAX_GUILDS_CHECKED ? ` (the first ${MAX_GUILDS_CHECKED}; the bot may be in more)` : '';
  return ok(`the bot has ${needed} in all ${guilds.length} guild${guilds.length === 1 ? '' : 's'}${more} (guild-wide; channel overrides can still deny)`);
}
