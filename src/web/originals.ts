// The original file of a local image, for the page's viewer and its download button. The viewer
// shows the original itself when browsers read its format, and otherwise (TIFF, HEIC) a large
// JPEG made from it, opened as indexing opens images (format check, pixel limits, decode budget).
// Which image may be read is decided by the caller (the web's scope); this only reads the file.
import { readFile } from 'node:fs/promises';
import { SessionError } from '../core/errors.js';
import { withOpenedImage } from '../core/image/image-decoder.js';
import { sniffImageFormat, type ImageFormat } from '../core/image/image-format.js';

/**
 * Longest side of the viewer's rendition of a format browsers cannot show: a full-screen view on
 * a 2x laptop screen (1366 px wide) with room to spare.
 */
export const LARGE_RENDITION_MAX_SIDE = 2048;
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

/** The original file at `path`; SessionError('not_found') when it is gone or no longer an image findimage reads. */
export async function readOriginal(path: string): Promise<ImageFile & { format: ImageFormat }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SessionError('not_found', 'The original file of this image is gone from this machine.', { cause: error });
  }
  const sniffed = sniffImageFormat(bytes);
  const type = sniffed.kind === 'image' ? (BROWSER_FORMATS[sniffed.format] ?? OTHER_FORMATS[sniffed.format]) : undefined;
  // The file changed since it was indexed (replaced by something that is not an image): never
  // send bytes under an image type they do not have.
  if (sniffed.kind !== 'image' || type === undefined) throw new SessionError('not_found', 'The original file of this image is no longer an image findimage reads.');
  return { bytes, type, format: sniffed.format };
}

/** What the viewer shows for an original: itself when browsers read its format, else a JPEG of at most LARGE_RENDITION_MAX_SIDE. */
export async function viewerImage(original: ImageFile & { format: ImageFormat }): Promise<ImageFile> {
  if (BROWSER_FORMATS[original.format] !== undefined) return { bytes: original.bytes, type: original.type };
  const bytes = await withOpenedImage(original.bytes, ({ pipeline }) =>
    pipeline
      .resize(LARGE_RENDITION_MAX_SIDE, LARGE_RENDITION_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: LARGE_RENDITION_QUALITY })
      .toBuffer(),
  );
  return { bytes, type: 'image/jpeg' };
}

/**
 * A Content-Disposition that saves the file under its own name: an ASCII fallback (quotes,
 * backslashes and controls replaced) and the exact name in RFC 5987 form for browsers that read it.
 */
export function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_') || 'image';
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
