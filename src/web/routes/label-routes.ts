// Votes from the search page: 👍 (1), 👎 (-1) or neither (0) on one result of a recorded query,
// by the name the person typed once (kept in their browser). Setting a value is idempotent.
import type { FastifyInstance } from 'fastify';
import { SessionError } from '../../core/errors.js';
import type { LabelValue } from '../../core/labels/label-store.js';
import { WEB_CONVERSATION, readyCore, type RouteContext } from '../route-context.js';
import { WEB_TENANT } from '../web-uploads.js';
import { WEB_SCOPE, localPoint } from './search-routes.js';

/** Longest user name kept with a label. */
export const MAX_USER_CHARS = 64;

interface LabelBody {
  /** The search the result belongs to (its first page's queryId). */
  queryId: string;
  /** The result voted on. */
  imageId: string;
  /** The name the person typed. */
  user: string;
  /** 1 relevant, -1 not relevant, 0 no vote. */
  value: 1 | -1 | 0;
}

export function registerLabelRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post<{ Body: LabelBody }>(
    '/api/labels',
    {
      schema: {
        body: {
          type: 'object',
          required: ['queryId', 'imageId', 'user', 'value'],
          additionalProperties: false,
          properties: {
            queryId: { type: 'string', format: 'uuid' },
            imageId: { type: 'string', format: 'uuid' },
            user: { type: 'string', minLength: 1, maxLength: MAX_USER_CHARS, pattern: '\\S' },
            value: { type: 'integer', enum: [1, -1, 0] },
          },
        },
      },
    },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { queryId, imageId, value } = request.body;
      const user = request.body.user.trim();
      const query = await findimage.labels.getQuery(WEB_TENANT, queryId);
      if (query === undefined || query.conversation !== WEB_CONVERSATION) {
        throw new SessionError('not_found', 'That search is no longer known here; run it again to vote.');
      }
      await localPoint(findimage, imageId);
      const key = { tenant: WEB_TENANT, queryId, imageId, user };
      const given = await findimage.labels.listLabels(key);
      if (value === 0) {
        for (const label of given) await findimage.labels.removeLabel({ ...key, value: label.value });
        return { queryId, imageId, user, value: 0 };
      }
      if (!given.some((label) => label.value === value)) {
        // The shared session logic replaces an opposite vote and records the model with the label.
        await findimage.sessions.vote({ scope: WEB_SCOPE, conversation: WEB_CONVERSATION, user }, queryId, imageId, value as LabelValue);
      }
      return { queryId, imageId, user, value };
    },
  );

  app.get<{ Querystring: { queryId: string; user: string } }>(
    '/api/labels',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['queryId', 'user'],
          properties: { queryId: { type: 'string', format: 'uuid' }, user: { type: 'string', minLength: 1, maxLength: MAX_USER_CHARS } },
        },
      },
    },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const labels = await findimage.labels.listLabels({ tenant: WEB_TENANT, queryId: request.query.queryId, user: request.query.user.trim() });
      return { labels: labels.map((label) => ({ imageId: label.imageId, value: label.value })) };
    },
  );
}
