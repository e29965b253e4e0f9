// The application commands findimage registers (/findimage and the "Find similar images"
// message command), the invite URL with exactly the permissions the bot uses, and
// `findimage discord register`, which puts the commands in one guild (to try it) or globally.
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  InteractionContextType,
  PermissionFlagsBits,
  REST,
  Routes,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { PAGE_SIZE } from '../../core/conversations/search-sessions.js';

export const SLASH_COMMAND = 'findimage';
export const FIND_SIMILAR_COMMAND = 'Find similar images';
/** Discord's own limit on a string option, so that a long query reaches the bot (which shortens it). */
export const MAX_QUERY_OPTION_CHARS = 6_000;

/**
 * What the bot does in a channel, and nothing more: see channels and their history (indexing,
 * backfill), post a sent image and failure replies, show images by link (Embed Links), mark
 * indexed messages with a reaction, and answer its commands.
 */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseApplicationCommands;

const contexts = [InteractionContextType.Guild, InteractionContextType.BotDM];
const integrationTypes = [ApplicationIntegrationType.GuildInstall];

export const APPLICATION_COMMANDS: RESTPostAPIApplicationCommandsJSONBody[] = [
  {
    type: ApplicationCommandType.ChatInput,
    name: SLASH_COMMAND,
    description: 'Find images shared here by describing them (or: index #channel)',
    contexts,
    integration_types: integrationTypes,
    options: [
      { type: ApplicationCommandOptionType.String, name: 'query', description: 'What the image shows, e.g. "a red car at night -truck"', required: true, max_length: MAX_QUERY_OPTION_CHARS },
      { type: ApplicationCommandOptionType.Channel, name: 'channel', description: 'Only images shared in this channel', channel_types: [ChannelType.GuildText, ChannelType.PublicThread, ChannelType.PrivateThread] },
      { type: ApplicationCommandOptionType.User, name: 'user', description: 'Only images shared by this person' },
      { type: ApplicationCommandOptionType.String, name: 'after', description: 'Only images shared on or after this day (YYYY-MM-DD)', max_length: 10 },
      { type: ApplicationCommandOptionType.String, name: 'before', description: 'Only images shared before this day (YYYY-MM-DD)', max_length: 10 },
      { type: ApplicationCommandOptionType.Integer, name: 'count', description: `Results per page (1-${PAGE_SIZE})`, min_value: 1, max_value: PAGE_SIZE },
    ],
  },
  { type: ApplicationCommandType.Message, name: FIND_SIMILAR_COMMAND, contexts, integration_types: integrationTypes },
];

/** The link that adds the bot to a server with BOT_PERMISSIONS and its commands. */
export function inviteUrl(applicationId: string): string {
  const query = new URLSearchParams({ client_id: applicationId, scope: 'bot applications.commands', permissions: BOT_PERMISSIONS.toString() });
  return `https://discord.com/oauth2/authorize?${query.toString()}`;
}

export interface RegisterOptions {
  token: string;
  /** DISCORD_API_URL. */
  apiUrl?: string;
  /** Registers in this guild only (appears at once); globally otherwise. */
  guildId?: string;
}

export interface Registration {
  applicationId: string;
  /** "guild <id>" or "global". */
  scope: string;
  commands: string[];
  inviteUrl: string;
}

/** Registers the commands (replacing earlier ones in that scope) and returns the invite URL. */
export async function registerCommands(options: RegisterOptions): Promise<Registration> {
  const rest = new REST(options.apiUrl === undefined ? {} : { api: options.apiUrl }).setToken(options.token);
  const application = (await rest.get(Routes.currentApplication())) as { id: string };
  const route = options.guildId === undefined ? Routes.applicationCommands(application.id) : Routes.applicationGuildCommands(application.id, options.guildId);
  const registered = (await rest.put(route, { body: APPLICATION_COMMANDS })) as Array<{ name: string }>;
  return {
    applicationId: application.id,
    scope: options.guildId === undefined ? 'global' : `guild ${options.guildId}`,
    commands: registered.map((c) => c.name),
    inviteUrl: inviteUrl(application.id),
  };
}
