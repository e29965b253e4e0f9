// How failures reach the browser: a status code by error code, and a JSON body with the code and
// a message a person can act on. Internal details (URLs, paths) stay in the server's log.
import { FindimageError, QuerySyntaxError, publicMessageOf, type QuerySpan } from '../core/errors.js';

/** The JSON body of every refusal. */
export interface ApiErrorBody {
  /** Machine-readable code ("query_invalid", "not_found", "not_ready", ...). */
  error: string;
  /** What went wrong, for people. */
  message: string;
  /** For a query the search box's language cannot read: the part of `q` at fault (UTF-16 offsets). */
  span?: QuerySpan;
}

/** Seconds a client is told to wait before retrying while the core loads or the store is down. */
export const RETRY_AFTER_S = 5;

/** HTTP status for a FindimageError code. */
export function httpStatusOf(error: FindimageError): number {
  switch (error.code) {
    case 'query_invalid':
    case 'image_invalid':
    case 'image_unsupported':
    case 'image_too_small':
    case 'session_refused':
    case 'dataset_refused':
    case 'model_unknown':
      return 400;
    case 'evaluation_busy':
      return 409;
    case 'image_too_large':
      return 413;
    case 'not_found':
      return 404;
    case 'store_unavailable':
    case 'queue_full':
    case 'worker_crashed':
      return 503;
    default:
      return 500;
  }
}

/** The body for an error: its public message (free of internal URLs). */
export function bodyOf(error: FindimageError): ApiErrorBody {
  const body: ApiErrorBody = { error: error.code, message: publicMessageOf(error) };
  if (error instanceof QuerySyntaxError) body.span = { start: error.span.start, end: error.span.end };
  return body;
}
