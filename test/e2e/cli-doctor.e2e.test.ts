// `findimage doctor` through the real binary: a deployment with an embedded store, the Slack bot
// (the fake Slack API) and a public web bind, two of its parts set up wrong. Each fault is named
// on its line in stdout, the summary goes to stderr, the exit code is 6, and --json prints the
// same checks for a script.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_BOT_SCOPES } from '../../src/bots/slack/slack-scopes.js';
import { EXIT_CHECKS_FAILED } from '../../src/cli/exit-codes.js';
import { FakeSlackApi } from '../fakes/slack/fake-slack-api.js';
import { cliEnv, runCli } from './cli-process.js';

const BOT_TOKEN = 'xoxb-e2e-doctor';
const APP_TOKEN = 'xapp-e2e-doctor';
const SIGNING_SECRET = 'SECRET-e2e-signing-5d1e';

describe('findimage doctor (the built binary)', () => {
  let home: string;
  let slack: FakeSlackApi;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-doctor-e2e-'));
    slack = await FakeSlackApi.start([BOT_TOKEN, APP_TOKEN]);
    slack.tokenScopes.set(BOT_TOKEN, SLACK_BOT_SCOPES.filter((scope) => scope !== 'files:read'));
  });
  afterAll(async () => {
    await slack.close();
    await rm(home, { recursive: true, force: true });
  });

  const env = () =>
    cliEnv(home, { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.apiUrl, SLACK_SIGNING_SECRET: SIGNING_SECRET, FINDIMAGE_WEB_HOST: '0.0.0.0', FINDIMAGE_WEB_PORT: '8765' });

  it('names each fault on its line, sums up on stderr and exits 6; --json prints the same checks', async () => {
    const result = await runCli(['doctor'], env());

    const lines = result.stdout.trim().split('\n');
    expect(lines.find((l) => l.includes('slack scopes:'))).toMatch(/^fail {2}slack scopes: the bot token lacks the scope files:read → /);
    expect(lines.find((l) => l.includes('web access:'))).toMatch(/^fail {2}web access: listens on 0\.0\.0\.0:8765/);
    expect(lines.find((l) => l.includes('slack token:'))).toMatch(/^ok {4}slack token: auth\.test: bot findimage \(UBOT\)/);
    expect(lines.find((l) => l.includes('sqlite files:'))).toMatch(/^ok/);
    expect(result.stderr.trim()).toBe(`findimage: 2 of ${lines.length} checks failed: slack scopes, web access. Each one's line above says what to do.`);
    expect(result.code).toBe(EXIT_CHECKS_FAILED);

    const json = await runCli(['doctor', '--json'], env());
    const report = JSON.parse(json.stdout) as { status: string; checks: Array<{ name: string; status: string }> };
    expect(report.status).toBe('fail');
    expect(report.checks.map((c) => `${c.status} ${c.name}`)).toEqual(lines.map((l) => `${l.slice(0, 4).trim()} ${l.slice(6, l.indexOf(':'))}`));
    expect(json.code).toBe(EXIT_CHECKS_FAILED);

    // Neither the lines, the JSON nor the log on stderr show a secret.
    const printed = [result.stdout, result.stderr, json.stdout, json.stderr].join('\n');
    for (const secret of [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET]) expect(printed).not.toContain(secret);
  });

  it('ends the process once the report is out, even when abandoned work still holds it open', async () => {
    const holdOpen = fileURLToPath(new URL('./fixtures/hold-process-open.mjs', import.meta.url));
    const result = await runCli(['doctor'], { ...env(), NODE_OPTIONS: `--import=${holdOpen}` });

    expect(result.stdout).toMatch(/^fail {2}slack scopes: /m);
    expect(result.code).toBe(EXIT_CHECKS_FAILED);
  }, 30_000);
});
