// Which findimage processes of the fleet are alive, and how fast each works: every worker and
// replica keeps a small hash in Redis (findimage:worker:<id>) that expires after one lease unless
// the process renews it, so a process killed with -9 or cut off from Redis drops out of
// `findimage fleet status` by itself, with nothing to clean up. Heartbeats never crash their
// process: while Redis is down they fail quietly (one warning per outage) and resume after.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { FindimageError } from '../errors.js';
import { KEY_PREFIX } from './redis-connection.js';

/** Prefix of every heartbeat key; the rest is the process's id. */
export const WORKER_KEY_PREFIX = `${KEY_PREFIX}worker:`;

/**
 * Heartbeats per lease: a key renewed every lease/3 survives two lost or late heartbeats (a GC
 * pause, a slow Redis) before it expires and the process is taken for dead.
 */
const HEARTBEATS_PER_LEASE = 3;

/**
 * jobs/s is counted over the last minute: long enough to smooth the bursts of batched embedding
 * (a batch of 32 ends 32 jobs at once), short enough that a stalled worker shows 0 within a minute.
 */
export const JOBS_RATE_WINDOW_SECONDS = 60;

/** Keys asked for per SCAN step: a hint to Redis, which answers in small steps and never blocks. */
const SCAN_BATCH = 100;

/** What each process says about itself when it joins. */
export interface WorkerIdentity {
  /** The machine's host name (os.hostname()). */
  host: string;
  /** The process id on that machine. */
  pid: number;
  /** Where it embeds: "cpu", "cuda:0", ... as the embedding pool reports it. */
  device: string;
  /** "worker" (`findimage worker`) or "replica" (`findimage serve`, which also takes index jobs). */
  role: 'worker' | 'replica';
}

/** One live process of the fleet, as its last heartbeat described it. */
export interface WorkerInfo extends WorkerIdentity {
  /** Unique per process run: host, pid and a random part (a pid is reused after a restart). */
  id: string;
  /** When it joined, ms since the epoch. */
  startedAt: number;
  /** Jobs it finished successfully since it joined. */
  jobsDone: number;
  /** Jobs it ended with a failure since it joined. */
  jobsFailed: number;
  /** Jobs ended (ok or failed) per second over the last JOBS_RATE_WINDOW_SECONDS (or since it joined, if later). */
  jobsPerSecond: number;
  /** When its last heartbeat was written, ms since the epoch. */
  lastSeenAt: number;
}

export interface WorkerRegistryOptions {
  /** A *quick* connection (openRedis role 'quick'): a heartbeat fails at once while Redis is down. */
  redis: Redis;
  /** How long a heartbeat stays valid (FINDIMAGE_FLEET_LEASE_MS); heartbeats are sent every leaseMs/3. */
  leaseMs: number;
  /** Heartbeat failures go here, once per outage. */
  logger: Logger;
  /** The clock, in ms since the epoch (tests); Date.now by default. */
  now?: () => number;
}

/** Jobs ended in each of the last JOBS_RATE_WINDOW_SECONDS seconds: a fixed ring, whatever the rate. */
class JobRate {
  readonly #seconds = new Array<number>(JOBS_RATE_WINDOW_SECONDS).fill(-1);
  readonly #counts = new Array<number>(JOBS_RATE_WINDOW_SECONDS).fill(0);

  add(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % JOBS_RATE_WINDOW_SECONDS;
    if (this.#seconds[slot] !== second) {
      this.#seconds[slot] = second;
      this.#counts[slot] = 0;
    }
    this.#counts[slot] = (this.#counts[slot] as number) + 1;
  }

  /** Jobs per second over the window, or over the time since `sinceMs` when that is shorter. */
  perSecond(nowMs: number, sinceMs: number): number {
    const second = Math.floor(nowMs / 1000);
    let ended = 0;
    for (let slot = 0; slot < JOBS_RATE_WINDOW_SECONDS; slot++) {
      const at = this.#seconds[slot] as number;
      if (at > second - JOBS_RATE_WINDOW_SECONDS && at <= second) ended += this.#counts[slot] as number;
    }
    // A process that joined 5 s ago and ended 50 jobs works at 10/s, not 50/60; at least 1 s, so
    // the first jobs after joining do not read as thousands per second.
    const spanSeconds = Math.min(JOBS_RATE_WINDOW_SECONDS, Math.max(1, (nowMs - sinceMs) / 1000));
    return Math.round((ended / spanSeconds) * 100) / 100;
  }
}

/** This process's entry in the fleet's list of live processes, and the reader of everyone's. */
export class WorkerRegistry {
  readonly #redis: Redis;
  readonly #leaseMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #rate = new JobRate();
  #me: (WorkerIdentity & { id: string; startedAt: number }) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #jobsDone = 0;
  #jobsFailed = 0;
  #missedHeartbeats = 0;
  #stopped = false;
  /** Ends a heartbeat's wait for the connection early, when stop() is called. */
  #wakeOnStop: (() => void) | undefined;

  constructor(options: WorkerRegistryOptions) {
    this.#redis = options.redis;
    this.#leaseMs = options.leaseMs;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** This process's id once it joined (its key is WORKER_KEY_PREFIX + id); undefined before. */
  get id(): string | undefined {
    return this.#me?.id;
  }

  /**
   * Heartbeats that failed in a row (0 while this process is listed): for a readiness check that
   * wants to say Redis is down, and for tests.
   */
  get missedHeartbeats(): number {
    return this.#missedHeartbeats;
  }

  /** Announces this process; heartbeats every leaseMs/3 until stop(); its key expires after leaseMs. */
  join(me: WorkerIdentity): void {
    if (this.#me !== undefined || this.#stopped) {
      throw new FindimageError('internal', 'A worker registry joins the fleet once; make a new one for another process run.');
    }
    const id = `${me.host}-${me.pid}-${randomBytes(3).toString('hex')}`;
    this.#me = { ...me, id, startedAt: this.#now() };
    this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.#intervalMs());
    // A heartbeat must never keep a finished process alive: its key simply expires.
    this.#timer.unref();
  }

  /** Counts a job this process finished (ok or failed), for jobsDone and jobs/s. */
  jobEnded(outcome: 'ok' | 'failed'): void {
    if (outcome === 'ok') this.#jobsDone++;
    else this.#jobsFailed++;
    this.#rate.add(this.#now());
  }

  /** Workers alive now (keys not expired), sorted by host and pid. */
  async alive(): Promise<WorkerInfo[]> {
    const keys: string[] = [];
    let cursor = '0';
    // SCAN, never KEYS: KEYS blocks Redis for every client while it walks the whole key space.
    do {
      const [next, found] = await this.#redis.scan(cursor, 'MATCH', `${WORKER_KEY_PREFIX}*`, 'COUNT', SCAN_BATCH);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const key of new Set(keys)) pipeline.hgetall(key);
    const replies = (await pipeline.exec()) ?? [];
    const workers: WorkerInfo[] = [];
    for (const [error, fields] of replies) {
      // A key of another type under our prefix was not written by a heartbeat: not a worker.
      if (error !== null && error.message.startsWith('WRONGTYPE')) continue;
      if (error !== null) throw error;
      // A key that expired between SCAN and HGETALL reads as an empty hash: that process just died.
      const worker = workerFrom(fields as Record<string, string>);
      if (worker !== undefined) workers.push(worker);
    }
    return workers.sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid || a.id.localeCompare(b.id));
  }

  /** Stops the heartbeats and removes this process's key, so it leaves the list at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#wakeOnStop?.();
    // A heartbeat still on its way would write the key again after the delete.
    await this.#inFlight;
    const me = this.#me;
    if (me === undefined) return;
    try {
      await this.#redis.del(WORKER_KEY_PREFIX + me.id);
    } catch (error) {
      // Redis is away: the key expires by itself within one lease.
      this.#logger.debug({ err: error, worker: me.id }, 'could not remove the heartbeat; it expires with its lease');
    }
  }

  /** Writes the heartbeat, unless the previous one is still on its way (a stalled Redis). */
  #beat(): void {
    const me = this.#me;
    if (me === undefined || this.#stopped || this.#inFlight !== undefined) return;
    this.#inFlight = this.#write(me).finally(() => {
      this.#inFlight = undefined;
    });
  }

  #intervalMs(): number {
    return Math.max(1, Math.floor(this.#leaseMs / HEARTBEATS_PER_LEASE));
  }

  /**
   * Resolves true once the connection is ready, false after one heartbeat interval or on stop().
   * A quick connection refuses commands until it is connected, so without this wait the first
   * heartbeat of every process (sent while its connection is still opening) would fail and warn.
   */
  async #connected(): Promise<boolean> {
    if (this.#redis.status === 'ready') return true;
    if (this.#redis.status === 'end') return false;
    return new Promise<boolean>((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.#redis.off('ready', onReady);
        this.#wakeOnStop = undefined;
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), this.#intervalMs());
      // Waiting must not keep a finished process alive either.
      timer.unref();
      this.#redis.on('ready', onReady);
      this.#wakeOnStop = () => done(false);
    });
  }

  async #write(me: WorkerIdentity & { id: string; startedAt: number }): Promise<void> {
    if (!(await this.#connected())) {
      if (!this.#stopped) this.#missed(new Error(`the Redis connection is ${this.#redis.status}`), me.id);
      return;
    }
    if (this.#stopped) return;
    const now = this.#now();
    const key = WORKER_KEY_PREFIX + me.id;
    const fields: Record<string, string> = {
      id: me.id,
      host: me.host,
      pid: String(me.pid),
      device: me.device,
      role: me.role,
      startedAt: String(me.startedAt),
      jobsDone: String(this.#jobsDone),
      jobsFailed: String(this.#jobsFailed),
      jobsPerSecond: String(this.#rate.perSecond(now, me.startedAt)),
      lastSeenAt: String(now),
    };
    try {
      // One transaction: the hash never exists without its expiry, even if the process dies between the two.
      const replies = await this.#redis.multi().hset(key, fields).pexpire(key, this.#leaseMs).exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (replies === null || failed !== undefined) throw failed ?? new Error('the heartbeat transaction was discarded');
      if (this.#missedHeartbeats > 0) {
        this.#logger.info({ worker: me.id, missed: this.#missedHeartbeats }, 'heartbeats reach Redis again; this process is listed in the fleet');
      }
      this.#missedHeartbeats = 0;
    } catch (error) {
      this.#missed(error, me.id);
    }
  }

  /** Counts a heartbeat that did not reach Redis; the first of an outage is logged, the rest not. */
  #missed(error: unknown, worker: string): void {
    this.#missedHeartbeats++;
    if (this.#missedHeartbeats === 1) {
      // A refused transaction (EXECABORT) carries the reason of the command Redis refused (OOM, ...).
      const refused = (error as { previousErrors?: unknown[] } | undefined)?.previousErrors?.[0];
      this.#logger.warn(
        { err: refused ?? error, worker },
        'cannot send a heartbeat to Redis; this process drops out of `findimage fleet status` until Redis is back (its work goes on)',
      );
    }
  }
}

/** A WorkerInfo from a heartbeat hash, or undefined when the hash is empty (expired) or not ours. */
function workerFrom(fields: Record<string, string>): WorkerInfo | undefined {
  const number = (name: string): number | undefined => {
    const value = Number(fields[name]);
    return fields[name] === undefined || !Number.isFinite(value) ? undefined : value;
  };
  const { id, host, device, role } = fields;
  const pid = number('pid');
  const startedAt = number('startedAt');
  const lastSeenAt = number('lastSeenAt');
  if (id === undefined || host === undefined || device === undefined || pid === undefined || startedAt === undefined || lastSeenAt === undefined) {
    return undefined;
  }
  if (role !== 'worker' && role !== 'replica') return undefined;
  return {
    id,
    host,
    pid,
    device,
    role,
    startedAt,
    jobsDone: number('jobsDone') ?? 0,
    jobsFailed: number('jobsFailed') ?? 0,
    jobsPerSecond: number('jobsPerSecond') ?? 0,
    lastSeenAt,
  };
}
