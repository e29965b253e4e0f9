// The doctor's look at Slack, with the same Web API client the bot uses (Bolt's @slack/web-api,
// at SLACK_API_URL when set): the bot token (auth.test), the scopes Slack says it carries (the
// x-oauth-scopes header, as response_metadata.scopes) against the manifest's, and the transport:
// Socket Mode's app-level token (apps.connections.open) or HTTP mode's signing secret and port.
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { blockedBy, fail, ok, unreachable, warn, type CallFailure, type Check, type CheckResult } from '../../core/doctor/check.js';
import { DOCTOR_REQUEST_TIMEOUT_MS } from '../../core/doctor/doctor-report.js';
import { boltLoggerFor } from './bolt-logger.js';
import { slackTransport } from './slack-bot.js';
import { SLACK_BOT_SCOPES } from './slack-scopes.js';

export interface SlackDoctorOptions {
  /** config.slack. */
  config: NonNullable<Config['slack']>;
  /** Where the client logs (its warnings only). */
  logger: Logger;
}

/** What auth.test told, shared by the token and scope checks. */
type TokenAnswer =
  | { ok: true; team: string; user: string; scopes: string[] | undefined }
  | ({ ok: false } & CallFailure);

/**
 * Why a call failed: `refused` when Slack answered with an error code (the WebClient's platform
 * error: invalid_auth, not_allowed_token_type, ...), otherwise Slack was not reached at all.
 */
function slackFailure(error: unknown): CallFailure {
  const data = (error as { data?: { error?: unknown } }).data;
  if (typeof data?.error === 'string') return { refused: true, error: data.error };
  return { refused: false, error: error instanceof Error ? error.message : String(error) };
}

/** The line for a Slack that did not answer. */
function slackUnreachable(apiUrl: string | undefined, error: string): CheckResult {
  return unreachable({ name: "Slack's Web API", owner: 'Slack', url: apiUrl ?? 'https://slack.com/api/', setting: 'SLACK_API_URL' }, error);
}

/** The Slack checks: token, scopes, transport. */
export function slackChecks(options: SlackDoctorOptions): Check[] {
  const { config } = options;
  const client = (token: string) =>
    new webApi.WebClient(token, {
      ...(config.apiUrl === undefined ? {} : { slackApiUrl: config.apiUrl }),
      retryConfig: { retries: 0 },
      timeout: DOCTOR_REQUEST_TIMEOUT_MS,
      // Every failure becomes a line: the client's own "http request failed" warnings would repeat it.
      logger: boltLoggerFor(options.logger.child({}, { level: 'error' })),
    });
  let answer: Promise<TokenAnswer> | undefined;
  const authTest = (): Promise<TokenAnswer> => {
    answer ??= client(config.botToken)
      .auth.test()
      .then(
        (r): TokenAnswer => ({ ok: true, team: `${r.team ?? '?'} (${r.team_id ?? '?'})`, user: `${r.user ?? '?'} (${r.user_id ?? '?'})`, scopes: r.response_metadata?.scopes }),
        (error: unknown): TokenAnswer => ({ ok: false, ...slackFailure(error) }),
      );
    return answer;
  };
  return [
    { name: 'slack token', run: async () => checkToken(await authTest(), config.apiUrl) },
    { name: 'slack scopes', run: async () => checkScopes(await authTest()) },
    { name: 'slack transport', run: () => checkTransport(config, (token) => client(token)) },
  ];
}

function checkToken(answer: TokenAnswer, apiUrl: string | undefined): CheckResult {
  if (!answer.ok && !answer.refused) return slackUnreachable(apiUrl, answer.error);
  if (!answer.ok) {
    return fail(
      `Slack refused SLACK_BOT_TOKEN at auth.test (${answer.error})`,
      'Copy the Bot User OAuth Token (xoxb-...) from the app\'s OAuth & Permissions page into SLACK_BOT_TOKEN; reinstall the app if it was revoked.',
    );
  }
  return ok(`auth.test: bot ${answer.user} in workspace ${answer.team}`);
}

function checkScopes(answer: TokenAnswer): CheckResult {
  if (!answer.ok) return blockedBy('slack token', `cannot read the token's scopes (${answer.error})`);
  if (answer.scopes === undefined) {
    return warn('Slack did not say which scopes the token has (no x-oauth-scopes header)', 'Compare the app\'s OAuth & Permissions page with slack-app-manifest.yaml by hand.');
  }
  const granted = new Set(answer.scopes);
  const missing = SLACK_BOT_SCOPES.filter((scope) => !granted.has(scope));
  if (missing.length > 0) {
    return fail(
      `the bot token lacks the scope${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`,
      'Add them under the app\'s OAuth & Permissions (or paste slack-app-manifest.yaml), reinstall the app to the workspace, and put the new token in SLACK_BOT_TOKEN.',
    );
  }
  return ok(`the token has all ${SLACK_BOT_SCOPES.length} scopes of slack-app-manifest.yaml`);
}

async function checkTransport(config: NonNullable<Config['slack']>, client: (token: string) => webApi.WebClient): Promise<CheckResult> {
  // The bot's own choice.
  const transport = slackTransport(config);
  if (transport.mode === 'http') {
    const unused = config.appToken === undefined ? '' : '; SLACK_APP_TOKEN is set but unused (HTTP mode wins)';
    return ok(`HTTP mode: Slack must reach port ${transport.port} (PORT), requests are checked with SLACK_SIGNING_SECRET${unused}`);
  }
  if (transport.mode === 'none') {
    const half = config.signingSecret !== undefined ? ' (SLACK_SIGNING_SECRET is set, but PORT is not)' : config.port !== undefined ? ' (PORT is set, but SLACK_SIGNING_SECRET is not)' : '';
    return fail(`neither Socket Mode nor HTTP mode is configured${half}`, 'Set SLACK_APP_TOKEN (xapp-..., scope connections:write) for Socket Mode, or SLACK_SIGNING_SECRET and PORT for HTTP mode (docs/slack.md).');
  }
  try {
    await client(transport.appToken).apps.connections.open();
  } catch (error) {
    const failure = slackFailure(error);
    if (!failure.refused) return slackUnreachable(config.apiUrl, failure.error);
    return fail(
      `Socket Mode: Slack refused SLACK_APP_TOKEN at apps.connections.open (${failure.error})`,
      'Create an app-level token with the connections:write scope (Basic Information → App-Level Tokens) and turn Socket Mode on, then set SLACK_APP_TOKEN to it.',
    );
  }
  return ok('Socket Mode: SLACK_APP_TOKEN opens a connection (apps.connections.open)');
}
