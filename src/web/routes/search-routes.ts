// The search API: by description (with the CLI's filter syntax and negative terms), by an image
// dropped on the page, and "more like this" on an indexed image. Every first page is recorded as
// a query, so its results can be voted on; later pages pass its queryId back.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { InvalidQueryError, SessionError } from '../../core/errors.js';
import type { QueryRecord } from '../../core/labels/label-store.js';
import { parseQuery } from '../../core/search/query-syntax.js';
import type { SearchResults, SearchScope } from '../../core/search/search-service.js';
import { MAX_QUERY_WINDOW } from '../../core/store/point-validation.js';
import type { ImagePayload } from '../../core/store/vector-store.js';
import type { Findimage } from '../../findimage.js';
import { WEB_CONVERSATION, readyCore, type RouteContext } from '../route-context.js';
import { WEB_TENANT, cleanFileName } from '../web-uploads.js';
import { readUploadedFiles } from './multipart-files.js';

/** The only scope the web app searches: the local tenant's images, never a chat workspace's. */
export const WEB_SCOPE: SearchScope = { tenant: WEB_TENANT };
/** Results per page when the page does not say. */
export const DEFAULT_PAGE_SIZE = 20;
/** Most results per page. */
export const MAX_PAGE_SIZE = 100;
/** Longest `q` accepted; parseQuery keeps the first 500 characters of the description. */
export const MAX_QUERY_PARAM_CHARS = 10_000;
/** Hits kept for a search by a dropped image (its vector is not stored, so pages come from this list). */
const IMAGE_SNAPSHOT_SIZE = 100;

/** One result as the API answers it: `findimage search --json`'s fields plus the rank. */
export type ApiResult = { id: string; score: number; rank: number } & Omit<ImagePayload, 'path' | 'shares'>;

/** The answer to every search. */
export interface ApiSearchAnswer {
  /** The query as typed (text searches). */
  query?: string;
  /** The dropped image's name (image searches) or the source image id (more like this). */
  image?: string;
  /** The model that ranked the results. */
  model: string;
  /** Send it back with later pages and with votes; absent when nothing was found. */
  queryId?: string;
  /** Results skipped before this page. */
  offset: number;
  /** Results asked for. */
  k: number;
  /** Whether another page exists. */
  hasMore: boolean;
  /** True when the description was cut to the longest one the model reads. */
  truncated?: boolean;
  /** Best first; ranks count from the first page. */
  results: ApiResult[];
}

const pageQuerySchema = {
  k: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  offset: { type: 'integer', minimum: 0, maximum: MAX_QUERY_WINDOW - 1, default: 0 },
  queryId: { type: 'string', format: 'uuid' },
} as const;

/** Point ids are UUIDs; anything else is refused before it reaches the store. */
export const IMAGE_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

export function registerSearchRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get<{ Querystring: { q: string; k: number; offset: number; queryId?: string } }>(
    '/api/search',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['q'],
          properties: { q: { type: 'string', maxLength: MAX_QUERY_PARAM_CHARS }, ...pageQuerySchema },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { q, k, offset } = request.query;
      const parsed = parseQuery(q);
      if (parsed.channelRefs.length > 0 || parsed.userRefs.length > 0) {
        throw new InvalidQueryError('in: and from: pick chat channels and people; the web app searches the images indexed here, which have neither. Leave them out.');
      }
      const filters = { ...(parsed.after === undefined ? {} : { after: parsed.after }), ...(parsed.before === undefined ? {} : { before: parsed.before }) };
      const timer = context.metrics.searchSeconds.startTimer({ kind: 'text' });
      const results = await findimage.search.searchText({ scope: WEB_SCOPE, filters, text: parsed.text, negativeTerms: parsed.negativeTerms, limit: k, offset });
      timer();
      const query = await queryFor(findimage, request.query.queryId, results, () => ({
        kind: 'text',
        text: q.trim().slice(0, MAX_QUERY_PARAM_CHARS),
        searchText: parsed.text,
        negativeTerms: parsed.negativeTerms,
        filters,
      }));
      return answer(findimage, { query: q }, query, results, k, offset, parsed.truncated);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { k: number; offset: number; queryId?: string } }>(
    '/api/images/:id/similar',
    { schema: { params: IMAGE_ID_PARAMS, querystring: { type: 'object', properties: pageQuerySchema, additionalProperties: false } } },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { id } = request.params;
      const { k, offset } = request.query;
      const point = await localPoint(findimage, id);
      const timer = context.metrics.searchSeconds.startTimer({ kind: 'similar' });
      const results = await findimage.search.searchSimilarTo(id, { scope: WEB_SCOPE, limit: k, offset });
      timer();
      const query = await queryFor(findimage, request.query.queryId, results, () => ({ kind: 'image', text: point.filename, sourceImageId: id }));
      return answer(findimage, { image: id }, query, results, k, offset);
    },
  );

  app.post<{ Querystring: { k: number } }>(
    '/api/search/image',
    { schema: { querystring: { type: 'object', properties: { k: pageQuerySchema.k }, additionalProperties: false } } },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { k } = request.query;
      const [file] = await readUploadedFiles(request, 1);
      if (file === undefined) throw new InvalidQueryError('Send the image to search by in a multipart field named "file".');
      if (file.tooLarge) throw new InvalidQueryError('That image is too large to search by (50 MB at most).');
      const name = cleanFileName(file.name);
      const timer = context.metrics.searchSeconds.startTimer({ kind: 'image' });
      const prepared = await findimage.prepareImage(file.bytes);
      const found = await findimage.search.searchSimilarToImage(prepared, { scope: WEB_SCOPE, limit: IMAGE_SNAPSHOT_SIZE });
      timer();
      const results: SearchResults = { hits: found.hits.slice(0, k), hasMore: false };
      const snapshot = found.hits.map((hit) => ({ imageId: hit.id, score: hit.score }));
      const query = await queryFor(findimage, undefined, results, () => ({ kind: 'image', text: name, snapshot }));
      return answer(findimage, { image: name }, query, results, k, 0);
    },
  );
}

/** The local image `id`; SessionError('not_found') for an unknown id or another tenant's image. */
export async function localPoint(findimage: Findimage, id: string): Promise<ImagePayload> {
  const [point] = await findimage.store.get([id]);
  if (point === undefined || point.payload.tenant !== WEB_TENANT) throw new SessionError('not_found', 'No image with that id is indexed here.');
  return point.payload;
}

/**
 * The query record these results belong to: the one whose id the page sent back (a later page),
 * else a new one, recorded when it found something (an empty search has nothing to vote on).
 */
async function queryFor(
  findimage: Findimage,
  queryId: string | undefined,
  results: SearchResults,
  fields: () => Pick<QueryRecord, 'kind' | 'text'> & Partial<QueryRecord>,
): Promise<QueryRecord | undefined> {
  const asked = fields();
  if (queryId !== undefined) {
    // Only the same search continues a query: votes on a page must land on the query it shows.
    const earlier = await findimage.labels.getQuery(WEB_TENANT, queryId);
    const same = earlier !== undefined && earlier.conversation === WEB_CONVERSATION && earlier.kind === asked.kind && earlier.text === asked.text && earlier.sourceImageId === asked.sourceImageId;
    if (same) return earlier;
  }
  if (results.hits.length === 0) return undefined;
  const query: QueryRecord = {
    queryId: randomUUID(),
    tenant: WEB_TENANT,
    searchText: '',
    negativeTerms: [],
    filters: {},
    ...asked,
    scope: WEB_SCOPE,
    user: 'web',
    conversation: WEB_CONVERSATION,
    createdAt: new Date(),
  };
  await findimage.labels.recordQuery(query);
  return query;
}

function answer(
  findimage: Findimage,
  asked: { query?: string; image?: string },
  query: QueryRecord | undefined,
  results: SearchResults,
  k: number,
  offset: number,
  truncated?: boolean,
): ApiSearchAnswer {
  return {
    ...asked,
    model: findimage.model.id,
    ...(query === undefined ? {} : { queryId: query.queryId }),
    offset,
    k,
    hasMore: results.hasMore,
    ...(truncated ? { truncated: true } : {}),
    results: results.hits.map((hit, i) => {
      // The server's own paths stay on the server; local images have no chat shares.
      const { path: _path, shares: _shares, ...payload } = hit.payload;
      return { id: hit.id, score: hit.score, rank: offset + i + 1, ...payload };
    }),
  };
}
