// Turns what Slack's Web API client throws into FindimageErrors whose message tells a user or an
// admin what to do (invite the bot, reinstall the app, wait for the rate limit).
import type { Logger } from 'pino';
import { FindimageError, asFindimageError, isTransient, publicMessageOf } from '../../core/errors.js';
import { escapeMrkdwn } from './slack-text.js';

/** A Slack Web API call failed; `slackError` is Slack's error string ("not_in_channel"). */
export class SlackApiError extends FindimageError {
  /** Slack's error code, or the client's own ("slack_webapi_request_error") for transport failures. */
  readonly slackError: string;

  constructor(slackError: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('platform_api', message, options);
    this.slackError = slackError;
  }
}

/** Errors that mean the bot's token is no longer good: only an admin can fix them. */
const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'missing_scope']);

function slackErrorOf(error: unknown): { code: string; slackError: string | undefined } {
  if (typeof error !== 'object' || error === null) return { code: '', slackError: undefined };
  const code = 'code' in error ? String((error as { code: unknown }).code) : '';
  const data = 'data' in error ? (error as { data: unknown }).data : undefined;
  const slackError =
    typeof data === 'object' && data !== null && 'error' in data ? String((data as { error: unknown }).error) : undefined;
  return { code, slackError };
}

/** The user-facing explanation of a Slack error, given what the bot was doing ("posting results"). */
function messageFor(slackError: string, doing: string, error: unknown): string {
  if (slackError === 'not_in_channel') {
    return `I'm not a member of that channel (I was ${doing}). Invite me with /invite @findimage and try again.`;
  }
  if (slackError === 'channel_not_found') {
    return `I can't see that conversation (I was ${doing}). If it is private or a DM, invite me with /invite @findimage first.`;
  }
  if (slackError === 'ratelimited' || slackError === 'slack_webapi_rate_limited_error') {
    return `Slack is rate-limiting me while ${doing}. Please try again in a minute.`;
  }
  if (slackError === 'missing_scope') {
    return `Slack refused ${doing} because the app lacks a permission (missing_scope). An admin should update the app from slack-app-manifest.yaml and reinstall it.`;
  }
  if (AUTH_ERRORS.has(slackError)) {
    return `Slack refused my token while ${doing} (${slackError}). An admin must reinstall the app or update SLACK_BOT_TOKEN.`;
  }
  if (slackError === 'slack_webapi_request_error' || slackError === 'slack_webapi_http_error') {
    const reason = error instanceof Error ? error.message : String(error);
    return `I couldn't reach Slack while ${doing} (${reason}). Please try again shortly.`;
  }
  return `Slack refused ${doing} (${slackError}).`;
}

/** Wraps anything a WebClient call threw; FindimageErrors pass through unchanged. */
export function asSlackApiError(error: unknown, doing: string): FindimageError {
  if (error instanceof FindimageError) return error;
  const { code, slackError } = slackErrorOf(error);
  if (!code.startsWith('slack_')) return asFindimageError(error);
  const key = slackError ?? code;
  return new SlackApiError(key, messageFor(key, doing, error), { cause: error, details: { slackError: key, doing } });
}

/** The error Slack would have raised, for refusing early what Slack would refuse anyway. */
export function slackApiError(slackError: string, doing: string): SlackApiError {
  return new SlackApiError(slackError, messageFor(slackError, doing, undefined), { details: { slackError, doing } });
}

/** True when the error is Slack's `slackError` (after wrapping). */
export function isSlackError(error: unknown, slackError: string): boolean {
  const wrapped = asSlackApiError(error, '');
  return wrapped instanceof SlackApiError && wrapped.slackError === slackError;
}

/** True when the error means the bot's credentials are bad (worth an error-level log line). */
export function isAuthFailure(error: FindimageError): boolean {
  return error instanceof SlackApiError && AUTH_ERRORS.has(error.slackError);
}

/**
 * What to tell a user about a failure (mrkdwn, escaped), after logging it at the level it
 * deserves: internal errors in full at error level (the user gets no internals), bad
 * credentials at error level, the rest at info. An error with a public message (the store's:
 * Qdrant down, refused, deleted) gives the user only that; its full message, with internal
 * URLs and advice for whoever runs findimage, goes to the log (warn while it may pass, else error).
 */
export function explainToUser(thrown: unknown, doing: string, logger: Logger): string {
  const error = asSlackApiError(thrown, doing);
  if (error.code === 'internal') {
    logger.error({ err: thrown, doing }, 'a Slack request failed');
    return `Something went wrong on my side while ${doing}. An admin can find the details in findimage's log.`;
  }
  if (error.publicMessage !== undefined) {
    const line = { code: error.code, details: error.details, doing, reason: error.message };
    if (isTransient(error)) logger.warn(line, 'told the user a request failed for a while; the reason is for an admin');
    else logger.error(line, 'told the user a request failed; the reason is for an admin');
    return escapeMrkdwn(publicMessageOf(error));
  }
  if (isAuthFailure(error)) logger.error({ code: error.code, details: error.details }, error.message);
  else logger.info({ code: error.code, details: error.details, reason: error.message }, 'told the user why a request failed');
  return escapeMrkdwn(error.message);
}
