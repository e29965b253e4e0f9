// The original file of a local image, for the page's viewer and its download button. The viewer
// shows the original itself when browsers read its format, and otherwise (TIFF, HEIC) a large
// JPEG made from it, opened as indexing opens images (format check, pixel limits, decode budget).
// Which image may be read is decided by the caller (the web's scope); this only reads the file.
import { readImageFile } from '../core/image/image-files.js';
import { InvalidImageError, SessionError } from '../core/errors.js';
import { withOpenedImage } from '../core/image/image-decoder.js';
import { sniffImageFormat, type ImageFormat } from '../core/image/image-format.js';
import { contentHashOf, pointIdFor } from '../core/indexing/point-id.js';

/**
 * Longest side of the viewer's rendition of a format browsers cannot show: a full-screen view on
 * a 2x laptop screen (1366 px wide) with room to spare.
 */
const LARGE_RENDITION_MAX_SIDE = 2048;
/** JPEG quality of that rendition: looked at full screen, so higher than a thumbnail's. */
const LARGE_RENDITION_QUALITY = 85;

/** Formats every current browser shows in an <img>, with their content types. */
const BROWSER_FORMATS: Partial<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};
/** Content types of the other formats findimage indexes, for the download. */
const OTHER_FORMATS: Partial<Record<ImageFormat, string>> = { tiff: 'image/tiff', heif: 'image/heif' };

/** An image file ready to send. */
export interface ImageFile {
  /** The bytes. */
  bytes: Buffer;
  /** Its content type. */
  type: string;
}

/** What readOriginal needs to know of the indexed image. */
export interface IndexedOriginal {
  /** The image's id: derived from its tenant and the sha256 of the bytes that were indexed. */
  id: string;
  /** Its tenant (part of the id). */
  tenant: string;
  /** The path the index recorded. */
  path: string;
}

/** The message for a file at the recorded path whose bytes are no longer the ones indexed. */
export const CHANGED_SINCE_INDEXED =
  'The original file of this image changed since it was indexed, so it is not shown under this id. Index it again to see it.';

/**
 * The original file of an indexed image; SessionError('not_found') when it is gone, not a regular
 * file (a pipe would block a reader thread forever), over MAX_IMAGE_BYTES, no longer an image
 * findimage reads, or not the bytes that were indexed (a photo swapped in at that path was never
 * indexed, so a privacy delete could not reach it: it must not be served under the old id).
 */
export async function readOriginal(image: IndexedOriginal): Promise<ImageFile & { format: ImageFormat }> {
  let bytes: Buffer;
  try {
    // Opened without blocking and stat'ed before a byte is read: a FIFO or a folder is refused,
    // and a file that grew past the limit is never read whole.
    ({ bytes } = await readImageFile(image.path, 'The original file'));
  } catch (error) {
    // Too large, or growing while read: not the file that was indexed.
    if (error instanceof InvalidImageError) throw new SessionError('not_found', CHANGED_SINCE_INDEXED, { cause: error });
    throw new SessionError('not_found', 'The original file of this image is gone from this machine, or is no longer a regular file.', { cause: error });
  }
  if (pointIdFor(image.tenant, contentHashOf(bytes)) !== image.id) throw new SessionError('not_found', CHANGED_SINCE_INDEXED);
  const sniffed = sniffImageFormat(bytes);
  const type = sniffed.kind === 'image' ? (BROWSER_FORMATS[sniffed.format] ?? OTHER_FORMATS[sniffed.format]) : undefined;
  // Indexed bytes are an image findimage reads; this guards only against a format table that
  // lost an entry: never send bytes under an image type they do not have.
  if (sniffed.kind !== 'image' || type === undefined) throw new SessionError('not_found', 'The original file of this image is no longer an image findimage reads.');
  return { bytes, type, format: sniffed.format };
}

/** What the viewer shows for an original: itself when browsers read its format, else a JPEG of at most LARGE_RENDITION_MAX_SIDE. */
export async function viewerImage(original: ImageFile & { format: ImageFormat }): Promise<ImageFile> {
  if (BROWSER_FORMATS[original.format] !== undefined) return { bytes: original.bytes, type: original.type };
  return { bytes: await jpegRendition(original.bytes, LARGE_RENDITION_MAX_SIDE, LARGE_RENDITION_QUALITY), type: 'image/jpeg' };
}

/**
 * A JPEG of an image's bytes of at most `maxSide` on its longer side, never enlarged: the viewer's
 * large rendition and the grid's thumbnails. Opened as indexing opens images (format check, pixel
 * limits, the process's decode budget, EXIF rotation, alpha on white): an indexed image can be a
 * 118-megapixel bomb, and several grids may ask at once.
 */
export function jpegRendition(bytes: Uint8Array, maxSide: number, quality: number): Promise<Buffer> {
  return withOpenedImage(bytes, ({ pipeline }) =>
    pipeline.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality }).toBuffer(),
  );
}

/**
 * A Content-Disposition that saves the file under its own name: an ASCII fallback (quotes,
 * backslashes and controls replaced) and the exact name in RFC 5987 form for browsers that read it.
 */
export function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_') || 'image';
  // RFC 5987's attr-char has no ' ( ) *, which encodeURIComponent leaves as they are: an
  // apostrophe would end the value early ("it's (1).jpg").
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
