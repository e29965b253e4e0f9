// Every setting findimage reads, parsed and validated in one place. The rest of the program
// takes the typed Config; nothing else reads process.env. A bad value names its variable.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';
import { ConfigError } from './core/errors.js';
import {
  DEFAULT_INDEX_BATCH_SIZE,
  DEFAULT_INDEX_BATCHES_IN_FLIGHT,
  MAX_INDEX_BATCH_SIZE,
  MAX_INDEX_BATCHES_IN_FLIGHT,
} from './core/indexing/index-batching.js';
import { canonicalModelId } from './core/models/model-registry.js';
import { VARIANT_PRECISIONS } from './core/models/model-spec.js';
import { decodeAdapterFile, type AdapterFile } from './core/tuning/adapter-file.js';

/** First wait before retrying a dropped model download: 1, 2, 4, 8 s, about 15 s in all. */
const DEFAULT_MODEL_RETRY_MS = 1_000;

export type Device = { kind: 'auto' } | { kind: 'cpu' } | { kind: 'cuda'; deviceId: number };

export interface Config {
  /** Registry id of the model ("clip-vit-b32", "tiny-test", ...). */
  model: string;
  /** A local folder holding the model's files; skips any download. */
  modelDir?: string;
  /** Where downloaded models are cached. */
  cacheDir: string;
  /** Base URL of the Hugging Face hub or a mirror of it; model files come from here. */
  modelBaseUrl: string;
  /** Wait before the first retry of a dropped model download, in ms; doubled for each next one. */
  modelRetryDelayMs: number;
  /** Where the embedded store and the durable queues live. */
  dataDir: string;
  device: Device;
  /** Embedding worker threads. */
  workers: number;
  /** Extra text-only workers reserved for searches (0 to save their memory). */
  searchWorkers: number;
  /** Largest batch one inference call takes; unset means by device (2 on CPU, 32 on CUDA). */
  maxBatch?: number;
  /** How long a partial batch waits for more work, in ms. */
  batchWaitMs: number;
  /**
   * Nice value (0-19) of the threads that index beside reserved search workers (Linux):
   * FINDIMAGE_BULK_NICE, default 10; 0 leaves priorities alone.
   */
  bulkNiceness: number;
  /**
   * Largest bulk batch while no search is about (FINDIMAGE_QUIET_BULK_BATCH); unset: bulk
   * batches stay at maxBatch.
   */
  quietBulkBatch?: number;
  /** Query prompt templates; "{}" is replaced by the query, and the embeddings averaged. */
  promptTemplates: string[];
  /** Results scoring below this fraction of the best score are dropped (0 keeps all). */
  minRelativeScore: number;
  /**
   * FINDIMAGE_ADAPTER: a query adapter made by `findimage tune`, read and checked here (the file
   * intact, made for FINDIMAGE_MODEL); text queries go through it, images and stored vectors not.
   */
  adapter?: { path: string; file: AdapterFile };
  /** LOG_LEVEL when set; otherwise each front end picks (the CLI: warn, serve: info). */
  logLevel?: string;
  qdrant?: {
    url: string;
    apiKey?: string;
    onDisk: boolean;
    quantization: boolean;
    /** QDRANT_SHARDS: shards of a new collection; unset leaves Qdrant's default (one per node of a cluster). */
    shards?: number;
    /** QDRANT_REPLICAS: copies of each shard in a new collection (default 1; 2 or more survive a node's loss). */
    replicas: number;
    /** QDRANT_WRITE_CONSISTENCY: replicas that must acknowledge a write (default 1, at most QDRANT_REPLICAS). */
    writeConsistency: number;
  };
  /**
   * Fleet mode (REDIS_URL): indexing work goes through a Redis (BullMQ) queue that any number of
   * `findimage worker` processes take from, and the replay guard, channel pacing, content claims
   * and backfill cursors live in Redis, so several replicas on several machines act as one.
   * Needs QDRANT_URL (every machine must see the same vectors). Unset: one machine, as before.
   */
  fleet?: {
    /** REDIS_URL: redis:// or rediss:// (TLS), with user and password when the server wants them. */
    redisUrl: string;
    /**
     * FINDIMAGE_FLEET_LEASE_MS: how long a job or a content claim outlives a holder that stopped
     * answering (killed, cut off) before another process takes it over. Default 30 s.
     */
    leaseMs: number;
    /**
     * FINDIMAGE_REPLICA_JOBS: index jobs a serving replica works on at once beside answering chat
     * (its reserved search worker keeps searches fast); 0 leaves them all to `findimage worker`.
     */
    replicaJobs: number;
  };
  /** How indexing batches its store calls (FINDIMAGE_INDEX_BATCH, FINDIMAGE_INDEX_BATCHES_IN_FLIGHT). */
  indexBatching: {
    /** Points per store write and ids per duplicate lookup, at most. */
    size: number;
    /** Batches of each kind sent at once. */
    inFlight: number;
  };
  slack?: {
    botToken: string;
    appToken?: string;
    signingSecret?: string;
    port?: number;
    apiUrl?: string;
    /** Reaction added to an upload once it is indexed; empty for none. */
    indexedReaction: string;
    /** Largest file downloaded for indexing, in bytes (SLACK_MAX_FILE_MB); the bot's default otherwise. */
    maxFileBytes?: number;
  };
  /** The web app (findimage serve and findimage web). */
  web: {
    /** Address to listen on (FINDIMAGE_WEB_HOST); loopback by default. */
    host: string;
    /** TCP port (FINDIMAGE_WEB_PORT); 0 picks a free one (tests). */
    port: number;
    /** FINDIMAGE_WEB_TOKEN: required on every request; the server refuses to bind off loopback without it. */
    token?: string;
    /**
     * FINDIMAGE_WEB_TRUST_PROXY: the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto
     * are believed (true: any; a list: those addresses, CIDR ranges or proxy-addr's names
     * loopback, linklocal, uniquelocal). Unset: none, and the headers are ignored.
     */
    trustProxy?: true | string[];
    /**
     * FINDIMAGE_DATASETS_DIR: the folder whose dataset subfolders the page's "Evaluate models"
     * may read (default <FINDIMAGE_DATA>/datasets); nothing outside it is ever evaluated.
     */
    datasetsDir: string;
  };
  discord?: {
    /** Bot token from the Developer Portal (Bot → Token). */
    token: string;
    /** DISCORD_API_URL: REST base instead of https://discord.com/api (tests, a compatible server). */
    apiUrl?: string;
    /** Largest attachment downloaded for indexing, in bytes (DISCORD_MAX_FILE_MB); the bot's default otherwise. */
    maxFileBytes?: number;
    /**
     * DISCORD_SHARDS: the gateway shards this replica runs, "auto" (discord.js asks Discord how
     * many, and runs them all) or a list of shard ids out of `shardCount`. Unset: one shard.
     */
    shards?: 'auto' | number[];
    /** DISCORD_SHARD_COUNT: shards of the whole bot, over every replica (with a DISCORD_SHARDS list). */
    shardCount?: number;
  };
}

/** A job or claim whose holder stopped answering is taken over after this long (FINDIMAGE_FLEET_LEASE_MS). */
export const DEFAULT_FLEET_LEASE_MS = 30_000;
/** Shorter leases would expire between two renewals of a busy but healthy process. */
export const MIN_FLEET_LEASE_MS = 1_000;
/** Index jobs a serving replica works on at once (FINDIMAGE_REPLICA_JOBS). */
export const DEFAULT_REPLICA_JOBS = 2;

/** The web app listens on loopback unless told otherwise: nobody else can reach it without a token. */
export const DEFAULT_WEB_HOST = '127.0.0.1';
export const DEFAULT_WEB_PORT = 8765;
/** A shorter token could be guessed by someone able to reach the port. */
export const MIN_WEB_TOKEN_CHARS = 16;

const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`);

const optionalText = z
  .string()
  .transform((v) => v.trim())
  .optional()
  .transform((v) => (v === '' || v === undefined ? undefined : v));

/** A blank value counts as unset (docker-compose passes an env file's empty lines as ""). */
const blankAsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema);

/** A model id, or a variant's "model:precision" spelling for one of VARIANT_PRECISIONS. */
const MODEL_NAME = new RegExp(`^[a-z0-9][a-z0-9._-]*(:(${VARIANT_PRECISIONS.join('|')}))?$`);

const envSchema = z.object({
  FINDIMAGE_MODEL: z
    .string()
    .regex(MODEL_NAME, 'FINDIMAGE_MODEL must be a model id such as clip-vit-b32 (or a variant such as clip-vit-b32:fp16)')
    .default('clip-vit-b32')
    // "model:fp16" is the variant's id "model-fp16": ids name store files and Qdrant collections.
    .transform(canonicalModelId),
  FINDIMAGE_MODEL_DIR: optionalText,
  FINDIMAGE_CACHE: optionalText,
  FINDIMAGE_MODEL_URL: z
    .url('FINDIMAGE_MODEL_URL must be the base URL of the Hugging Face hub or a mirror, such as https://huggingface.co')
    .default('https://huggingface.co')
    .transform((v) => v.replace(/\/+$/, '')),
  FINDIMAGE_MODEL_RETRY_MS: z.coerce
    .number({ error: 'FINDIMAGE_MODEL_RETRY_MS must be a number of milliseconds' })
    .int('FINDIMAGE_MODEL_RETRY_MS must be a whole number of milliseconds')
    .min(0, 'FINDIMAGE_MODEL_RETRY_MS must be 0 or more')
    .max(60_000, 'FINDIMAGE_MODEL_RETRY_MS must be at most 60000')
    .default(DEFAULT_MODEL_RETRY_MS),
  FINDIMAGE_DATA: optionalText,
  FINDIMAGE_DATASETS_DIR: optionalText,
  FINDIMAGE_DEVICE: z
    .string()
    .regex(/^(auto|cpu|cuda(:\d+)?)$/, 'FINDIMAGE_DEVICE must be auto, cpu, cuda or cuda:N')
    .default('auto'),
  FINDIMAGE_WORKERS: positiveInt('FINDIMAGE_WORKERS').max(16).default(1),
  FINDIMAGE_SEARCH_WORKERS: z.coerce
    .number({ error: 'FINDIMAGE_SEARCH_WORKERS must be a whole number' })
    .int('FINDIMAGE_SEARCH_WORKERS must be a whole number')
    .min(0)
    .max(4)
    .default(1),
  FINDIMAGE_MAX_BATCH: positiveInt('FINDIMAGE_MAX_BATCH').max(256).optional(),
  FINDIMAGE_BATCH_WAIT_MS: z.coerce.number().min(0).max(1000).default(4),
  FINDIMAGE_BULK_NICE: z.coerce
    .number({ error: 'FINDIMAGE_BULK_NICE must be a whole number from 0 to 19' })
    .int('FINDIMAGE_BULK_NICE must be a whole number from 0 to 19')
    .min(0, 'FINDIMAGE_BULK_NICE must be from 0 (unchanged) to 19 (lowest priority)')
    .max(19, 'FINDIMAGE_BULK_NICE must be from 0 (unchanged) to 19 (lowest priority)')
    .default(10),
  FINDIMAGE_QUIET_BULK_BATCH: positiveInt('FINDIMAGE_QUIET_BULK_BATCH').max(256).optional(),
  FINDIMAGE_INDEX_BATCH: positiveInt('FINDIMAGE_INDEX_BATCH')
    .max(MAX_INDEX_BATCH_SIZE, `FINDIMAGE_INDEX_BATCH must be at most ${MAX_INDEX_BATCH_SIZE}`)
    .default(DEFAULT_INDEX_BATCH_SIZE),
  FINDIMAGE_INDEX_BATCHES_IN_FLIGHT: positiveInt('FINDIMAGE_INDEX_BATCHES_IN_FLIGHT')
    .max(MAX_INDEX_BATCHES_IN_FLIGHT, `FINDIMAGE_INDEX_BATCHES_IN_FLIGHT must be at most ${MAX_INDEX_BATCHES_IN_FLIGHT}`)
    .default(DEFAULT_INDEX_BATCHES_IN_FLIGHT),
  FINDIMAGE_PROMPT_TEMPLATES: z.string().default('a photo of {}'),
  FINDIMAGE_ADAPTER: optionalText,
  FINDIMAGE_MIN_RELATIVE_SCORE: z.coerce
    .number({ error: 'FINDIMAGE_MIN_RELATIVE_SCORE must be a number' })
    .min(0)
    .max(1)
    .default(0.8),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional(),
  QDRANT_URL: optionalText.pipe(z.url('QDRANT_URL must be a URL such as http://localhost:6333').optional()),
  QDRANT_API_KEY: optionalText,
  // Empty means unset here too: docker-compose passes qdrant.env's blank lines as "".
  QDRANT_ON_DISK: optionalText.pipe(z.enum(['true', 'false'], 'QDRANT_ON_DISK must be true or false').optional()),
  QDRANT_QUANTIZATION: optionalText.pipe(z.enum(['none', 'int8'], 'QDRANT_QUANTIZATION must be none or int8').optional()),
  QDRANT_SHARDS: blankAsUnset(positiveInt('QDRANT_SHARDS').max(1024).optional()),
  QDRANT_REPLICAS: blankAsUnset(positiveInt('QDRANT_REPLICAS').max(16).optional()),
  QDRANT_WRITE_CONSISTENCY: blankAsUnset(positiveInt('QDRANT_WRITE_CONSISTENCY').max(16).optional()),
  REDIS_URL: optionalText.pipe(
    z
      .url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// or rediss:// URL such as redis://localhost:6379' })
      .optional(),
  ),
  FINDIMAGE_FLEET_LEASE_MS: z.coerce
    .number({ error: 'FINDIMAGE_FLEET_LEASE_MS must be a whole number of milliseconds' })
    .int('FINDIMAGE_FLEET_LEASE_MS must be a whole number of milliseconds')
    .min(MIN_FLEET_LEASE_MS, `FINDIMAGE_FLEET_LEASE_MS must be at least ${MIN_FLEET_LEASE_MS}`)
    .max(10 * 60_000, 'FINDIMAGE_FLEET_LEASE_MS must be at most 600000 (10 minutes)')
    .default(DEFAULT_FLEET_LEASE_MS),
  FINDIMAGE_REPLICA_JOBS: z.coerce
    .number({ error: 'FINDIMAGE_REPLICA_JOBS must be a whole number' })
    .int('FINDIMAGE_REPLICA_JOBS must be a whole number')
    .min(0, 'FINDIMAGE_REPLICA_JOBS must be 0 or more')
    .max(64, 'FINDIMAGE_REPLICA_JOBS must be at most 64')
    .default(DEFAULT_REPLICA_JOBS),
  SLACK_BOT_TOKEN: optionalText,
  SLACK_APP_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_API_URL: optionalText,
  SLACK_INDEXED_REACTION: z.string().default('frame_with_picture'),
  SLACK_MAX_FILE_MB: positiveInt('SLACK_MAX_FILE_MB').max(1024).optional(),
  DISCORD_TOKEN: optionalText,
  DISCORD_API_URL: optionalText.pipe(z.url('DISCORD_API_URL must be a URL such as https://discord.com/api').optional()),
  DISCORD_MAX_FILE_MB: positiveInt('DISCORD_MAX_FILE_MB').max(1024).optional(),
  DISCORD_SHARDS: optionalText,
  DISCORD_SHARD_COUNT: blankAsUnset(positiveInt('DISCORD_SHARD_COUNT').max(100_000).optional()),
  PORT: positiveInt('PORT').max(65535).optional(),
  FINDIMAGE_WEB_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.:[\]-]+$/, 'FINDIMAGE_WEB_HOST must be a host name or an IP address such as 127.0.0.1')
    .default(DEFAULT_WEB_HOST),
  FINDIMAGE_WEB_PORT: z.coerce
    .number({ error: 'FINDIMAGE_WEB_PORT must be a whole number' })
    .int('FINDIMAGE_WEB_PORT must be a whole number')
    .min(0, 'FINDIMAGE_WEB_PORT must be from 0 to 65535')
    .max(65535, 'FINDIMAGE_WEB_PORT must be from 0 to 65535')
    .default(DEFAULT_WEB_PORT),
  FINDIMAGE_WEB_TRUST_PROXY: optionalText,
  FINDIMAGE_WEB_TOKEN: optionalText.pipe(
    z.string().min(MIN_WEB_TOKEN_CHARS, `FINDIMAGE_WEB_TOKEN must be at least ${MIN_WEB_TOKEN_CHARS} characters`).optional(),
  ),
});

function parseDevice(value: string): Device {
  if (value === 'auto') return { kind: 'auto' };
  if (value === 'cpu') return { kind: 'cpu' };
  const [, id] = value.split(':');
  return { kind: 'cuda', deviceId: id === undefined ? 0 : Number(id) };
}

/** Names proxy-addr (Fastify's trustProxy) accepts for ranges of addresses. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether `entry` is an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or a PROXY_RANGE_NAMES name. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * FINDIMAGE_WEB_TRUST_PROXY: unset or "false" trusts no proxy; "true" trusts whoever connects
 * (only when nothing but the proxy can reach the port); otherwise a comma-separated list of the
 * proxies' addresses. A typo must not silently trust nobody (cookies would lose Secure) or
 * everybody (anyone could forge their address), so anything else is refused.
 */
export function parseTrustProxy(value: string | undefined): true | string[] | undefined {
  if (value === undefined || value.toLowerCase() === 'false') return undefined;
  if (value.toLowerCase() === 'true') return true;
  const entries = value.split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
  const bad = entries.filter((entry) => !isProxyAddress(entry));
  if (entries.length === 0 || bad.length > 0) {
    throw new ConfigError(
      `FINDIMAGE_WEB_TRUST_PROXY must be true, false, or a comma-separated list of the reverse proxy's addresses ` +
        `(such as 127.0.0.1 or 10.0.0.0/8, or loopback); ${JSON.stringify(bad[0] ?? value)} is none of these.`,
      { details: { variable: 'FINDIMAGE_WEB_TRUST_PROXY' } },
    );
  }
  return entries;
}

/**
 * DISCORD_SHARDS and DISCORD_SHARD_COUNT: "auto", or a list of shard ids with the whole bot's
 * count, so that each replica runs its own shards and every guild is served by exactly one.
 */
export function parseDiscordShards(
  shards: string | undefined,
  count: number | undefined,
): { shards?: 'auto' | number[]; shardCount?: number } {
  const fail = (message: string, variable = 'DISCORD_SHARDS') => {
    throw new ConfigError(message, { details: { variable } });
  };
  if (shards === undefined) {
    if (count !== undefined) fail('DISCORD_SHARD_COUNT needs DISCORD_SHARDS: the shard ids this replica runs (such as 0,1), or auto.', 'DISCORD_SHARD_COUNT');
    return {};
  }
  if (shards.toLowerCase() === 'auto') {
    if (count !== undefined) fail('DISCORD_SHARDS=auto asks Discord for the shard count, so leave DISCORD_SHARD_COUNT unset (or list the shards this replica runs).', 'DISCORD_SHARD_COUNT');
    return { shards: 'auto' };
  }
  const ids = shards.split(',').map((entry) => entry.trim());
  if (ids.some((id) => !/^\d{1,6}$/.test(id))) fail(`DISCORD_SHARDS must be auto or a comma-separated list of shard ids such as 0,1; got ${JSON.stringify(shards)}.`);
  if (count === undefined) fail('DISCORD_SHARDS lists shard ids, so set DISCORD_SHARD_COUNT too: the number of shards over all replicas.', 'DISCORD_SHARD_COUNT');
  const numbers = [...new Set(ids.map(Number))].sort((a, b) => a - b);
  const outside = numbers.find((id) => id >= (count as number));
  if (outside !== undefined) fail(`DISCORD_SHARDS names shard ${outside}, but DISCORD_SHARD_COUNT is ${count}: shard ids go from 0 to ${(count as number) - 1}.`);
  return { shards: numbers, shardCount: count as number };
}

/**
 * FINDIMAGE_ADAPTER: reads the adapter file and refuses one that is missing, damaged, or made for
 * another model than FINDIMAGE_MODEL (its W maps that model's queries only). The vector length
 * is checked against the model's when findimage opens it (openFindimage).
 */
export function readAdapterSetting(value: string, model: string): { path: string; file: AdapterFile } {
  const path = resolve(value);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new ConfigError(`FINDIMAGE_ADAPTER names ${path}, which cannot be read (${reason}). Give the file \`findimage tune\` wrote, or unset FINDIMAGE_ADAPTER.`, {
      cause: error,
      details: { variable: 'FINDIMAGE_ADAPTER' },
    });
  }
  const file = decodeAdapterFile(text, `FINDIMAGE_ADAPTER (${path})`);
  if (file.adapter.modelId !== model) {
    throw new ConfigError(
      `FINDIMAGE_ADAPTER (${path}) was made for the model ${file.adapter.modelId}, but FINDIMAGE_MODEL is ${model}: an adapter only fits the model it was learned on. ` +
        `Set FINDIMAGE_MODEL=${file.adapter.modelId}, run \`findimage tune\` for ${model}, or unset FINDIMAGE_ADAPTER.`,
      { details: { variable: 'FINDIMAGE_ADAPTER', adapterModel: file.adapter.modelId, model } },
    );
  }
  return { path, file };
}

function parseTemplates(value: string): string[] {
  const templates = value
    .split('|')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (templates.length === 0 || templates.some((t) => !t.includes('{}'))) {
    throw new ConfigError(
      'FINDIMAGE_PROMPT_TEMPLATES must be one or more templates separated by "|", each containing {} (for example "a photo of {}|a picture of {}").',
    );
  }
  return templates;
}

/** Reads the whole configuration from an environment; throws ConfigError naming the bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`Invalid setting ${name}: ${issue?.message ?? 'bad value'}`, {
      details: { variable: name },
    });
  }
  const e = parsed.data;
  const paths = envPaths('findimage', { suffix: '' });
  const trustProxy = parseTrustProxy(e.FINDIMAGE_WEB_TRUST_PROXY);
  const config: Config = {
    model: e.FINDIMAGE_MODEL,
    modelDir: e.FINDIMAGE_MODEL_DIR === undefined ? undefined : resolve(e.FINDIMAGE_MODEL_DIR),
    cacheDir: resolve(e.FINDIMAGE_CACHE ?? join(homedir(), '.cache', 'findimage')),
    modelBaseUrl: e.FINDIMAGE_MODEL_URL,
    modelRetryDelayMs: e.FINDIMAGE_MODEL_RETRY_MS,
    dataDir: resolve(e.FINDIMAGE_DATA ?? paths.data),
    device: parseDevice(e.FINDIMAGE_DEVICE),
    workers: e.FINDIMAGE_WORKERS,
    searchWorkers: e.FINDIMAGE_SEARCH_WORKERS,
    maxBatch: e.FINDIMAGE_MAX_BATCH,
    batchWaitMs: e.FINDIMAGE_BATCH_WAIT_MS,
    bulkNiceness: e.FINDIMAGE_BULK_NICE,
    quietBulkBatch: e.FINDIMAGE_QUIET_BULK_BATCH,
    indexBatching: { size: e.FINDIMAGE_INDEX_BATCH, inFlight: e.FINDIMAGE_INDEX_BATCHES_IN_FLIGHT },
    promptTemplates: parseTemplates(e.FINDIMAGE_PROMPT_TEMPLATES),
    minRelativeScore: e.FINDIMAGE_MIN_RELATIVE_SCORE,
    ...(e.FINDIMAGE_ADAPTER === undefined ? {} : { adapter: readAdapterSetting(e.FINDIMAGE_ADAPTER, e.FINDIMAGE_MODEL) }),
    logLevel: e.LOG_LEVEL,
    web: {
      host: e.FINDIMAGE_WEB_HOST,
      port: e.FINDIMAGE_WEB_PORT,
      ...(e.FINDIMAGE_WEB_TOKEN === undefined ? {} : { token: e.FINDIMAGE_WEB_TOKEN }),
      ...(trustProxy === undefined ? {} : { trustProxy }),
      datasetsDir: resolve(e.FINDIMAGE_DATASETS_DIR ?? join(resolve(e.FINDIMAGE_DATA ?? paths.data), 'datasets')),
    },
  };
  if (e.QDRANT_URL !== undefined) {
    const replicas = e.QDRANT_REPLICAS ?? 1;
    const writeConsistency = e.QDRANT_WRITE_CONSISTENCY ?? 1;
    if (writeConsistency > replicas) {
      throw new ConfigError(
        `QDRANT_WRITE_CONSISTENCY (${writeConsistency}) cannot be more than QDRANT_REPLICAS (${replicas}): a write would wait for copies that do not exist.`,
        { details: { variable: 'QDRANT_WRITE_CONSISTENCY' } },
      );
    }
    config.qdrant = {
      url: e.QDRANT_URL,
      apiKey: e.QDRANT_API_KEY,
      onDisk: e.QDRANT_ON_DISK === 'true',
      quantization: e.QDRANT_QUANTIZATION === 'int8',
      ...(e.QDRANT_SHARDS === undefined ? {} : { shards: e.QDRANT_SHARDS }),
      replicas,
      writeConsistency,
    };
  }
  if (e.REDIS_URL !== undefined) {
    if (config.qdrant === undefined) {
      throw new ConfigError(
        'REDIS_URL turns on fleet mode, where several machines share the work, so they must share the vectors too: ' +
          'set QDRANT_URL to your Qdrant server or cluster as well (see docs/fleet.md), or unset REDIS_URL to run on this machine alone.',
        { details: { variable: 'REDIS_URL' } },
      );
    }
    config.fleet = { redisUrl: e.REDIS_URL, leaseMs: e.FINDIMAGE_FLEET_LEASE_MS, replicaJobs: e.FINDIMAGE_REPLICA_JOBS };
  }
  // The bot token alone is enough for `findimage slack backfill`; the bot itself (serve) also
  // needs a transport, SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, and says so when it starts.
  if (e.SLACK_BOT_TOKEN !== undefined) {
    config.slack = {
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      port: e.PORT,
      apiUrl: e.SLACK_API_URL,
      indexedReaction: e.SLACK_INDEXED_REACTION.trim(),
      ...(e.SLACK_MAX_FILE_MB === undefined ? {} : { maxFileBytes: e.SLACK_MAX_FILE_MB * 1024 * 1024 }),
    };
  }
  if (e.DISCORD_TOKEN !== undefined) {
    config.discord = {
      token: e.DISCORD_TOKEN,
      ...(e.DISCORD_API_URL === undefined ? {} : { apiUrl: e.DISCORD_API_URL.replace(/\/+$/, '') }),
      ...(e.DISCORD_MAX_FILE_MB === undefined ? {} : { maxFileBytes: e.DISCORD_MAX_FILE_MB * 1024 * 1024 }),
      ...parseDiscordShards(e.DISCORD_SHARDS, e.DISCORD_SHARD_COUNT),
    };
  }
  return config;
}
