// Reading a chat platform's file download without holding more than a set number of bytes:
// the size the platform declares and the response's Content-Length are checked before the body
// is read, and the body is read chunk by chunk and abandoned once it passes the cap. Slack's
// and Discord's downloaders share it; each keeps its own host allow-list and wording.
import { InvalidImageError } from '../core/errors.js';

/** Content types platforms serve images under besides image/*: downloads are often generic binary. */
const GENERIC_BINARY_TYPES: ReadonlySet<string> = new Set(['application/octet-stream', 'binary/octet-stream']);

/** Below this size a refusal shows one decimal ("9.5 MB"); above it, whole megabytes. */
const DECIMAL_MEGABYTES_BELOW = 10 * 1024 * 1024;

/** The file a download is for, as a refusal names it. */
export interface DownloadSubject {
  /** File name as uploaded; the uploader reads it in the refusal. */
  name: string;
  /** Ids for the log (a Slack file id, a Discord attachment id), merged into the error's details. */
  details: Record<string, unknown>;
}

/** A size as a person reads it: "3.2 MB", "120 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < DECIMAL_MEGABYTES_BELOW ? 1 : 0)} MB`;
}

/** The response's media type, lower case and without parameters ("" when absent). */
export function mediaTypeOf(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Whether a media type may hold an image (the bytes are checked again when decoded). */
export function mayBeImage(mediaType: string): boolean {
  return mediaType.startsWith('image/') || GENERIC_BINARY_TYPES.has(mediaType);
}

/**
 * The byte cap on one platform's downloads. Each file is held whole (in memory, then in the
 * upload queue) until it is indexed, so nothing over the cap is ever read into memory.
 */
export class DownloadCap {
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Throws image_too_large when the platform already says the file is over the cap (no request needed). */
  checkDeclared(subject: DownloadSubject, size: number | undefined): void {
    if (size !== undefined && size > this.maxBytes) throw this.tooLarge(subject, size);
  }

  /** Throws image_too_large when the response's Content-Length is over the cap, before the body is read. */
  checkContentLength(subject: DownloadSubject, response: Response): void {
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(length) && length > this.maxBytes) throw this.tooLarge(subject, length);
  }

  /**
   * The whole body, read chunk by chunk; a body that passes the cap (Content-Length missing or
   * wrong) is cancelled and refused with image_too_large.
   */
  async read(subject: DownloadSubject, response: Response): Promise<Uint8Array> {
    const reader = response.body?.getReader();
    if (reader === undefined) return new Uint8Array();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.maxBytes) {
        await reader.cancel();
        throw this.tooLarge(subject, total, true);
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  }

  /**
   * The refusal the uploader reads. `atLeast`: the body was cut off at `size`, so only "over the
   * cap" is known, not the file's real size.
   */
  tooLarge(subject: DownloadSubject, size: number, atLeast = false): InvalidImageError {
    return new InvalidImageError(
      'image_too_large',
      atLeast
        ? `${subject.name} is over ${megabytes(this.maxBytes)}, the largest image I index.`
        : `${subject.name} is ${megabytes(size)}; I index images up to ${megabytes(this.maxBytes)}.`,
      { details: { ...subject.details, size, maxBytes: this.maxBytes } },
    );
  }
}
