// The bot token scopes findimage's Slack app asks for, as slack-app-manifest.yaml lists them under
// oauth_config.scopes.bot (slack-app-manifest.test.ts keeps the two equal). `findimage doctor` compares
// a real token's scopes with these.

/** Every bot scope the manifest asks for; the manifest's comments say what each is for. */
export const SLACK_BOT_SCOPES: readonly string[] = [
  'commands',
  'chat:write',
  'files:read',
  'reactions:read',
  'reactions:write',
  'channels:history',
  'groups:history',
  'im:history',
  'mpim:history',
  'channels:read',
  'groups:read',
  'im:read',
  'mpim:read',
];
