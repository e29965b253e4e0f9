// What every route module gets: the core (once loaded), the metrics, the upload intake and the
// thumbnail cache, plus the helper that answers 503 while the core is not ready.
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Findimage } from '../findimage.js';
import { RETRY_AFTER_S } from './api-errors.js';
import type { CoreHolder } from './core-holder.js';
import type { Thumbnails } from './thumbnails.js';
import type { WebMetrics } from './web-metrics.js';
import type { WebUploads } from './web-uploads.js';

/** The conversation id web searches are recorded under (votes must come from the same place). */
export const WEB_CONVERSATION = 'web';

export interface RouteContext {
  /** The core, loading or ready. */
  core: CoreHolder;
  /** Metrics for /metrics. */
  metrics: WebMetrics;
  /** Upload intake; undefined until the core is ready. */
  uploads: () => WebUploads | undefined;
  /** Thumbnail cache. */
  thumbnails: Thumbnails;
  /** Folder of the built page (index.html, app JS, CSS). */
  pageDir: string;
  /** The web app's log. */
  logger: Logger;
}

/**
 * The core, or undefined after answering 503 with Retry-After and the reason: a request during
 * start-up is told to come back, never left waiting for the model.
 */
export function readyCore(context: RouteContext, reply: FastifyReply): Findimage | undefined {
  const current = context.core.current;
  if (current.state === 'ready') return current.findimage;
  const message =
    current.state === 'loading'
      ? 'findimage is still loading its model; try again in a few seconds.'
      : 'findimage failed to start; see the server log.';
  void reply.code(503).header('retry-after', String(RETRY_AFTER_S)).send({ error: 'not_ready', message });
  return undefined;
}
