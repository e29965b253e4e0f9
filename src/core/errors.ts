// Typed errors for the whole product. Every failure a user can meet carries a string code (for
// adapters and exit codes) and a message the user can act on. Unknown errors are wrapped at the
// edge with asFindimageError(); nothing above core parses error strings.

export type ErrorCode =
  | 'config_invalid'
  | 'model_unknown'
  | 'model_missing'
  | 'model_download_failed'
  | 'model_checksum_mismatch'
  | 'model_load_failed'
  | 'device_unavailable'
  | 'image_invalid'
  | 'image_unsupported'
  | 'image_too_large'
  | 'image_too_small'
  | 'query_invalid'
  | 'store_unwritable'
  | 'store_unavailable'
  | 'store_auth'
  | 'store_schema_mismatch'
  | 'store_failed'
  | 'vector_invalid'
  | 'queue_full'
  | 'worker_crashed'
  | 'aborted'
  /**
   * An upload that will not be indexed because its message, file or conversation was deleted
   * while it waited (a fleet worker saw the deletion's mark): not a failure, the upload queue
   * reports it as withdrawn. Never transient.
   */
  | 'upload_withdrawn'
  | 'not_found'
  | 'session_refused'
  /** A dataset evaluation was asked for while another runs: one at a time. */
  | 'evaluation_busy'
  /** A dataset folder outside the folder evaluations may read, or not a dataset. */
  | 'dataset_refused'
  | 'platform_api'
  /** `findimage doctor` found at least one check that failed; its lines say which and what to do. */
  | 'checks_failed'
  | 'internal';

export interface FindimageErrorOptions {
  cause?: unknown;
  /** Machine-readable details for logs (never secrets). */
  details?: Record<string, unknown>;
  /**
   * What a chat user is told instead of `message`, when `message` is for whoever runs findimage
   * (it names internal URLs or paths, or gives advice such as a docker command).
   */
  publicMessage?: string;
}

/**
 * The base of every error findimage raises on purpose. `message` is written for the person who
 * ran the command or runs the server; `publicMessage`, when set, is the shorter one for chat.
 */
export class FindimageError extends Error {
  /** What kind of failure, for adapters, exit codes and the retry decision (isTransient). */
  readonly code: ErrorCode;
  /** Machine-readable details for logs (never secrets). */
  readonly details: Record<string, unknown>;
  /**
   * The message for chat users, free of internal URLs, paths and operator advice; undefined
   * when `message` itself is fit for them. Read it through publicMessageOf().
   */
  readonly publicMessage: string | undefined;

  constructor(code: ErrorCode, message: string, options: FindimageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
    this.publicMessage = options.publicMessage;
  }
}

/** What a chat user is told about `error`: its public message, or else its message. */
export function publicMessageOf(error: FindimageError): string {
  return error.publicMessage ?? error.message;
}

/** A setting is missing or malformed; the message names the variable and what it accepts. */
export class ConfigError extends FindimageError {
  constructor(message: string, options?: FindimageErrorOptions) {
    super('config_invalid', message, options);
  }
}

/** The model is unknown, missing, corrupt or could not be downloaded. */
export class ModelError extends FindimageError {}

/** An image was refused: empty, not an image, corrupt, too large or small, or of a format not read. */
export class InvalidImageError extends FindimageError {
  constructor(
    code: Extract<
      ErrorCode,
      'image_invalid' | 'image_unsupported' | 'image_too_large' | 'image_too_small'
    >,
    message: string,
    options?: FindimageErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** A search query that cannot be run as given (empty, only filters, malformed filter). */
export class InvalidQueryError extends FindimageError {
  constructor(message: string, options?: FindimageErrorOptions) {
    super('query_invalid', message, options);
  }
}

/** Where in the typed query a problem lies: UTF-16 offsets, as JavaScript strings count. */
export interface QuerySpan {
  /** Offset of the first character at fault. */
  start: number;
  /** Offset just past the last character at fault. */
  end: number;
}

/**
 * A query the search box's language cannot read (a bad date, a filter with no value, too many
 * -terms), with the part at fault, so a front end can point at it under the box.
 */
export class QuerySyntaxError extends InvalidQueryError {
  /** The part of the query as typed that is at fault. */
  readonly span: QuerySpan;

  constructor(message: string, span: QuerySpan, options?: FindimageErrorOptions) {
    super(message, options);
    this.span = span;
  }
}

/**
 * A search-session request that cannot be carried out for this person here: a page, vote or send
 * from another conversation or workspace, a search that is gone, an image since deleted.
 */
export class SessionError extends FindimageError {
  constructor(code: Extract<ErrorCode, 'session_refused' | 'not_found'>, message: string, options?: FindimageErrorOptions) {
    super(code, message, options);
  }
}

/**
 * What chat users are told while the image index cannot be reached (Qdrant down or restarting,
 * a proxy in front of it redeploying): short, and without the URL or the advice for operators.
 */
export const STORE_UNAVAILABLE_PUBLIC_MESSAGE = 'Search is unavailable right now; please try again in a minute.';

/** What chat users are told when the image index refuses findimage in a way only an admin can fix. */
export const STORE_BROKEN_PUBLIC_MESSAGE =
  "The image index isn't working right now, in a way only an admin can fix. The details are in findimage's log.";

/** The chat message a StoreError of this code gets by default (none for vector_invalid and the like). */
function storePublicMessage(code: ErrorCode): string | undefined {
  if (code === 'store_unavailable') return STORE_UNAVAILABLE_PUBLIC_MESSAGE;
  return code.startsWith('store_') ? STORE_BROKEN_PUBLIC_MESSAGE : undefined;
}

/**
 * The vector store failed: unwritable directory, server down, wrong key or schema. Its message
 * names URLs, paths and what to run, so chat users get STORE_UNAVAILABLE_PUBLIC_MESSAGE or, for
 * the other store_* codes, STORE_BROKEN_PUBLIC_MESSAGE, unless the error gives its own.
 */
export class StoreError extends FindimageError {
  constructor(code: ErrorCode, message: string, options: FindimageErrorOptions = {}) {
    super(code, message, { ...options, publicMessage: options.publicMessage ?? storePublicMessage(code) });
  }
}

/** A dataset evaluation that cannot start as asked: another is running, or the dataset is refused. */
export class EvaluationError extends FindimageError {
  constructor(code: Extract<ErrorCode, 'evaluation_busy' | 'dataset_refused' | 'not_found'>, message: string, options?: FindimageErrorOptions) {
    super(code, message, options);
  }
}

/** The embedding pool refused or lost work: queue full, worker crashed, aborted. */
export class EmbeddingError extends FindimageError {}

/** True when retrying the same call later may succeed (server down, queue full, crash). */
export function isTransient(error: FindimageError): boolean {
  return (
    error.code === 'store_unavailable' ||
    error.code === 'queue_full' ||
    error.code === 'worker_crashed' ||
    error.code === 'model_download_failed'
  );
}

/** Wraps anything thrown into a FindimageError, keeping the original as `cause`. */
export function asFindimageError(error: unknown): FindimageError {
  if (error instanceof FindimageError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new FindimageError('aborted', 'The operation was cancelled.', { cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new FindimageError('internal', `Something went wrong inside findimage: ${text}`, {
    cause: error,
  });
}
