// The "Evaluate models" API: what can be evaluated (datasets below the datasets folder, models),
// starting one evaluation in the background (202; 409 while another runs), its progress, cancel,
// and the kept runs listed, opened and deleted. EvaluationRuns (core) does the work; this only
// checks the shape of requests and translates.
import type { FastifyInstance } from 'fastify';
import { DEFAULT_BOOTSTRAP_SEED } from '../../core/evaluation/bootstrap.js';
import { DEFAULT_EVAL_KS } from '../../core/evaluation/evaluation-defaults.js';
import type { EvaluationRequest, EvaluationRuns } from '../../core/evaluation/evaluation-runs.js';
import { MAX_PROMPT_TEMPLATES, MAX_SEARCH_TEMPLATE_CHARS } from '../../core/text/prompt-templates.js';

/** Models compared in one run: each is loaded beside the server's own model, so a few at most. */
const MAX_MODELS_PER_RUN = 4;
/** Template sets compared in one run: each asks every caption again. */
const MAX_TEMPLATE_SETS_PER_RUN = 6;
/** Cut-offs per run, and the largest: enough for R@1 to R@100 curves. */
const MAX_KS = 10;
const MAX_K = 1000;
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

export function registerEvaluationRoutes(app: FastifyInstance, runs: EvaluationRuns): void {
  app.get('/api/evaluations/options', async () => ({
    datasetsRoot: runs.datasetsRoot,
    datasets: await runs.datasets(),
    models: await runs.models(),
    defaults: { templates: runs.defaultTemplates, ks: DEFAULT_EVAL_KS, seed: DEFAULT_BOOTSTRAP_SEED },
    limits: { models: MAX_MODELS_PER_RUN, templateSets: MAX_TEMPLATE_SETS_PER_RUN, ks: MAX_KS },
  }));

  app.post<{ Body: EvaluationRequest }>(
    '/api/evaluations',
    {
      schema: {
        body: {
          type: 'object',
          required: ['dataset', 'models', 'templates', 'ks'],
          additionalProperties: false,
          properties: {
            dataset: { type: 'string', minLength: 1, maxLength: 500 },
            models: { type: 'array', minItems: 1, maxItems: MAX_MODELS_PER_RUN, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
            templates: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_TEMPLATE_SETS_PER_RUN,
              items: { type: 'array', minItems: 1, maxItems: MAX_PROMPT_TEMPLATES, items: { type: 'string', maxLength: MAX_SEARCH_TEMPLATE_CHARS, pattern: '\\{\\}' } },
            },
            ks: { type: 'array', minItems: 1, maxItems: MAX_KS, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: MAX_K } },
            split: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const record = await runs.start({ ...body, ks: [...body.ks].sort((a, b) => a - b) });
      return reply.code(202).header('location', `/api/evaluations/${record.id}`).send(record);
    },
  );

  app.get('/api/evaluations', async () => ({ current: runs.current() ?? null, runs: await runs.list() }));

  app.get<{ Params: { id: string } }>('/api/evaluations/:id', { schema: { params: ID_PARAMS } }, async (request) => runs.get(request.params.id));

  app.post<{ Params: { id: string } }>('/api/evaluations/:id/cancel', { schema: { params: ID_PARAMS } }, async (request, reply) => {
    if (await runs.cancel(request.params.id)) return runs.get(request.params.id);
    return reply.code(409).send({ error: 'not_running', message: 'This evaluation is not running, so there is nothing to cancel.' });
  });

  app.delete<{ Params: { id: string } }>('/api/evaluations/:id', { schema: { params: ID_PARAMS } }, async (request, reply) => {
    await runs.delete(request.params.id);
    return reply.code(204).send();
  });
}
