// The page itself: index.html for every page path (search, index, evaluation), and the built
// script and style files beside it. Only known files are served, never a path from the URL.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../route-context.js';

/** The page's files and their content types. */
const PAGE_FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'search-view.js': 'text/javascript; charset=utf-8',
  'search-tuning.js': 'text/javascript; charset=utf-8',
  'results-grid.js': 'text/javascript; charset=utf-8',
  'viewer.js': 'text/javascript; charset=utf-8',
  'vote-buttons.js': 'text/javascript; charset=utf-8',
  'voter-name.js': 'text/javascript; charset=utf-8',
  'url-state.js': 'text/javascript; charset=utf-8',
  'search-address.js': 'text/javascript; charset=utf-8',
  'recovery.js': 'text/javascript; charset=utf-8',
  'icons.js': 'text/javascript; charset=utf-8',
  'index-view.js': 'text/javascript; charset=utf-8',
  'eval-view.js': 'text/javascript; charset=utf-8',
  'models-view.js': 'text/javascript; charset=utf-8',
  'evaluations-api.js': 'text/javascript; charset=utf-8',
  'plot.js': 'text/javascript; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};
/** Paths that show the page (the script picks the view from the path). */
const PAGE_PATHS = ['/', '/index', '/eval', '/models'];

export function registerPageRoutes(app: FastifyInstance, context: RouteContext): void {
  const send = (file: string, type: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const body = await readFile(join(context.pageDir, file));
    return reply.header('content-type', type).header('cache-control', 'no-cache').send(body);
  };
  for (const path of PAGE_PATHS) app.get(path, send('index.html', 'text/html; charset=utf-8'));
  for (const [file, type] of Object.entries(PAGE_FILES)) app.get(`/static/${file}`, send(file, type));
}
