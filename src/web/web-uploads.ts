// Images uploaded on the index page: checked, kept on disk (the grid shows thumbnails made from
// them), then indexed through the durable upload queue, like every chat upload. The answer waits
// a while for the queue's verdict so the page can say "indexed" or why not; a slow one is
// answered "queued" and finishes in the background. In a fleet its thumbnail is made and shared
// before the answer, since only this replica holds the original the others would make it from.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Logger } from 'pino';
import { publicMessageOf } from '../core/errors.js';
import { MAX_IMAGE_BYTES } from '../core/image/image-decoder.js';
import { ACCEPTED_FORMATS_TEXT, sniffImageFormat } from '../core/image/image-format.js';
import { contentHashOf, pointIdFor } from '../core/indexing/point-id.js';
import type { UploadOutcome, UploadQueue } from '../core/indexing/upload-queue.js';
import type { IndexedOriginal } from './originals.js';
import type { WebMetrics } from './web-metrics.js';

/** The tenant of everything the web app shows and stores: the CLI's, never a chat workspace's. */
export const WEB_TENANT = 'local';
/** Source recorded for images uploaded on the page. */
export const WEB_SOURCE = 'local';
/** How long an upload's answer waits for the queue's verdict before saying "queued". */
export const UPLOAD_VERDICT_WAIT_MS = 60_000;
/** Longest file name kept; longer ones are cut (names are shown, never used as paths). */
export const MAX_FILENAME_CHARS = 200;

const MEGABYTE = 1024 * 1024;
/** Why a file over MAX_IMAGE_BYTES is refused. */
export const TOO_LARGE_REASON = `The file is larger than ${MAX_IMAGE_BYTES / MEGABYTE} MB; findimage reads images up to ${MAX_IMAGE_BYTES / MEGABYTE} MB.`;

/** What became of one uploaded file. */
export type UploadAnswer =
  /** Indexed now, already indexed, or still in the queue (it will be indexed or refused later). */
  | { name: string; status: 'indexed' | 'duplicate' | 'queued'; id: string }
  /** Refused; `reason` says why, `code` is the error code. */
  | { name: string; status: 'refused'; code: string; reason: string };

/**
 * A file name as shown: the last path component, without control characters, cut to
 * MAX_FILENAME_CHARS. Markup in it stays as text: the page never renders names as HTML.
 */
export function cleanFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = Array.from(base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim()).slice(0, MAX_FILENAME_CHARS).join('');
  return clean === '' ? 'upload' : clean;
}

export interface WebUploadsOptions {
  /** The durable upload queue every upload goes through. */
  queue: UploadQueue;
  /** Where originals are kept (FINDIMAGE_DATA/web-uploads). */
  dir: string;
  /** Counts uploads, refusals and the queue's age. */
  metrics: WebMetrics;
  /** How long to wait for a verdict; UPLOAD_VERDICT_WAIT_MS by default. */
  verdictWaitMs?: number;
  /** Shares each taken upload's thumbnail with the fleet (does nothing on one machine). */
  thumbnails?: { share(image: IndexedOriginal): Promise<void> };
  /** Where a thumbnail that could not be shared is logged. */
  logger?: Logger;
}

/** Takes uploaded files into the queue. */
export class WebUploads {
  readonly #queue: UploadQueue;
  readonly #dir: string;
  readonly #metrics: WebMetrics;
  readonly #verdictWaitMs: number;
  readonly #thumbnails: WebUploadsOptions['thumbnails'];
  readonly #logger: Logger | undefined;
  readonly #waiting = new Map<string, (outcome: UploadOutcome) => void>();
  readonly #unsubscribe: () => void;

  constructor(options: WebUploadsOptions) {
    this.#queue = options.queue;
    this.#dir = options.dir;
    this.#metrics = options.metrics;
    this.#verdictWaitMs = options.verdictWaitMs ?? UPLOAD_VERDICT_WAIT_MS;
    this.#thumbnails = options.thumbnails;
    this.#logger = options.logger;
    this.#unsubscribe = this.#queue.onOutcome((outcome) => {
      this.#metrics.finished(outcome.jobId);
      if (outcome.status === 'rejected') this.#metrics.errors.inc({ code: outcome.error.code });
      this.#waiting.get(outcome.jobId)?.(outcome);
    });
  }

  /** Stops listening to the queue. */
  close(): void {
    this.#unsubscribe();
  }

  /** A refusal for a file that was cut at the size limit while it arrived. */
  static tooLarge(name: string): UploadAnswer {
    return {
      name: cleanFileName(name),
      status: 'refused',
      code: 'image_too_large',
      reason: TOO_LARGE_REASON,
    };
  }

  /** Checks one file, keeps it, queues it, and waits (a while) for the verdict. */
  async take(rawName: string | undefined, bytes: Uint8Array): Promise<UploadAnswer> {
    const name = cleanFileName(rawName);
    const refusal = refusalOf(bytes);
    if (refusal !== undefined) {
      this.#metrics.uploads.inc({ status: 'refused' });
      this.#metrics.errors.inc({ code: refusal.code });
      return { name, status: 'refused', ...refusal };
    }
    const contentHash = contentHashOf(bytes);
    const id = pointIdFor(WEB_TENANT, contentHash);
    const path = await this.#keep(contentHash, name, bytes);
    const jobId = this.#queue.enqueue({ tenant: WEB_TENANT, source: WEB_SOURCE, filename: name, bytes, path, createdAt: new Date() });
    this.#metrics.queued(jobId);
    // The queue reports outcomes from a later turn of the event loop, so listening now misses none.
    const verdict = new Promise<UploadOutcome | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.#verdictWaitMs);
      this.#waiting.set(jobId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
    const outcome = await verdict;
    this.#waiting.delete(jobId);
    if (outcome === undefined) {
      await this.#shareThumbnail({ id, tenant: WEB_TENANT, path });
      this.#metrics.uploads.inc({ status: 'queued' });
      return { name, status: 'queued', id };
    }
    if (outcome.status === 'rejected') {
      this.#metrics.uploads.inc({ status: 'refused' });
      return { name, status: 'refused', code: outcome.error.code, reason: publicMessageOf(outcome.error) };
    }
    if (outcome.status === 'withdrawn') {
      // Only a chat share can be deleted while queued; kept for the type's sake, worded for a person.
      this.#metrics.uploads.inc({ status: 'refused' });
      return { name, status: 'refused', code: 'not_found', reason: 'It was deleted before it was indexed.' };
    }
    await this.#shareThumbnail({ id: outcome.result.id, tenant: WEB_TENANT, path });
    this.#metrics.uploads.inc({ status: outcome.status });
    return { name, status: outcome.status, id: outcome.result.id };
  }

  /**
   * Shares the thumbnail of an upload taken (fleet only). A failure is logged and the upload
   * still answered: the thumbnail is made again when this replica is asked for it.
   */
  async #shareThumbnail(image: IndexedOriginal): Promise<void> {
    try {
      await this.#thumbnails?.share(image);
    } catch (error) {
      this.#logger?.warn({ err: error, id: image.id }, 'could not make the thumbnail of an upload to share it; it is made when first viewed here');
    }
  }

  /** Writes the original under its content hash (the same bytes twice are one file). */
  async #keep(contentHash: string, name: string, bytes: Uint8Array): Promise<string> {
    await mkdir(this.#dir, { recursive: true });
    const extension = extname(name).toLowerCase().replace(/[^.a-z0-9]/g, '').slice(0, 6);
    const path = join(this.#dir, `${contentHash}${extension}`);
    const partial = `${path}.${process.pid}.part`;
    await writeFile(partial, bytes);
    await rename(partial, path);
    return path;
  }
}

/** Why `bytes` cannot be an image findimage reads, told from their first bytes; undefined if they may be. */
function refusalOf(bytes: Uint8Array): { code: string; reason: string } | undefined {
  if (bytes.length === 0) return { code: 'image_invalid', reason: 'The file is empty (0 bytes): there is no image in it.' };
  if (bytes.length > MAX_IMAGE_BYTES) return { code: 'image_too_large', reason: TOO_LARGE_REASON };
  const sniffed = sniffImageFormat(bytes);
  switch (sniffed.kind) {
    case 'image':
      return undefined;
    case 'svg':
      return { code: 'image_unsupported', reason: `This file is an SVG drawing; findimage does not index SVG. It reads ${ACCEPTED_FORMATS_TEXT}.` };
    case 'unsupported-image':
      return { code: 'image_unsupported', reason: `This file is ${sniffed.name}, a format findimage does not read. It reads ${ACCEPTED_FORMATS_TEXT}.` };
    case 'not-image':
      return { code: 'image_unsupported', reason: `This file is ${sniffed.name}, not an image. findimage reads ${ACCEPTED_FORMATS_TEXT}.` };
    default:
      return { code: 'image_unsupported', reason: `This file is not an image findimage reads (${ACCEPTED_FORMATS_TEXT}).` };
  }
}
