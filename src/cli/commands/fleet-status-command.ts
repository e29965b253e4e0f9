// Runs `findimage fleet status`: connects to the fleet's Redis (failing fast when it cannot),
// reads the status through core's readFleetStatus, and prints it as a short table or as JSON.
// Loads no model and opens no vector store: it answers in well under a second.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { ConfigError, StoreError } from '../../core/errors.js';
import { readFleetStatus, type FleetStatus } from '../../core/fleet/fleet-status.js';
import { closeRedis, openRedis } from '../../core/fleet/redis-connection.js';
import { WorkerRegistry } from '../../core/fleet/worker-registry.js';
import { displayName } from '../file-names.js';
import type { Terminal } from '../terminal.js';

/**
 * How long fleet status waits for Redis before saying it is unreachable: a Redis on the same
 * network answers in milliseconds, and a TLS handshake across regions in well under a second, so
 * 3 s is a dead or unreachable server, not a slow one, and a script is not kept waiting.
 */
export const FLEET_STATUS_CONNECT_TIMEOUT_MS = 3_000;

/** pino's number for the warn level: at it or above, the connection's own outage warning is left out. */
const WARN_LEVEL = 40;

export interface FleetStatusCommandOptions {
  /** Print JSON instead of the table. */
  json: boolean;
  /** How many of the newest failures to list. */
  failures: number;
}

/** Reads and prints the fleet's status; exit 2 without fleet mode, exit 4 when Redis cannot be reached. */
export async function runFleetStatus(config: Config, options: FleetStatusCommandOptions, terminal: Terminal, logger: Logger): Promise<void> {
  const fleet = config.fleet;
  if (fleet === undefined) {
    throw new ConfigError(
      'Fleet mode is off, so there is no fleet to report on: set REDIS_URL to the Redis your replicas and workers share ' +
        '(and QDRANT_URL, which fleet mode needs), then run findimage fleet status again. See docs/fleet.md.',
      { details: { variable: 'REDIS_URL' } },
    );
  }
  // One-shot: the connection's "unreachable, retrying" warning would only repeat the error below.
  const connectionLogger = logger.levelVal >= WARN_LEVEL ? logger.child({}, { level: 'error' }) : logger;
  const redis = openRedis({ url: fleet.redisUrl, role: 'quick', logger: connectionLogger, name: 'findimage fleet status' });
  try {
    await whenReady(redis, fleet.redisUrl);
    let status: FleetStatus;
    try {
      status = await readFleetStatus({
        connection: redis,
        modelId: config.model,
        registry: new WorkerRegistry({ redis, leaseMs: fleet.leaseMs, logger }),
        failures: options.failures,
      });
    } catch (error) {
      throw new StoreError('store_unavailable', `Redis at ${redisAddress(fleet.redisUrl)} stopped answering while the fleet's status was read (${reasonOf(error)}). Try again.`, {
        cause: error,
      });
    }
    if (options.json) printJson(status, config.model, terminal);
    else printTable(status, terminal);
  } finally {
    await closeRedis(redis);
  }
}

/** A refusal only the operator can fix: waiting longer will not change the answer. */
const REFUSED_CREDENTIALS = /NOAUTH|WRONGPASS|invalid password|invalid username/i;

/**
 * Resolves once the connection is ready; rejects with a StoreError after
 * FLEET_STATUS_CONNECT_TIMEOUT_MS, or at once when Redis refuses the credentials.
 */
async function whenReady(redis: Redis, url: string): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError: Error | undefined;
  let onError = (_error: Error) => {};
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout')), FLEET_STATUS_CONNECT_TIMEOUT_MS);
      onError = (error: Error) => {
        lastError = error;
        if (!REFUSED_CREDENTIALS.test(error.message)) return;
        clearTimeout(timer);
        reject(error);
      };
      redis.on('error', onError);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch {
    const reason = lastError === undefined ? `no answer within ${FLEET_STATUS_CONNECT_TIMEOUT_MS / 1000} s` : reasonOf(lastError);
    const refused = REFUSED_CREDENTIALS.test(reason);
    throw new StoreError(
      refused ? 'store_auth' : 'store_unavailable',
      refused
        ? `Redis at ${redisAddress(url)} refused findimage's credentials (${reason}). Put the right user and password in REDIS_URL (redis://user:password@host:6379).`
        : `Cannot reach Redis at ${redisAddress(url)} (${reason}). Is it running, and does REDIS_URL name it? See docs/fleet.md.`,
      { cause: lastError, details: { address: redisAddress(url) } },
    );
  } finally {
    redis.off('error', onError);
  }
}

/** REDIS_URL without its user and password, for messages: scheme, host and port only. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`;
  } catch {
    return 'REDIS_URL';
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `{"workers", "waiting", "active", "failed", ...}`: workers is the number alive, workerList who they are. */
function printJson(status: FleetStatus, model: string, terminal: Terminal): void {
  terminal.out(
    JSON.stringify({
      workers: status.workers,
      waiting: status.waiting,
      active: status.active,
      failed: status.failed,
      delayed: status.delayed,
      model,
      queue: status.queue,
      workerList: status.workerList,
      lastFailures: status.lastFailures,
    }),
  );
}

/** The short table a person reads; every name from Redis goes through displayName (no raw control characters). */
function printTable(status: FleetStatus, terminal: Terminal): void {
  const retrying = status.delayed > 0 ? ` (${status.delayed} waiting to retry)` : '';
  terminal.out(`Queue ${status.queue}: ${status.waiting} waiting${retrying}, ${status.active} active, ${status.failed} failed`);
  terminal.out('');
  if (status.workers === 0) {
    terminal.out('No worker is alive: jobs wait until `findimage worker` (or a `findimage serve` replica) runs with this REDIS_URL.');
  } else {
    terminal.out(`${status.workers} ${status.workers === 1 ? 'process' : 'processes'} alive:`);
    const rows = status.workerList.map((w) => [
      displayName(w.host),
      String(w.pid),
      displayName(w.device),
      w.role,
      w.jobsPerSecond.toFixed(1),
      String(w.jobsDone),
      String(w.jobsFailed),
    ]);
    for (const line of table(['HOST', 'PID', 'DEVICE', 'ROLE', 'JOBS/S', 'DONE', 'FAILED'], rows)) terminal.out(`  ${line}`);
  }
  terminal.out('');
  if (status.lastFailures.length === 0) {
    terminal.out('No failed jobs.');
    return;
  }
  terminal.out(`Last failures, newest first (${status.lastFailures.length} of ${status.failed}):`);
  for (const failure of status.lastFailures) {
    const what = failure.filename === null ? `job ${displayName(failure.jobId)}` : displayName(failure.filename);
    const tenant = failure.tenant === null ? '' : ` (${displayName(failure.tenant)})`;
    terminal.out(`  ${failure.at ?? 'at an unknown time'}  ${what}${tenant}: ${displayName(failure.reason)}`);
  }
}

/** Lines of a left-aligned table, columns two spaces apart. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
