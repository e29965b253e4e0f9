// Images: upload through the durable queue (POST /api/images), thumbnails for the grid, and the
// viewer's large image and download of the original.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidQueryError, SessionError } from '../../core/errors.js';
import { attachmentDisposition, readOriginal, viewerImage } from '../originals.js';
import { readyCore, type RouteContext } from '../route-context.js';
import { WebUploads, type UploadAnswer } from '../web-uploads.js';
import { IMAGE_ID_PARAMS, localPoint } from './search-routes.js';
import { readUploadedFiles } from './multipart-files.js';

/** Files one upload request may carry (the page sends one per request, to show each one's progress). */
export const MAX_FILES_PER_UPLOAD = 20;
/** The error code of an upload where every file was refused. */
const NOTHING_STORED = 'nothing_stored';
/**
 * Browsers keep an image but ask before each use (no-cache): a privacy delete must take it off
 * every screen at the next look, which a max-age would delay. Ids are content hashes, so the
 * ETag is the id and the question is a cheap 304 while the image is indexed, a 404 once deleted.
 */
export const IMAGE_CACHE_CONTROL = 'private, no-cache';

/** The ETag of every rendition of image `id`: its bytes never change under that id. */
export function imageEtag(id: string): string {
  return `"${id}"`;
}

/** Whether the browser's If-None-Match names this image's ETag (a list, or *, as RFC 9110 allows). */
function alreadyHas(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}

/** The cache headers of an image answer (200 or 304; never on an error, which must not be kept). */
function cached(reply: FastifyReply, id: string): FastifyReply {
  return reply.header('cache-control', IMAGE_CACHE_CONTROL).header('etag', imageEtag(id));
}

/** Sends a 304 when the browser already has image `id`; true when it did (the caller returns the reply). */
function answeredNotModified(request: FastifyRequest, reply: FastifyReply, id: string): boolean {
  if (!alreadyHas(request.headers['if-none-match'], imageEtag(id))) return false;
  void cached(reply, id).code(304).send();
  return true;
}

/** The summary of an upload where every file was refused: the one reason, or how many. */
function nothingStoredMessage(answers: UploadAnswer[]): string {
  const reasons = [...new Set(answers.map((answer) => (answer.status === 'refused' ? answer.reason : '')))];
  if (reasons.length === 1) return `Nothing was stored: ${reasons[0]}`;
  return `Nothing was stored: all ${answers.length} files were refused; each file's reason is in "files".`;
}

export function registerImageRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post('/api/images', async (request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const uploads = context.uploads();
    if (uploads === undefined) return reply;
    const files = await readUploadedFiles(request, MAX_FILES_PER_UPLOAD);
    if (files.length === 0) throw new InvalidQueryError('No file arrived: send each image in a multipart field named "file".');
    const answers: UploadAnswer[] = [];
    for (const file of files) {
      answers.push(file.tooLarge ? WebUploads.tooLarge(file.name) : await uploads.take(file.name, file.bytes));
    }
    // A request that stored nothing failed, and its status says so (scripts check the status,
    // not each file). 422, not 400: the request itself was well formed, its files were not
    // images findimage can read. Any file stored (even queued or already indexed) makes it a
    // 200 with each file's own status.
    if (answers.every((answer) => answer.status === 'refused')) {
      context.metrics.errors.inc({ code: NOTHING_STORED });
      return reply.code(422).send({ error: NOTHING_STORED, message: nothingStoredMessage(answers), files: answers });
    }
    return { files: answers };
  });

  app.get<{ Params: { id: string } }>('/api/images/:id/thumbnail', { schema: { params: IMAGE_ID_PARAMS } }, async (request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const { id } = request.params;
    const payload = await localPoint(findimage, id).catch(async (error: unknown) => {
      // The image was deleted (or never was): its cached thumbnail goes too.
      if (error instanceof SessionError && error.code === 'not_found') await context.thumbnails.forget(id);
      throw error;
    });
    if (payload.path === undefined) throw new SessionError('not_found', 'This image has no original file here, so it has no thumbnail.');
    // Only after localPoint: a deleted image answers 404, never 304.
    if (answeredNotModified(request, reply, id)) return reply;
    const jpeg = await context.thumbnails.get({ id, tenant: payload.tenant, path: payload.path });
    return cached(reply, id).header('content-type', 'image/jpeg').send(jpeg);
  });

  // The viewer's large image and the download: only for an image the web's scope may see
  // (localPoint), and only from the path the index recorded, never a path from the request.
  // A browser that has the image gets a 304 once the index says it is still there (a deleted
  // image is a 404); the file is read and its hash checked only for a browser without it.
  const originalOf = async (findimage: NonNullable<ReturnType<typeof readyCore>>, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { id } = request.params;
    const payload = await localPoint(findimage, id);
    if (payload.path === undefined) throw new SessionError('not_found', 'This image has no original file here (it came from a chat).');
    if (answeredNotModified(request, reply, id)) return undefined;
    return { payload, original: await readOriginal({ id, tenant: payload.tenant, path: payload.path }) };
  };

  app.get<{ Params: { id: string } }>('/api/images/:id/large', { schema: { params: IMAGE_ID_PARAMS } }, async (request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const found = await originalOf(findimage, request, reply);
    if (found === undefined) return reply;
    const shown = await viewerImage(found.original);
    return cached(reply, request.params.id).header('content-type', shown.type).send(shown.bytes);
  });

  app.get<{ Params: { id: string } }>('/api/images/:id/original', { schema: { params: IMAGE_ID_PARAMS } }, async (request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const found = await originalOf(findimage, request, reply);
    if (found === undefined) return reply;
    return cached(reply, request.params.id)
      .header('content-type', found.original.type)
      .header('content-disposition', attachmentDisposition(found.payload.filename))
      .send(found.original.bytes);
  });

  app.get<{ Params: { id: string } }>('/api/images/:id', { schema: { params: IMAGE_ID_PARAMS } }, async (request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const { path: _path, shares: _shares, ...payload } = await localPoint(findimage, request.params.id);
    return { id: request.params.id, ...payload };
  });
}
