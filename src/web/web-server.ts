// The web app's HTTP server (Fastify): the page, the JSON API it uses, and the operations
// endpoints. It starts listening before the core has loaded; routes that need the core answer
// 503 with Retry-After until then.
import { join } from 'node:path';
import { parse as parseForm } from 'node:querystring';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FindimageError } from '../core/errors.js';
import { MAX_IMAGE_BYTES } from '../core/image/image-decoder.js';
import { packageRoot } from '../core/models/package-root.js';
import { bodyOf, httpStatusOf } from './api-errors.js';
import { AuthFailureLimit, type AuthFailureLimitOptions } from './auth-failure-limit.js';
import { CoreHolder } from './core-holder.js';
import type { RouteContext } from './route-context.js';
import type { EvaluationRuns } from '../core/evaluation/evaluation-runs.js';
import { registerEvaluationRoutes } from './routes/evaluation-routes.js';
import { registerImageRoutes, MAX_FILES_PER_UPLOAD } from './routes/image-routes.js';
import { registerLabelRoutes } from './routes/label-routes.js';
import { registerLoginRoutes } from './routes/login-routes.js';
import { MAX_UPLOAD_REQUEST_BYTES } from './routes/multipart-files.js';
import { registerPageRoutes } from './routes/page-routes.js';
import { registerSearchRoutes } from './routes/search-routes.js';
import { registerStatusRoutes } from './routes/status-routes.js';
import { Thumbnails } from './thumbnails.js';
import { checkListenAddress, refuseCrossSite, refuseForeignHost, requireToken } from './web-access.js';
import { WebMetrics, currentBuild } from './web-metrics.js';
import { WebUploads } from './web-uploads.js';

/** Largest JSON body (a vote is a few hundred bytes). */
const MAX_JSON_BODY_BYTES = 64 * 1024;
/**
 * Sent with every response, the login page and errors included. The page runs only its own
 * scripts and talks only to this server: a file name with markup in it could never run even if
 * it reached the DOM as HTML, and no other site may frame the login form.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
/** Routes that take files. */
const UPLOAD_ROUTES = new Set(['/api/images', '/api/search/image']);

/** Where the built page lives in the package (npm run build writes it). */
export function defaultPageDir(): string {
  return join(packageRoot(), 'dist', 'web', 'page');
}

export interface WebServerOptions {
  /** Address to listen on (FINDIMAGE_WEB_HOST). */
  host: string;
  /** Port (FINDIMAGE_WEB_PORT); 0 picks a free one. */
  port: number;
  /** FINDIMAGE_WEB_TOKEN; required off loopback. */
  token?: string;
  /** FINDIMAGE_DATA: originals of uploaded images and cached thumbnails live below it. */
  dataDir: string;
  /** The server's log (requests are not logged one by one; failures are). */
  logger: Logger;
  /** The built page; defaultPageDir() unless given (tests build their own). */
  pageDir?: string;
  /** How long an upload's answer waits for the queue (tests shorten it). */
  uploadVerdictWaitMs?: number;
  /**
   * FINDIMAGE_WEB_TRUST_PROXY: the proxies whose X-Forwarded-For / -Proto / -Host are believed
   * (Fastify's trustProxy), so the client address and HTTPS are the browser's, not the proxy's.
   * Unset: none.
   */
  trustProxy?: boolean | string[];
  /** Limits on wrong tokens; the defaults in auth-failure-limit.ts unless given (tests shorten them). */
  authFailureLimit?: AuthFailureLimitOptions;
  /** Dataset evaluations for the "Evaluate models" page; without them its API answers 404. Closed with the server. */
  evaluations?: EvaluationRuns;
}

/** A running web server. */
export interface WebServer {
  /** The Fastify instance (tests call inject()). */
  readonly app: FastifyInstance;
  /** Give it the core once it is open. */
  readonly core: CoreHolder;
  /** The metrics /metrics renders. */
  readonly metrics: WebMetrics;
  /** The address it listens on, such as http://127.0.0.1:8765/. */
  readonly url: string;
  /** Stops listening and lets go of the upload queue. */
  close(): Promise<void>;
}

/**
 * Builds the app without listening (tests inject requests). Throws ConfigError when `host` is
 * off loopback and no token is set.
 */
export async function buildWebApp(options: WebServerOptions): Promise<{ app: FastifyInstance; core: CoreHolder; metrics: WebMetrics; closeUploads(): void }> {
  checkListenAddress(options.host, options.token);
  const core = new CoreHolder();
  const metrics = new WebMetrics(core, currentBuild());
  const logger = options.logger.child({ component: 'web' });
  let uploads: WebUploads | undefined;
  // In a fleet the core's coordination shares thumbnails through Redis; known once the core is open.
  const thumbnails = new Thumbnails(join(options.dataDir, 'thumbnails'), { shared: () => core.findimage?.coordination.thumbnails });
  const context: RouteContext = {
    core,
    metrics,
    uploads: () => {
      const findimage = core.findimage;
      if (findimage === undefined) return undefined;
      uploads ??= new WebUploads({
        queue: findimage.uploads,
        dir: join(options.dataDir, 'web-uploads'),
        metrics,
        thumbnails,
        logger,
        ...(options.uploadVerdictWaitMs === undefined ? {} : { verdictWaitMs: options.uploadVerdictWaitMs }),
      });
      return uploads;
    },
    thumbnails,
    pageDir: options.pageDir ?? defaultPageDir(),
    logger,
  };

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_JSON_BODY_BYTES,
    ajv: { customOptions: { coerceTypes: true } },
    trustProxy: options.trustProxy ?? false,
  });
  // Not global: only wrong tokens are counted (AuthFailureLimit), never ordinary requests.
  await app.register(rateLimit, { global: false });
  const authFailures = new AuthFailureLimit(app, options.authFailureLimit);
  await app.register(multipart, { limits: { fileSize: MAX_IMAGE_BYTES, files: MAX_FILES_PER_UPLOAD, fields: 10, fieldSize: 1024 }, throwFileSizeLimit: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_JSON_BODY_BYTES }, (_request, body, done) => {
    done(null, parseForm(String(body)));
  });

  app.addHook('onRequest', refuseForeignHost(options.token));
  app.addHook('onRequest', requireToken(options.token, authFailures));
  app.addHook('onRequest', refuseCrossSite);
  // Uploads are refused from their declared length, before any of the body is read.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !UPLOAD_ROUTES.has(request.url.split('?')[0] ?? '')) return;
    const length = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > MAX_UPLOAD_REQUEST_BYTES) {
      metrics.errors.inc({ code: 'image_too_large' });
      await reply
        .code(413)
        .header('connection', 'close')
        .send({ error: 'image_too_large', message: `The upload is ${(length / 1024 / 1024).toFixed(1)} MB; findimage reads images up to ${MAX_IMAGE_BYTES / 1024 / 1024} MB, one per request.` });
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('content-security-policy', CONTENT_SECURITY_POLICY);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, never the URL: ids and query strings would make one series per request.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError | FindimageError, request, reply) => {
    if (error instanceof FindimageError) {
      const status = httpStatusOf(error);
      metrics.errors.inc({ code: error.code });
      if (status >= 500) logger.warn({ err: error, code: error.code, route: request.routeOptions.url }, 'request failed');
      if (status === 503) void reply.header('retry-after', '5');
      return reply.code(status).send(bodyOf(error));
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      const code = error.validation !== undefined ? 'bad_request' : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'too_large' : 'bad_request';
      metrics.errors.inc({ code });
      const message = error.validation !== undefined ? `Bad request: ${error.message}.` : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'The body is not valid JSON.' : error.message;
      return reply.code(status).send({ error: code, message });
    }
    metrics.errors.inc({ code: 'internal' });
    logger.error({ err: error, route: request.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'Something went wrong on the server; see its log.' });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'not_found', message: `Nothing at ${request.method} ${request.url.split('?')[0]}.` });
  });

  registerLoginRoutes(app, options.token, authFailures);
  registerPageRoutes(app, context);
  registerSearchRoutes(app, context);
  registerImageRoutes(app, context);
  registerLabelRoutes(app, context);
  registerStatusRoutes(app, context);
  if (options.evaluations !== undefined) registerEvaluationRoutes(app, options.evaluations);
  return { app, core, metrics, closeUploads: () => uploads?.close() };
}

/** Builds the app and listens on host:port. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { app, core, metrics, closeUploads } = await buildWebApp(options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    app,
    core,
    metrics,
    url: `http://${host}:${port}/`,
    close: async () => {
      closeUploads();
      // A running evaluation is cancelled; its record says so.
      await options.evaluations?.close();
      await app.close();
    },
  };
}
