// What travels through the fleet's index queue: one job per image, carrying what a worker on
// another machine needs to index it (the image's description, and its bytes or, for a chat
// upload, the platform's file reference), and what comes back (the stored result, or why it
// never will be stored).
import { FindimageError, InvalidImageError, StoreError, type ErrorCode } from '../errors.js';
import type { ImageToIndex, IndexResult } from '../indexing/image-indexer.js';
import { queuedImageOf, type QueuedImage } from '../indexing/queued-image.js';
import type { RemoteFile } from './remote-file.js';

/** A job's data: JSON, so the bytes go as base64. */
export interface IndexJobData {
  /** The image without its bytes; createdAt as ISO text. */
  image: Omit<QueuedImage, 'createdAt' | 'remote'> & { createdAt?: string };
  /** The image's bytes, base64; absent when `file` says where the worker downloads them. */
  bytes?: string;
  /** A chat upload's file on its platform, which the worker downloads with the bot's token. */
  file?: RemoteFile;
  /** Failures that may pass (the store down) retried so far: they spend no attempt. */
  transientTries?: number;
  /** Set by the worker before the job's last failure: why it will never be indexed. */
  failure?: JobFailure;
  /** Set by the worker once the image is stored (the bytes are dropped then): the job's result. */
  result?: IndexJobResult;
}

/** Why a job failed, as the worker saw it (an error's code and both its messages). */
export interface JobFailure {
  code: ErrorCode;
  /** For whoever runs findimage. */
  message: string;
  /** For the chat user who shared the image, when it differs. */
  publicMessage?: string;
}

/**
 * What a finished job returns, JSON: the IndexResult, or "withdrawn" when the image's message,
 * file or conversation was deleted before or while it was written (share-marks.ts).
 */
export type IndexJobResult = IndexResult | WithdrawnJobResult;

/** A job whose image was not indexed, or was taken off again, because its share was deleted. */
export interface WithdrawnJobResult {
  status: 'withdrawn';
}

/** A job's data for an image: its bytes, or for a chat upload queued by reference, its file. */
export function jobDataOf(image: ImageToIndex): IndexJobData {
  const { bytes, createdAt, remote, ...rest } = image;
  const described = { ...rest, ...(createdAt === undefined ? {} : { createdAt: createdAt.toISOString() }) };
  if (remote !== undefined) return { image: described, file: remote };
  return { image: described, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/**
 * The image a job describes. A job with a `file` gives an image with empty bytes and `remote`
 * set: the worker fetches its bytes (remote-file.ts withBytes()) before ImageIndexer takes it.
 */
export function imageOfJob(data: IndexJobData): ImageToIndex {
  const image = queuedImageOf(JSON.stringify({ ...data.image, createdAt: data.image.createdAt ?? new Date().toISOString() }));
  if (data.file !== undefined) return { ...image, bytes: new Uint8Array(0), remote: data.file };
  return { ...image, bytes: new Uint8Array(Buffer.from(data.bytes ?? '', 'base64')) };
}

/** The separator between an error's code and its message in a failed job's reason. */
const REASON_SEPARATOR = ': ';

/** A failed job's reason as BullMQ keeps it (and `fleet status` shows it): "code: message". */
export function reasonOf(error: FindimageError): string {
  return `${error.code}${REASON_SEPARATOR}${error.message}`;
}

/** The error a failed job reports: from the failure the worker recorded, else from its reason text. */
export function errorOfFailedJob(data: IndexJobData | undefined, failedReason: string | undefined): FindimageError {
  const failure = data?.failure;
  if (failure !== undefined) {
    return errorOf(failure.code, failure.message, failure.publicMessage === undefined ? {} : { publicMessage: failure.publicMessage });
  }
  const reason = failedReason ?? 'The image could not be indexed.';
  const match = /^([a-z_]+): (.*)$/s.exec(reason);
  // A reason without a code (BullMQ failed a job that lost its workers too often): nothing more is known.
  if (match === null) return new FindimageError('internal', reason, { publicMessage: 'Indexing this image kept failing.' });
  return errorOf(match[1] as ErrorCode, match[2] as string);
}

/**
 * The error of `code` as the worker raised it, of the same class, so that callers which sort
 * failures by class (`findimage index` lists an InvalidImageError as a skipped file) treat a
 * failure in the fleet as they treat one here.
 */
function errorOf(code: ErrorCode, message: string, options: { publicMessage?: string } = {}): FindimageError {
  if (code === 'image_invalid' || code === 'image_unsupported' || code === 'image_too_large' || code === 'image_too_small') {
    return new InvalidImageError(code, message, options);
  }
  if (code.startsWith('store_')) return new StoreError(code, message, options);
  return new FindimageError(code, message, options);
}
