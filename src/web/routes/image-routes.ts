// Images: upload through the durable queue (POST /api/images) and thumbnails for the grid.
import type { FastifyInstance } from 'fastify';
import { InvalidQueryError, SessionError } from '../../core/errors.js';
import { readyCore, type RouteContext } from '../route-context.js';
import { WebUploads, type UploadAnswer } from '../web-uploads.js';
import { IMAGE_ID_PARAMS, localPoint } from './search-routes.js';
import { readUploadedFiles } from './multipart-files.js';

/** Files one upload request may carry (the page sends one per request, to show each one's progress). */
export const MAX_FILES_PER_UPLOAD = 20;
/** Browsers may keep a thumbnail a day; ids are content hashes, so it never changes. */
const THUMBNAIL_CACHE_CONTROL = 'private, max-age=86400, immutable';

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
    const jpeg = await context.thumbnails.get(id, payload.path);
    return reply.header('content-type', 'image/jpeg').header('cache-control', THUMBNAIL_CACHE_CONTROL).send(jpeg);
  });

  app.get<{ Params: { id: string } }>('/api/images/:id', { schema: { params: IMAGE_ID_PARAMS } }, async (request, reply) => {
    const findimage = readyCore(context, reply);
    if (findimage === undefined) return reply;
    const { path: _path, shares: _shares, ...payload } = await localPoint(findimage, request.params.id);
    return { id: request.params.id, ...payload };
  });
}
