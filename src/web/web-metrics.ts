// Prometheus metrics for /metrics, through prom-client: request and query latency, embedding
// latency by tower, upload-queue length and age, pending and stuck share updates, store size,
// readiness, the build, and errors by code. Gauges that need the core are read when scraped, so a
// scrape during start-up still answers (without them, and with findimage_ready 0).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { packageRoot } from '../core/models/package-root.js';
import { withTimeout } from './answer-deadline.js';
import type { CoreHolder } from './core-holder.js';
import { checkReadiness } from './readiness.js';

/** Latency buckets in seconds: text searches take 10-100 ms on CPU, image ones up to a second. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * Embedding buckets in seconds: a text on the tiny model takes a millisecond, ViT-B/32 on two CPU
 * cores 41 ms for a text and 52 ms for an image alone, and a queued image in a batch of 8 waits
 * for the whole batch (618 ms); a GPU answers in 3 ms (docs/benchmarks.md).
 */
const EMBEDDING_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** prom-client's default gauges whose names end in _total as if they were counters. */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** What findimage_build_info reports: the package version and the runtime. */
export interface BuildInfo {
  /** findimage's version (package.json). */
  version: string;
  /** Node.js version, without the "v". */
  node: string;
}

/** This process's build: findimage's version from its package.json, and Node's. */
export function currentBuild(): BuildInfo {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return { version: typeof manifest.version === 'string' ? manifest.version : 'unknown', node: process.versions.node };
}

/** The web app's metrics, registered in their own registry (tests open several servers). */
export class WebMetrics {
  /** The registry /metrics renders. */
  readonly registry = new Registry();
  /** Seconds per search, by kind ("text", "image", "similar"). */
  readonly searchSeconds: Histogram<'kind'>;
  /** HTTP requests answered, by route and status. */
  readonly requests: Counter<'route' | 'status'>;
  /**
   * Seconds to answer each HTTP request, by method, route pattern (`/api/images/:id/thumbnail`,
   * never the URL itself, whose ids and queries would make a series per request) and status code.
   */
  readonly requestSeconds: Histogram<'method' | 'route' | 'status_code'>;
  /** Seconds from asking for an embedding to its answer (queue wait and batching included), by tower. */
  readonly embeddingSeconds: Histogram<'tower'>;
  /** Failures by error code (API refusals and rejected uploads). */
  readonly errors: Counter<'code'>;
  /** Uploads accepted by the API, by outcome. */
  readonly uploads: Counter<'status'>;
  /** Embeddings computed, by tower ("text", "vision"); rate() gives embeddings per second. */
  readonly embeddings: Counter<'tower'>;
  /** Chat events handled, by platform and kind (the bots increment it). */
  readonly chatEvents: Counter<'platform' | 'event'>;
  /** When each upload this process queued was accepted; cleared as each finishes. */
  readonly #queuedAt = new Map<string, number>();

  constructor(core: CoreHolder, build: BuildInfo) {
    const registers = [this.registry];
    // No prefix: Node's process metrics keep their standard names (process_cpu_seconds_total,
    // process_resident_memory_bytes, nodejs_heap_size_used_bytes, ...), which the usual Node.js
    // dashboards and alerts query; the job and instance labels say which service they belong to.
    // The old prefix doubled itself into findimage_process_process_cpu_seconds_total.
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges with a counter's _total, which promtool refuses; they count
    // handles and requests open right now, which the event-loop and heap metrics cover better.
    for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    this.requestSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.embeddingSeconds = new Histogram({
      name: 'findimage_embedding_duration_seconds',
      help: 'Time from asking for an embedding to its answer (queue wait and batching included), by tower',
      labelNames: ['tower'],
      buckets: EMBEDDING_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'findimage_build_info',
      help: 'Always 1; the labels say which findimage and which Node.js this process runs',
      labelNames: ['version', 'node'],
      registers,
    }).set({ version: build.version, node: build.node }, 1);
    new Gauge({
      name: 'findimage_ready',
      help: 'Whether /readyz answers 200 (1) or 503 (0): the model is loaded and the store answers',
      registers,
      async collect() {
        this.set((await checkReadiness(core)).status === 'not_ready' ? 0 : 1);
      },
    });
    this.searchSeconds = new Histogram({
      name: 'findimage_search_duration_seconds',
      help: 'Time to answer a search through the web API, by kind',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.requests = new Counter({ name: 'findimage_http_requests_total', help: 'HTTP requests answered', labelNames: ['route', 'status'], registers });
    this.errors = new Counter({ name: 'findimage_errors_total', help: 'Failures by error code', labelNames: ['code'], registers });
    this.uploads = new Counter({ name: 'findimage_uploads_total', help: 'Uploads through the web API, by outcome', labelNames: ['status'], registers });
    this.embeddings = new Counter({ name: 'findimage_embeddings_total', help: 'Embeddings computed, by tower', labelNames: ['tower'], registers });
    this.chatEvents = new Counter({ name: 'findimage_chat_events_total', help: 'Chat events handled, by platform and kind', labelNames: ['platform', 'event'], registers });
    const queuedAt = this.#queuedAt;
    new Gauge({
      name: 'findimage_upload_queue_length',
      help: 'Uploads waiting in the durable queue or being indexed',
      registers,
      collect() {
        const findimage = core.findimage;
        if (findimage !== undefined) this.set(findimage.uploads.pending());
      },
    });
    new Gauge({
      name: 'findimage_upload_queue_oldest_age_seconds',
      help: 'Age of the oldest upload accepted by this process and not yet indexed or refused (0 when none)',
      registers,
      collect() {
        let oldest = Infinity;
        for (const at of queuedAt.values()) oldest = Math.min(oldest, at);
        this.set(oldest === Infinity ? 0 : (Date.now() - oldest) / 1000);
      },
    });
    new Gauge({
      name: 'findimage_share_updates_pending',
      help: 'Deletions, edits and privacy changes recorded and not yet applied to the index',
      registers,
      collect() {
        const findimage = core.findimage;
        if (findimage !== undefined) this.set(findimage.uploads.shareUpdateStats().pending);
      },
    });
    new Gauge({
      name: 'findimage_share_updates_stuck',
      help: 'Share updates that keep failing (logged at error, code share_update_stuck); every later one waits for them',
      registers,
      collect() {
        const findimage = core.findimage;
        if (findimage !== undefined) this.set(findimage.uploads.shareUpdateStats().stuck);
      },
    });
    new Gauge({
      name: 'findimage_embedding_queue_length',
      help: 'Embedding tasks waiting in the worker pool, by lane (interactive: searches; bulk: indexing)',
      labelNames: ['lane'],
      registers,
      collect() {
        const findimage = core.findimage;
        if (findimage === undefined) return;
        const { queued } = findimage.embeddingStats();
        this.set({ lane: 'interactive' }, queued.interactive);
        this.set({ lane: 'bulk' }, queued.bulk);
      },
    });
    this.#registerFleetMetrics(core, registers);
    new Gauge({
      name: 'findimage_store_images',
      help: 'Images in the store, every tenant',
      registers,
      async collect() {
        const findimage = core.findimage;
        if (findimage === undefined) return;
        try {
          this.set((await findimage.store.stats()).total);
        } catch {
          // The store is down: /readyz says so; the last value stays.
        }
      },
    });
  }

  /**
   * Fleet mode only (they stay empty otherwise): the fleet index queue's depths, the jobs this
   * replica added by outcome with the time each took from adding to its end, and the content
   * claims this replica's indexer took.
   */
  #registerFleetMetrics(core: CoreHolder, registers: Registry[]): void {
    new Gauge({
      name: 'findimage_fleet_queue_jobs',
      help: 'Jobs in the fleet index queue (every replica and worker), by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const fleet = core.findimage?.fleet;
        if (fleet === undefined) return;
        try {
          const depths = await withTimeout(fleet.depths(), FLEET_SCRAPE_TIMEOUT_MS);
          for (const [state, jobs] of Object.entries(depths)) this.set({ state }, jobs);
        } catch {
          // Redis is away: /readyz says so; the last values stay.
        }
      },
    });
    // Both read the jobs that ended since the last scrape, whichever is collected first.
    const drain = (): void => {
      for (const { outcome, seconds } of core.findimage?.fleet?.drainFinished() ?? []) {
        durations.observe({ outcome }, seconds);
        outcomes.inc({ outcome });
      }
    };
    const outcomes: Counter<'outcome'> = new Counter({
      name: 'findimage_fleet_jobs_total',
      help: 'Index jobs this replica added that ended, by outcome',
      labelNames: ['outcome'],
      registers,
      collect: drain,
    });
    const durations: Histogram<'outcome'> = new Histogram({
      name: 'findimage_fleet_job_duration_seconds',
      help: 'Time from adding an index job to its end (queue wait included), by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
      collect: drain,
    });
    let claimsCounted = 0;
    new Counter({
      name: 'findimage_content_claims_total',
      help: 'Content claims taken by this process before embedding an image (fleet mode)',
      registers,
      collect() {
        const taken = core.findimage?.claimsTaken() ?? claimsCounted;
        if (taken > claimsCounted) this.inc(taken - claimsCounted);
        claimsCounted = taken;
      },
    });
  }

  /** Notes one embedding computed by `tower`, which took `seconds` to answer. */
  embedded(tower: 'text' | 'vision', seconds: number): void {
    this.embeddings.inc({ tower });
    this.embeddingSeconds.observe({ tower }, seconds);
  }

  /** Notes that upload job `jobId` entered the queue now. */
  queued(jobId: string): void {
    this.#queuedAt.set(jobId, Date.now());
  }

  /** Notes that upload job `jobId` left the queue (indexed or refused). */
  finished(jobId: string): void {
    this.#queuedAt.delete(jobId);
  }
}

/** How long a scrape waits for Redis's queue counts before keeping the last ones. */
const FLEET_SCRAPE_TIMEOUT_MS = 1_000;
