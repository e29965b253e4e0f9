// What the fleet is doing, read from Redis for `findimage fleet status`: the depths of a model's
// index queue (BullMQ's own counts), the processes alive (the worker registry) and the last jobs
// that failed for good, with their reasons. Reads only; it starts and changes nothing.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { indexQueueName, QUEUE_PREFIX } from './index-queue-names.js';
import type { WorkerInfo, WorkerRegistry } from './worker-registry.js';

/** One job that failed for good (its attempts used up, or refused as unrecoverable). */
export interface FleetFailure {
  /** BullMQ's job id. */
  jobId: string;
  /** The image's file name as the job carried it; null when the job's data has none (another version wrote it). */
  filename: string | null;
  /** The workspace (Slack team, Discord guild, or "local") the image belongs to; null when unknown. */
  tenant: string | null;
  /** Why it failed, as the worker said (BullMQ's failedReason). */
  reason: string;
  /** When it failed for good, ISO 8601; null when BullMQ kept no time. */
  at: string | null;
}

/** The fleet at one moment. */
export interface FleetStatus {
  /** The queue read: index-<model>. */
  queue: string;
  /** Processes alive (workers and replicas with heartbeats): workerList.length. */
  workers: number;
  /** Each process alive, sorted by host and pid. */
  workerList: WorkerInfo[];
  /** Jobs not yet taken: waiting, prioritized, and delayed (waiting out a retry's backoff). */
  waiting: number;
  /** Of `waiting`, the jobs delayed until their next attempt. */
  delayed: number;
  /** Jobs a worker holds now. */
  active: number;
  /** Jobs that failed for good and are kept for inspection. */
  failed: number;
  /** The newest failures, newest first, at most `failures` of them. */
  lastFailures: FleetFailure[];
}

export interface FleetStatusOptions {
  /** A ready connection to the fleet's Redis (a quick one: a read fails at once if Redis goes away). */
  connection: Redis;
  /** The model whose index queue is read (FINDIMAGE_MODEL). */
  modelId: string;
  /** Lists the processes alive. */
  registry: Pick<WorkerRegistry, 'alive'>;
  /** How many of the newest failures to list (0 for none). */
  failures: number;
}

/** Reads queue depths, live processes and the newest failures. */
export async function readFleetStatus(options: FleetStatusOptions): Promise<FleetStatus> {
  const name = indexQueueName(options.modelId);
  // Shares the caller's connection: closing the queue leaves it open for the caller to close.
  const queue = new Queue(name, { connection: options.connection, prefix: QUEUE_PREFIX });
  // Connection problems surface as the failed reads below; without a listener an 'error' event would throw.
  queue.on('error', () => {});
  try {
    const [counts, failedJobs, workerList] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'),
      options.failures > 0 ? queue.getFailed(0, options.failures - 1) : Promise.resolve([]),
      options.registry.alive(),
    ]);
    const count = (state: string) => counts[state] ?? 0;
    return {
      queue: name,
      workers: workerList.length,
      workerList,
      waiting: count('waiting') + count('prioritized') + count('delayed'),
      delayed: count('delayed'),
      active: count('active'),
      failed: count('failed'),
      // A job removed between the list and its read comes back undefined.
      lastFailures: failedJobs.filter((job) => job !== undefined).map(failureOf),
    };
  } finally {
    await queue.close();
  }
}

/** A failed job as fleet status shows it, reading its data defensively (written by any version). */
function failureOf(job: { id?: string; data: unknown; failedReason: string; finishedOn?: number }): FleetFailure {
  const image = isRecord(job.data) && isRecord(job.data.image) ? job.data.image : {};
  return {
    jobId: job.id ?? '?',
    filename: typeof image.filename === 'string' ? image.filename : null,
    tenant: typeof image.tenant === 'string' ? image.tenant : null,
    reason: job.failedReason || 'no reason given',
    at: typeof job.finishedOn === 'number' ? new Date(job.finishedOn).toISOString() : null,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
