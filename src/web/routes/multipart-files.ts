// Reads the files of a multipart request, each cut off at MAX_IMAGE_BYTES while it arrives (a
// larger file is marked, never held whole in memory). The request as a whole was already capped
// by its Content-Length before any of it was read (see web-server.ts).
import type { FastifyRequest } from 'fastify';
import { InvalidImageError, InvalidQueryError } from '../../core/errors.js';
import { MAX_IMAGE_BYTES } from '../../core/image/image-decoder.js';

/** Multipart framing and form fields around the files: generous, since files are capped on their own. */
const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;
/**
 * Largest upload request: one file at the image limit (the page sends one file per request).
 * Told from Content-Length before any byte is read; a request without one (chunked) is counted
 * as it arrives and cut off here too.
 */
export const MAX_UPLOAD_REQUEST_BYTES = MAX_IMAGE_BYTES + MULTIPART_OVERHEAD_BYTES;

/** One uploaded file. */
export interface UploadedFile {
  /** The name the browser sent (not yet cleaned). */
  name: string;
  /** The bytes, or the first MAX_IMAGE_BYTES of them when `tooLarge`. */
  bytes: Uint8Array;
  /** The file was larger than MAX_IMAGE_BYTES and was cut. */
  tooLarge: boolean;
}

/** The files in field `file`, at most `maxFiles`. Throws InvalidQueryError for anything that is not multipart. */
export async function readUploadedFiles(request: FastifyRequest, maxFiles: number): Promise<UploadedFile[]> {
  if (!request.isMultipart()) {
    throw new InvalidQueryError('Send the images as multipart/form-data, in fields named "file".');
  }
  const files: UploadedFile[] = [];
  let total = 0;
  for await (const part of request.files({ limits: { files: maxFiles } })) {
    if (part.fieldname !== 'file') {
      part.file.resume();
      continue;
    }
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (total > MAX_UPLOAD_REQUEST_BYTES) {
      throw new InvalidImageError('image_too_large', `The upload is larger than ${MAX_UPLOAD_REQUEST_BYTES / 1024 / 1024} MB in all; send one image per request, up to ${MAX_IMAGE_BYTES / 1024 / 1024} MB each.`);
    }
    files.push({ name: decodeFormFileName(part.filename), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), tooLarge: part.file.truncated });
  }
  return files;
}

/**
 * Browsers send a file name's `"` as %22 and line breaks as %0D/%0A in multipart bodies (the HTML
 * form encoding); this turns the quote back, so the name reads as the person's file did. Line
 * breaks are dropped later with the other control characters.
 */
export function decodeFormFileName(name: string): string {
  return name.replace(/%22/g, '"').replace(/%0[DA]/gi, ' ');
}
