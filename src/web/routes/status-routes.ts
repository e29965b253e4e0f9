// Index status, evaluation and operations: /api/stats (the shape of `findimage stats --json`,
// for the local tenant only, plus the queue length), /api/eval (the labels graded as
// `findimage eval` grades them, at several K, optionally on a held-out split; kept until the
// labels change), /healthz, /readyz and /metrics.
import type { FastifyInstance } from 'fastify';
import { DEFAULT_BOOTSTRAP_SEED } from '../../core/evaluation/bootstrap.js';
import { LabelEvaluations } from '../../core/evaluation/label-evaluations.js';
import type { Findimage } from '../../findimage.js';
import { checkReadiness } from '../readiness.js';
import { RETRY_AFTER_S } from '../api-errors.js';
import { readyCore, type RouteContext } from '../route-context.js';
import type { StoreStats, VectorStore } from '../../core/store/vector-store.js';
import { WEB_TENANT } from '../web-uploads.js';

/** The cut-offs the evaluation page plots. */
export const EVAL_K_VALUES = [1, 2, 3, 5, 10, 20] as const;
/** The cut-off of the per-query table (findimage eval's default). */
export const EVAL_TABLE_K = 10;

/** Largest seed of a split (any 32-bit value; the page shows it, so it stays short). */
const MAX_SEED = 2 ** 31 - 1;

export function registerStatusRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/stats', async (_request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const stats = await localStats(findimage.store, findimage.model.id);
    return { model: findimage.model.id, ...stats, queue: { pending: findimage.uploads.pending() } };
  });

  // One per core: it keeps the last reports until the labels or the images change.
  const evaluations = new WeakMap<Findimage, LabelEvaluations>();
  app.get<{ Querystring: { split?: number; seed?: number } }>(
    '/api/eval',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            split: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            seed: { type: 'integer', minimum: 0, maximum: MAX_SEED },
          },
        },
      },
    },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      let labelEvaluations = evaluations.get(findimage);
      if (labelEvaluations === undefined) {
        labelEvaluations = new LabelEvaluations({ search: findimage.search, labels: findimage.labels, store: findimage.store, ks: EVAL_K_VALUES, tableK: EVAL_TABLE_K });
        evaluations.set(findimage, labelEvaluations);
      }
      const { split, seed } = request.query;
      const report = await labelEvaluations.evaluate(WEB_TENANT, split === undefined ? undefined : { share: split, seed: seed ?? DEFAULT_BOOTSTRAP_SEED });
      return { model: findimage.model.id, ...report };
    },
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const readiness = await checkReadiness(context.core);
    if (readiness.status === 'not_ready') return reply.code(503).header('retry-after', String(RETRY_AFTER_S)).send(readiness);
    return readiness;
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await context.metrics.registry.metrics();
    return reply.header('content-type', context.metrics.registry.contentType).send(text);
  });
}

/**
 * The StoreStats shape for the web tenant only: the web app serves `local`, so chat tenants'
 * images (Slack workspaces, Discord guilds) are never counted here, unlike `findimage stats`.
 * The store has no per-tenant stats, so the counts come from count() with a tenant filter, per
 * known source; a store never mixes models, so every point is of the running model.
 */
export async function localStats(store: VectorStore, modelId: string): Promise<StoreStats> {
  const total = await store.count({ tenant: WEB_TENANT });
  const bySource: Record<string, number> = {};
  for (const source of KNOWN_SOURCES) {
    const n = await store.count({ tenant: WEB_TENANT, sources: [source] });
    if (n > 0) bySource[source] = n;
  }
  return { total, bySource, byModel: total > 0 ? { [modelId]: total } : {} };
}

/** The payload.source values findimage writes. */
const KNOWN_SOURCES = ['local', 'slack', 'discord'] as const;
