// The search API: by description (with the CLI's filter syntax and negative terms), by an image
// dropped on the page, and "more like this" on an indexed image, each started, paged and
// recorded by SearchSessions in the web's context (web-session.ts). A first page that found
// something is recorded as a query, so its results can be voted on and paged by its queryId.
import type { FastifyInstance } from 'fastify';
import type { PageWindow, SessionPage } from '../../core/conversations/search-sessions.js';
import { InvalidQueryError, SessionError } from '../../core/errors.js';
import { MAX_QUERY_TEXT_CHARS, parseQuery } from '../../core/search/query-syntax.js';
import { storeScopeOf, type CutOffReport, type SearchOverrides } from '../../core/search/search-service.js';
import { describedInTemplate, MAX_SEARCH_TEMPLATE_CHARS, searchTemplate } from '../../core/text/prompt-templates.js';
import { MAX_QUERY_WINDOW } from '../../core/store/point-validation.js';
import type { ImagePayload } from '../../core/store/vector-store.js';
import type { Findimage } from '../../findimage.js';
import { readyCore, type RouteContext } from '../route-context.js';
import { WEB_SCOPE, webSession } from '../web-session.js';
import { cleanFileName } from '../web-uploads.js';
import { readUploadedFiles } from './multipart-files.js';

/** Results per page when the page does not say. */
export const DEFAULT_PAGE_SIZE = 20;
/** Most results per page. */
export const MAX_PAGE_SIZE = 100;
/** Longest `q` accepted; parseQuery keeps the first 500 characters of the description. */
export const MAX_QUERY_PARAM_CHARS = 10_000;

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
  /** Pass it to GET /api/searches/:queryId for later pages, and with votes; absent when nothing was found. */
  queryId?: string;
  /** Results skipped before this page. */
  offset: number;
  /** Results asked for. */
  k: number;
  /** Whether another page exists. */
  hasMore: boolean;
  /** True when the description was cut to the longest one the model reads. */
  truncated?: boolean;
  /** Image searches: the name of the image searched by (the indexed image's or the dropped file's), on every page. */
  imageName?: string;
  /** The search's own prompt template, when it brought one ("{}": the words as typed). */
  template?: string;
  /** The search's own relative cut-off, when it brought one. */
  minScore?: number;
  /** What the relative cut-off did: applied, hits dropped, and whether more may lie below; absent on a snapshot's later pages. */
  cutOff?: CutOffReport;
  /** Best first; ranks count from the first page. */
  results: ApiResult[];
}

const pageQuerySchema = {
  k: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  offset: { type: 'integer', minimum: 0, maximum: MAX_QUERY_WINDOW - 1, default: 0 },
} as const;

/**
 * A search's own settings, for one search: `minScore`, the relative cut-off (0 keeps all), and
 * `template`, the prompt template ("{}" for the words as typed). Left out, the server's apply.
 */
const tuningQuerySchema = {
  minScore: { type: 'number', minimum: 0, maximum: 1 },
  template: { type: 'string', minLength: 1, maxLength: MAX_SEARCH_TEMPLATE_CHARS * 4 },
} as const;

/** What a search asked to tune, checked: a template without {} is refused with how to write one. */
function tuningOf(query: { minScore?: number; template?: string }): SearchOverrides | undefined {
  const tuning: SearchOverrides = {};
  if (query.minScore !== undefined) tuning.minRelativeScore = query.minScore;
  if (query.template !== undefined) tuning.templates = searchTemplate(query.template);
  return Object.keys(tuning).length === 0 ? undefined : tuning;
}

/** Point ids are UUIDs; anything else is refused before it reaches the store. */
export const IMAGE_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

/** Query ids are UUIDs too. */
const QUERY_ID_PARAMS = {
  type: 'object',
  required: ['queryId'],
  properties: { queryId: { type: 'string', format: 'uuid' } },
} as const;

export function registerSearchRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get<{ Querystring: { q: string; k: number; offset: number; minScore?: number; template?: string } }>(
    '/api/search',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['q'],
          properties: { q: { type: 'string', maxLength: MAX_QUERY_PARAM_CHARS }, ...pageQuerySchema, ...tuningQuerySchema },
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
      const tuning = tuningOf(request.query);
      // The cap on what is embedded counts the template's own words: a long template leaves the
      // description less room, and the answer says when that cut it.
      const template = tuning?.templates?.[0];
      if (template !== undefined) {
        const fitted = describedInTemplate(template, parsed.text, MAX_QUERY_TEXT_CHARS);
        parsed.text = fitted.text;
        parsed.truncated ||= fitted.cut;
      }
      const timer = context.metrics.searchSeconds.startTimer({ kind: 'text' });
      const page = await findimage.sessions.startText(webSession(), { typed: q, parsed, filters, ...(tuning === undefined ? {} : { tuning }) }, { offset, limit: k });
      timer();
      return answer(findimage, page, { offset, limit: k }, true, {}, parsed.truncated);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { k: number; offset: number; minScore?: number } }>(
    '/api/images/:id/similar',
    { schema: { params: IMAGE_ID_PARAMS, querystring: { type: 'object', properties: { ...pageQuerySchema, minScore: tuningQuerySchema.minScore }, additionalProperties: false } } },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { k, offset } = request.query;
      const timer = context.metrics.searchSeconds.startTimer({ kind: 'similar' });
      const page = await findimage.sessions.startLike(webSession(), request.params.id, { offset, limit: k }, tuningOf(request.query));
      timer();
      return answer(findimage, page, { offset, limit: k }, true, { image: request.params.id });
    },
  );

  app.post<{ Querystring: { k: number; minScore?: number } }>(
    '/api/search/image',
    { schema: { querystring: { type: 'object', properties: { k: pageQuerySchema.k, minScore: tuningQuerySchema.minScore }, additionalProperties: false } } },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { k } = request.query;
      const [file] = await readUploadedFiles(request, 1);
      if (file === undefined) throw new InvalidQueryError('Send the image to search by in a multipart field named "file".');
      if (file.tooLarge) throw new InvalidQueryError('That image is too large to search by (50 MB at most).');
      const timer = context.metrics.searchSeconds.startTimer({ kind: 'image' });
      // An image that is not indexed is embedded once; its hits are kept and later pages come from them.
      const name = cleanFileName(file.name);
      const page = await findimage.sessions.startImage(webSession(), { bytes: file.bytes, name }, { offset: 0, limit: k }, tuningOf(request.query));
      timer();
      // The file's name even when the image is indexed and searched like "more like this".
      return answer(findimage, page, { offset: 0, limit: k }, true, { image: name });
    },
  );

  app.get<{ Params: { queryId: string }; Querystring: { k: number; offset: number } }>(
    '/api/searches/:queryId',
    { schema: { params: QUERY_ID_PARAMS, querystring: { type: 'object', properties: pageQuerySchema, additionalProperties: false } } },
    async (request, reply) => {
      const findimage = readyCore(context, reply);
      if (findimage === undefined) return reply;
      const { k, offset } = request.query;
      const page = await findimage.sessions.results(webSession(), request.params.queryId, { offset, limit: k });
      return answer(findimage, page, { offset, limit: k }, false);
    },
  );
}

/** The local image `id`; SessionError('not_found') for an unknown id or one the web's scope may not see (another tenant's). */
export async function localPoint(findimage: Findimage, id: string): Promise<ImagePayload> {
  const [point] = await findimage.store.get([id], storeScopeOf(WEB_SCOPE));
  if (point === undefined) throw new SessionError('not_found', 'No image with that id is indexed here.');
  return point.payload;
}

/**
 * The API's answer for a page of a session. `started`: the page began a search, which the
 * session recorded (so it has a queryId) only when it found something. `asked`: what the route
 * was asked about (the image id, or the dropped file's name); a later page names the search's
 * source image, or the dropped file when there is none.
 */
function answer(
  findimage: Findimage,
  page: SessionPage,
  window: PageWindow,
  started: boolean,
  asked: { image?: string } = {},
  truncated?: boolean,
): ApiSearchAnswer {
  const { query } = page;
  const recorded = !started || page.hits.length > 0;
  const template = query.tuning?.templates?.[0];
  const minScore = query.tuning?.minRelativeScore;
  return {
    ...(query.kind === 'text' ? { query: query.text } : { image: asked.image ?? query.sourceImageId ?? query.text, imageName: query.text }),
    model: findimage.model.id,
    ...(recorded ? { queryId: query.queryId } : {}),
    offset: window.offset,
    k: window.limit,
    hasMore: page.hasMore,
    ...(truncated ? { truncated: true } : {}),
    ...(template === undefined ? {} : { template }),
    ...(minScore === undefined ? {} : { minScore }),
    ...(page.cutOff === undefined ? {} : { cutOff: page.cutOff }),
    results: page.hits.map((hit) => {
      // The server's own paths stay on the server; local images have no chat shares.
      const { path: _path, shares: _shares, ...payload } = hit.payload;
      return { id: hit.imageId, score: hit.score, rank: hit.rank, ...payload };
    }),
  };
}
