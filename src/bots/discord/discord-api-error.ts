// Turns what discord.js throws into FindimageErrors whose message tells a user or an admin what
// to do (give the bot a permission, run the search again), and escapes text for Discord.
import { DiscordAPIError, RESTJSONErrorCodes, escapeMarkdown } from 'discord.js';
import type { Logger } from 'pino';
import { FindimageError, asFindimageError, publicMessageOf } from '../../core/errors.js';

/** A Discord API call failed; `discordCode` is Discord's JSON error code (50001 Missing Access). */
export class DiscordApiError extends FindimageError {
  /** Discord's JSON error code, or 0 when the answer had none. */
  readonly discordCode: number;

  constructor(discordCode: number, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('platform_api', message, options);
    this.discordCode = discordCode;
  }
}

function messageFor(code: number, status: number, doing: string): string {
  if (code === RESTJSONErrorCodes.MissingAccess || code === RESTJSONErrorCodes.MissingPermissions) {
    return `Discord refused ${doing} because I lack a permission in this channel. An admin should let me View Channel, Read Message History, Send Messages and Embed Links here.`;
  }
  if (code === RESTJSONErrorCodes.UnknownMessage) return `That message no longer exists (I was ${doing}).`;
  if (code === RESTJSONErrorCodes.UnknownChannel) return `I can't see that channel (I was ${doing}).`;
  if (code === RESTJSONErrorCodes.UnknownInteraction) return `Discord says that command expired before I answered (I was ${doing}). Please run it again.`;
  if (status === 401) return `Discord refused my token while ${doing}. An admin must update DISCORD_TOKEN.`;
  return `Discord refused ${doing} (HTTP ${status}${code === 0 ? '' : `, code ${code}`}).`;
}

/** Wraps anything discord.js threw; FindimageErrors pass through unchanged. */
export function asDiscordApiError(error: unknown, doing: string): FindimageError {
  if (error instanceof FindimageError) return error;
  if (!(error instanceof DiscordAPIError)) return asFindimageError(error);
  const code = typeof error.code === 'number' ? error.code : 0;
  return new DiscordApiError(code, messageFor(code, error.status, doing), { cause: error, details: { discordCode: code, status: error.status, doing } });
}

/** True when `error` is Discord's JSON error `code`. */
export function isDiscordError(error: unknown, code: number): boolean {
  return error instanceof DiscordAPIError && error.code === code;
}

/**
 * What to tell a user about a failure, after logging it at the level it deserves: internal
 * errors in full at error level (the user gets no internals), the rest at info.
 */
export function explainToUser(thrown: unknown, doing: string, logger: Logger): string {
  const error = asDiscordApiError(thrown, doing);
  if (error.code === 'internal') {
    logger.error({ err: thrown, doing }, 'a Discord request failed');
    return `Something went wrong on my side while ${doing}. An admin can find the details in findimage's log.`;
  }
  const shown = publicMessageOf(error);
  // The full message (URLs, what an operator should do) goes to the log; chat gets the public one.
  if (shown !== error.message) logger.warn({ code: error.code, details: error.details, reason: error.message }, 'told the user a short reason; the full one is here');
  else logger.info({ code: error.code, details: error.details, reason: error.message }, 'told the user why a request failed');
  return plainText(shown, 1_000);
}

/**
 * Text from people (queries, file names) made inert for Discord markdown: formatting escaped,
 * and @ and < broken with a zero-width space so that nothing reads as a mention (pings are also
 * refused by allowedMentions on every message). Cut to `max` characters.
 */
export function plainText(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return escapeMarkdown(cut).replace(/@/g, '@\u200b').replace(/</g, '<\u200b');
}
