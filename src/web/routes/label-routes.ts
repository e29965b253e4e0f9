// Votes from the search page: 👍 (1), 👎 (-1) or neither (0) on one result of a recorded query,
// by the name the person typed once (kept in their browser), set through SearchSessions in the
// web's context. Setting a value is idempotent.
import type { FastifyInstance } from 'fastify';
import { readyCore, type RouteContext } from '../route-context.js';
import { webSession } from '../web-session.js';

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
      // The page sends the state it shows, so the session sets it rather than toggling it.
      await findimage.sessions.setVote(webSession(user), queryId, imageId, value);
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
      return { labels: await findimage.sessions.votesOf(webSession(request.query.user.trim()), request.query.queryId) };
    },
  );
}
