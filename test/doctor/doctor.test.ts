// `findimage doctor` against a whole deployment of fakes and real servers: the real Slack Web API
// client against the fake Slack API, discord.js's REST client against the fake Discord, the
// Qdrant client against the fake Qdrant, a real redis-server, and real files. A healthy
// deployment passes with exit 0; each fault seeded once is named on its own line, with what to
// do, and the command exits 6.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionFlagsBits } from 'discord.js';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BOT_PERMISSIONS } from '../../src/bots/discord/application-commands.js';
import { SLACK_BOT_SCOPES } from '../../src/bots/slack/slack-scopes.js';
import { EXIT_CHECKS_FAILED, EXIT_OK } from '../../src/cli/exit-codes.js';
import { runDoctor } from '../../src/cli/commands/doctor-checks.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { ChecksFailedError } from '../../src/core/doctor/doctor-report.js';
import type { Terminal } from '../../src/cli/terminal.js';
import { openQdrantStore } from '../../src/core/store/qdrant/qdrant-store.js';
import { useTestRedis } from '../../src/core/testing/test-redis.js';
import { createSilentLogger } from '../../src/logger.js';
import { EVERYONE_PERMISSION_BITS, FakeDiscord } from '../fakes/discord/fake-discord.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { FakeSlackApi } from '../fakes/slack/fake-slack-api.js';

const BOT_TOKEN = 'xoxb-doctor-bot';
const APP_TOKEN = 'xapp-doctor-app';
const TINY_MODEL = join(import.meta.dirname, '..', '..', 'models', 'tiny-test');
const GUILD = { id: '700000000000000001', name: 'Design team' };
/** A guild where the bot's own role grants what @everyone does not. */
const ROLE_GUILD = { id: '700000000000000002', name: 'Marketing' };

/** A Terminal that keeps what was written. */
function recordingTerminal(): Terminal & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (text) => lines.push(text),
    err: (text) => errors.push(text),
    progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
  };
}

/** A port on 127.0.0.1 where nothing listens (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The printed line of check `name`. */
function lineOf(lines: readonly string[], name: string): string {
  const line = lines.find((l) => l.slice(6).startsWith(`${name}: `));
  if (line === undefined) throw new Error(`no line for ${name} in:\n${lines.join('\n')}`);
  return line;
}

describe('findimage doctor', () => {
  const redis = useTestRedis();
  let dir: string;
  let slack: FakeSlackApi;
  let discord: FakeDiscord;
  let qdrant: FakeQdrantServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-doctor-'));
    [slack, discord] = await Promise.all([FakeSlackApi.start([BOT_TOKEN, APP_TOKEN]), FakeDiscord.start()]);
  });
  afterAll(async () => {
    await Promise.all([slack.close(), discord.close()]);
    await rm(dir, { recursive: true, force: true });
  });
  // A Qdrant of its own for each test: a seeded collection of the wrong size must not meet the
  // healthy test, whatever order the tests run in.
  beforeEach(async () => {
    qdrant = await FakeQdrantServer.start();
  });
  afterEach(async () => {
    await qdrant.stop();
    // Back to the healthy deployment every test starts from.
    const connection = await redis.connect();
    await connection.config('SET', 'maxmemory-policy', 'noeviction');
    await connection.config('SET', 'appendonly', 'yes');
  });

  /** A deployment whose every part is set up as the docs say. */
  async function healthy(name: string): Promise<NodeJS.ProcessEnv> {
    slack.tokenScopes.set(BOT_TOKEN, SLACK_BOT_SCOPES);
    discord.applicationFlags = 1 << 19;
    discord.guilds.set(GUILD.id, { ...GUILD, channels: [] });
    discord.guilds.set(ROLE_GUILD.id, {
      ...ROLE_GUILD,
      channels: [],
      everyonePermissions: PermissionFlagsBits.ViewChannel,
      roles: [{ id: '800000000000000001', name: 'findimage', permissions: BOT_PERMISSIONS }],
      botRoles: ['800000000000000001'],
    });
    const root = join(dir, name);
    const env = {
      FINDIMAGE_MODEL: 'tiny-test',
      FINDIMAGE_DATA: join(root, 'data'),
      FINDIMAGE_CACHE: join(root, 'cache'),
      FINDIMAGE_DEVICE: 'cpu',
      QDRANT_URL: qdrant.url,
      REDIS_URL: redis.server.url,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      LOG_LEVEL: 'silent',
    };
    return env;
  }

  async function doctor(env: NodeJS.ProcessEnv, args: string[] = []) {
    const terminal = recordingTerminal();
    const code = await main(['doctor', ...args], { env, cwd: dir, terminal });
    return { code, lines: terminal.lines, errors: terminal.errors };
  }

  it('passes a healthy deployment: every check ok or warn, exit 0', async () => {
    // The store as findimage leaves it after its first start: collection, indexes, alias.
    const store = await openQdrantStore({ url: qdrant.url, logger: createSilentLogger(), modelId: 'tiny-test', dimension: 512, onDisk: false, quantization: false, replicas: 1, writeConsistency: 1 });
    await store.close();
    const { code, lines } = await doctor(await healthy('healthy'));

    expect(lines.map((l) => l.slice(6, l.indexOf(':')))).toEqual([
      'model files',
      'onnx runtime',
      'cuda',
      'qdrant server',
      'qdrant collection',
      'qdrant payload indexes',
      'qdrant alias',
      'sqlite files',
      'redis',
      'slack token',
      'slack scopes',
      'slack transport',
      'discord token',
      'discord intents',
      'discord permissions',
      'web access',
    ]);
    expect(lines.filter((l) => !l.startsWith('ok  '))).toEqual([expect.stringMatching(/^warn {2}model files: .*random/)]);
    expect(lineOf(lines, 'qdrant collection')).toContain('512-d Cosine');
    expect(lineOf(lines, 'redis')).toContain('maxmemory-policy noeviction, appendonly yes');
    expect(lineOf(lines, 'discord permissions')).toContain('in all 2 guilds');
    expect(code).toBe(EXIT_OK);
  });

  it('names each seeded fault on its own line with what to do, and exits 6', async () => {
    const env = await healthy('faults');
    // The model: a file of the right size whose bytes were changed.
    const modelDir = join(dir, 'faults', 'model');
    await mkdir(join(modelDir, 'onnx'), { recursive: true });
    for (const file of ['onnx/text_model.onnx', 'onnx/vision_model.onnx', 'tokenizer.json']) await copyFile(join(TINY_MODEL, file), join(modelDir, file));
    const text = await readFile(join(modelDir, 'onnx/text_model.onnx'));
    text[text.length - 100] = (text[text.length - 100] ?? 0) ^ 0xff;
    await writeFile(join(modelDir, 'onnx/text_model.onnx'), text);
    // Slack: the token was installed before reactions:write was added to the manifest.
    slack.tokenScopes.set(BOT_TOKEN, SLACK_BOT_SCOPES.filter((s) => s !== 'reactions:write'));
    // Discord: the Message Content intent is off, and the guild's @everyone may not embed links.
    discord.applicationFlags = 0;
    discord.guilds.set(GUILD.id, { ...GUILD, channels: [], everyonePermissions: EVERYONE_PERMISSION_BITS & ~PermissionFlagsBits.EmbedLinks });
    // Qdrant: a collection of another size behind the alias.
    await fetch(`${qdrant.url}/collections/findimage_tiny-test`, { method: 'DELETE' });
    await fetch(`${qdrant.url}/collections/findimage_tiny-test`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vectors: { size: 256, distance: 'Cosine' } }) });
    await fetch(`${qdrant.url}/collections/aliases`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ actions: [{ create_alias: { collection_name: 'findimage_tiny-test', alias_name: 'findimage' } }] }) });
    // Redis: a cache's eviction policy.
    await (await redis.connect()).config('SET', 'maxmemory-policy', 'allkeys-lru');

    const { code, lines, errors } = await doctor({ ...env, FINDIMAGE_MODEL_DIR: modelDir, FINDIMAGE_WEB_HOST: '0.0.0.0' });

    expect(lineOf(lines, 'model files')).toMatch(/^fail {2}model files: model tiny-test: .*text_model\.onnx has sha256 [0-9a-f]{64}, the pinned onnx\/text_model\.onnx has 1c6395f1.* → .*findimage model/);
    expect(lineOf(lines, 'slack scopes')).toMatch(/^fail {2}slack scopes: the bot token lacks the scope reactions:write → .*reinstall the app/);
    expect(lineOf(lines, 'discord intents')).toMatch(/^fail {2}discord intents: the Message Content intent is off .* → .*Message Content Intent/);
    expect(lineOf(lines, 'discord permissions')).toMatch(/^fail {2}discord permissions: in 1 of 2 guilds the bot cannot do its work: Design team \(700000000000000001\) lacks Embed Links → /);
    expect(lineOf(lines, 'qdrant collection')).toMatch(/^fail {2}qdrant collection: collection findimage_tiny-test: 256-d Cosine vectors, 0 points, but model tiny-test makes 512-d vectors → .*findimage reindex/);
    expect(lineOf(lines, 'redis')).toMatch(/^fail {2}redis: .*maxmemory-policy allkeys-lru.* → Set maxmemory-policy noeviction/);
    expect(lineOf(lines, 'web access')).toMatch(/^fail {2}web access: listens on 0\.0\.0\.0:8765, .*FINDIMAGE_WEB_TOKEN is not set.* → Set FINDIMAGE_WEB_TOKEN/);
    // What was not broken still passes.
    expect(lineOf(lines, 'slack token')).toMatch(/^ok/);
    expect(lineOf(lines, 'discord token')).toMatch(/^ok/);
    expect(code).toBe(EXIT_CHECKS_FAILED);
    expect(errors.join('\n')).toMatch(/^findimage: 7 of 16 checks failed: model files, qdrant collection, redis, slack scopes, discord intents, discord permissions, web access\./);
  });

  it('names refused tokens, a missing payload index and a Redis without an append-only file', async () => {
    const env = await healthy('tokens');
    await fetch(`${qdrant.url}/collections/findimage_tiny-test`, { method: 'DELETE' });
    await fetch(`${qdrant.url}/collections/findimage_tiny-test`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vectors: { size: 512, distance: 'Cosine' } }) });
    await fetch(`${qdrant.url}/collections/aliases`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ actions: [{ create_alias: { collection_name: 'findimage_tiny-test', alias_name: 'findimage' } }] }) });
    await fetch(`${qdrant.url}/collections/findimage_tiny-test/index?wait=true`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ field_name: 'tenant', field_schema: { type: 'keyword', is_tenant: true } }) });
    await (await redis.connect()).config('SET', 'appendonly', 'no');

    const { code, lines } = await doctor({ ...env, SLACK_BOT_TOKEN: 'xoxb-revoked', SLACK_APP_TOKEN: BOT_TOKEN, DISCORD_TOKEN: 'not-the-token' });

    expect(lineOf(lines, 'slack token')).toMatch(/^fail {2}slack token: Slack refused SLACK_BOT_TOKEN at auth\.test \(invalid_auth\) → /);
    expect(lineOf(lines, 'slack transport')).toMatch(/^fail {2}slack transport: Socket Mode: Slack refused SLACK_APP_TOKEN at apps\.connections\.open \(not_allowed_token_type\) → .*connections:write/);
    expect(lineOf(lines, 'discord token')).toMatch(/^fail {2}discord token: Discord refused DISCORD_TOKEN \(401 /);
    expect(lineOf(lines, 'qdrant payload indexes')).toMatch(/^warn {2}qdrant payload indexes: collection findimage_tiny-test lacks the payload indexes shares\[\]\.conversation, .*created_at: filtered searches scan every point → /);
    expect(lineOf(lines, 'redis')).toMatch(/^warn {2}redis: .*appendonly no → Turn on appendonly yes/);
    // The lines name what was refused, never the secrets themselves.
    for (const secret of ['xoxb-revoked', BOT_TOKEN, 'not-the-token']) expect(lines.join('\n')).not.toContain(secret);
    expect(code).toBe(EXIT_CHECKS_FAILED);
  });

  it('names each damaged SQLite file: a flipped bit SQLite reports, and a torn page it cannot read', async () => {
    const data = join(dir, 'sqlite', 'data');
    await mkdir(join(data, 'store'), { recursive: true });
    /** A file of 2,000 rows with an index, as the store keeps them. */
    const written = (path: string) => {
      const db = new Database(path);
      db.exec('CREATE TABLE points (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX by_name ON points (name);');
      const insert = db.prepare('INSERT INTO points (name) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2_000; i++) insert.run(`image-${i}-${'x'.repeat(40)}`);
      })();
      db.close();
      return path;
    };
    // One bit flipped in a stored name: the table and its index now disagree.
    const store = written(join(data, 'store', 'tiny-test.sqlite'));
    const storeBytes = await readFile(store);
    const flipped = storeBytes.indexOf('image-1000-');
    storeBytes[flipped] = (storeBytes[flipped] ?? 0) ^ 0x20;
    await writeFile(store, storeBytes);
    // Garbage over a page in the middle, as a torn write on a bad disk leaves it.
    const labels = written(join(data, 'labels.sqlite'));
    const labelBytes = await readFile(labels);
    labelBytes.fill(0x5a, 8 * 4096, 9 * 4096);
    await writeFile(labels, labelBytes);

    const { code, lines } = await doctor({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_DATA: data, FINDIMAGE_CACHE: join(dir, 'sqlite', 'cache'), FINDIMAGE_DEVICE: 'cpu', LOG_LEVEL: 'silent' });

    const line = lineOf(lines, 'sqlite files');
    expect(line).toMatch(/^fail {2}sqlite files: .* → .*backup/);
    expect(line).toContain(`${store} fails integrity_check (row 1001 missing from index by_name)`);
    expect(line).toContain(`${labels} fails integrity_check (database disk image is malformed)`);
    expect(code).toBe(EXIT_CHECKS_FAILED);
  });

  it('reports an unknown FINDIMAGE_MODEL on its line and still runs the other checks', async () => {
    const { code, lines } = await doctor({ FINDIMAGE_MODEL: 'clip-vit-b99', FINDIMAGE_DATA: join(dir, 'unknown', 'data'), FINDIMAGE_CACHE: join(dir, 'unknown', 'cache'), LOG_LEVEL: 'silent' });
    expect(lineOf(lines, 'model files')).toMatch(/^fail {2}model files: Unknown model "clip-vit-b99"\. .* → Set FINDIMAGE_MODEL/);
    expect(lineOf(lines, 'web access')).toMatch(/^ok/);
    expect(code).toBe(EXIT_CHECKS_FAILED);
  });

  it('tells a service that cannot be reached from one that refuses the credentials', async () => {
    const closed = await closedPort();
    const { code, lines } = await doctor({
      ...(await healthy('unreachable')),
      QDRANT_URL: `http://127.0.0.1:${closed}`,
      REDIS_URL: `redis://127.0.0.1:${closed}`,
      SLACK_API_URL: `http://127.0.0.1:${closed}/api/`,
      DISCORD_API_URL: `http://127.0.0.1:${closed}/api`,
    });
    expect(lineOf(lines, 'slack token')).toMatch(new RegExp(`^fail {2}slack token: cannot reach Slack's Web API at http://127\\.0\\.0\\.1:${closed}/api/ .* → Check the network`));
    expect(lineOf(lines, 'slack transport')).toMatch(/^fail {2}slack transport: cannot reach Slack's Web API/);
    expect(lineOf(lines, 'discord token')).toMatch(/^fail {2}discord token: cannot reach Discord's API at .*ECONNREFUSED/);
    expect(lineOf(lines, 'redis')).toMatch(/^fail {2}redis: cannot reach Redis at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    expect(lineOf(lines, 'qdrant server')).toMatch(/^fail {2}qdrant server: Cannot reach Qdrant at /);
    expect(lineOf(lines, 'qdrant alias')).toMatch(/^fail {2}qdrant alias: not checked: the collection could not be read → /);
    expect(lines.join('\n')).not.toMatch(/(Slack|Discord) refused/);
    expect(code).toBe(EXIT_CHECKS_FAILED);
  });

  it('prints no secret in its lines, its errors or its JSON, whether the services accept them or not', async () => {
    const env = await healthy('secrets');
    const redisUrl = new URL(redis.server.url);
    redisUrl.username = 'findimage';
    redisUrl.password = 'SECRET-redis-password-51c2';
    const secrets = {
      QDRANT_API_KEY: 'SECRET-qdrant-api-key-8d03',
      REDIS_URL: redisUrl.toString(),
      SLACK_BOT_TOKEN: 'xoxb-SECRET-slack-bot-77a1',
      SLACK_APP_TOKEN: 'xapp-SECRET-slack-app-2b9e',
      SLACK_SIGNING_SECRET: 'SECRET-slack-signing-0e4f',
      DISCORD_TOKEN: 'SECRET-discord-token-9c6d',
      FINDIMAGE_WEB_TOKEN: 'SECRET-web-token-3a7b5d',
      FINDIMAGE_WEB_HOST: '0.0.0.0',
    };
    const printed: string[] = [];
    for (const args of [[], ['--json']]) {
      const { lines, errors } = await doctor({ ...env, ...secrets }, args);
      expect(lines.length).toBeGreaterThan(0);
      printed.push(...lines, ...errors);
    }
    for (const secret of [...Object.values(secrets).filter((value) => value.includes('SECRET')), 'SECRET-redis-password-51c2']) {
      expect(printed.filter((line) => line.includes(secret))).toEqual([]);
    }
  });

  it('prints the same checks as JSON with --json', async () => {
    const env = await healthy('json');
    const { lines } = await doctor({ ...env, FINDIMAGE_WEB_HOST: '0.0.0.0' }, ['--json']);
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] ?? '') as { status: string; checks: Array<{ name: string; status: string; summary: string; action?: string }> };
    expect(report.status).toBe('fail');
    expect(report.checks.find((c) => c.name === 'web access')).toEqual({
      name: 'web access',
      status: 'fail',
      summary: expect.stringContaining('FINDIMAGE_WEB_TOKEN is not set'),
      action: expect.stringContaining('FINDIMAGE_WEB_TOKEN'),
    });
    expect(report.checks.map((c) => c.name)).toContain('discord permissions');
  });

  it('names a library that cannot load on its checks\' lines, checks the rest, and exits 6', async () => {
    const env = await healthy('unloadable');
    const terminal = recordingTerminal();
    const brokenBinding = () => Promise.reject(new Error('onnxruntime_binding.node: invalid ELF header\n    at Module._extensions..node'));
    const brokenSdk = () => Promise.reject(new Error("Cannot find package 'discord.js'"));
    const modules = {
      onnxRuntime: brokenBinding,
      qdrant: () => import('../../src/core/store/qdrant/qdrant-doctor.js'),
      slack: () => import('../../src/bots/slack/slack-doctor.js'),
      discord: brokenSdk,
    };

    const thrown = await runDoctor(loadConfig(env), { json: false, fullHash: false }, terminal, createSilentLogger(), modules).catch((error: unknown) => error);

    expect(lineOf(terminal.lines, 'onnx runtime')).toMatch(/^fail {2}onnx runtime: ONNX Runtime cannot load: onnxruntime_binding\.node: invalid ELF header → Reinstall .*onnxruntime-node/);
    expect(lineOf(terminal.lines, 'cuda')).toMatch(/^fail {2}cuda: not checked: ONNX Runtime cannot load → Fix what the onnx runtime line says first/);
    expect(lineOf(terminal.lines, 'discord token')).toMatch(/^fail {2}discord token: discord\.js cannot load: Cannot find package 'discord\.js' → Reinstall/);
    expect(lineOf(terminal.lines, 'discord permissions')).toMatch(/^fail {2}discord permissions: not checked/);
    // Everything else is still checked.
    expect(lineOf(terminal.lines, 'slack scopes')).toMatch(/^ok/);
    expect(lineOf(terminal.lines, 'qdrant collection')).toMatch(/^ok/);
    expect(lineOf(terminal.lines, 'web access')).toMatch(/^ok/);
    expect(thrown).toBeInstanceOf(ChecksFailedError);
    expect(exitCodeFor((thrown as ChecksFailedError).code)).toBe(EXIT_CHECKS_FAILED);
  });
});
