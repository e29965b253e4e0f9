// Index status, evaluation and operations: /api/stats (the shape of `findimage stats --json`,
// for the local tenant only, plus the queue length), /api/eval (the labels graded as
// `findimage eval` grades them, at several K), /healthz, /readyz and /metrics.
import type { FastifyInstance } from 'fastify';
import { evaluateSearch, type EvaluationReport } from '../../core/evaluation/search-evaluator.js';
import type { RankingMetrics } from '../../core/evaluation/ranking-metrics.js';
import { checkReadiness } from '../readiness.js';
import { RETRY_AFTER_S } from '../api-errors.js';
import { readyCore, type RouteContext } from '../route-context.js';
import type { StoreStats, VectorStore } from '../../core/store/vector-store.js';
import { WEB_TENANT } from '../web-uploads.js';

/** The cut-offs the evaluation page plots. */
export const EVAL_K_VALUES = [1, 2, 3, 5, 10, 20] as const;
/** The cut-off of the per-query table (findimage eval's default). */
export const EVAL_TABLE_K = 10;

/** One point of the evaluation curves. */
export interface EvalPoint {
  /** The cut-off. */
  k: number;
  /** Mean metrics of plain search. */
  plain: RankingMetrics;
  /** Mean metrics with feedback from other queries' labels. */
  withFeedback?: RankingMetrics;
}

export function registerStatusRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/stats', async (_request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const stats = await localStats(findimage.store, findimage.model.id);
    return { model: findimage.model.id, ...stats, queue: { pending: findimage.uploads.pending() } };
  });

  app.get('/api/eval', async (_request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const grade = (k: number): Promise<EvaluationReport> =>
      evaluateSearch({ search: findimage.search, labels: findimage.labels, tenant: WEB_TENANT, k, compareFeedback: true });
    const curve: EvalPoint[] = [];
    for (const k of EVAL_K_VALUES) {
      const report = await grade(k);
      curve.push({ k, plain: report.mean.plain, ...(report.mean.withFeedback === undefined ? {} : { withFeedback: report.mean.withFeedback }) });
    }
    const table = await grade(EVAL_TABLE_K);
    return { model: findimage.model.id, tenant: WEB_TENANT, k: EVAL_TABLE_K, curve, queries: table.queries };
  });

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
