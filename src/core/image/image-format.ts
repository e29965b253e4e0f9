// Tells what a file really is from its first bytes (magic numbers), never from its name, so that
// only formats findimage decodes reach a decoder and a refusal can say what the file was.

/** The image formats findimage decodes; the names are the ones stored with each image. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff' | 'heif';

/** The accepted formats in words, for messages that refuse a file. */
export const ACCEPTED_FORMATS_TEXT = 'JPEG, PNG, WebP, GIF, AVIF, TIFF and HEIC/HEIF';

/** What the first bytes of a file say it is. */
export type SniffedFormat =
  /** An image in a format findimage decodes. */
  | { kind: 'image'; format: ImageFormat }
  /** An SVG drawing: refused, since rasterising it could fetch external references. */
  | { kind: 'svg' }
  /** An image in a format findimage does not decode (BMP, ICO, PSD, JPEG XL...). */
  | { kind: 'unsupported-image'; name: string }
  /** A known kind of file that is not an image (PDF, text, archive, video...). */
  | { kind: 'not-image'; name: string }
  /** Nothing recognised. */
  | { kind: 'unknown' };

/**
 * How much of the start of a file is read to tell text from binary and to find an <svg> tag.
 * SVG files from editors open with an XML declaration, a comment and a DOCTYPE; 4 KiB covers
 * these preambles while keeping the check cheap on a 50 MB upload.
 */
const TEXT_SNIFF_BYTES = 4096;

/** ISO base media (HEIF, AVIF, MP4, QuickTime) major and compatible brands, by meaning. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const GENERIC_HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);
const VIDEO_BRANDS = new Set([
  'isom',
  'iso2',
  'iso4',
  'iso5',
  'iso6',
  'mp41',
  'mp42',
  'mp71',
  'avc1',
  'dash',
  'm4v ',
  'm4a ',
  'qt  ',
  '3gp4',
  '3gp5',
  '3gp6',
  '3g2a',
  'f4v ',
]);

/** Reads what the first bytes of a file say it is. Never throws. */
export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return image('jpeg');
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image('png');
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return image('gif');
  if (ascii(bytes, 0, 4) === 'RIFF') return sniffRiff(bytes);
  // Little- and big-endian TIFF, and BigTIFF (43 in place of 42).
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return image('tiff');
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) {
    return image('tiff');
  }
  if (ascii(bytes, 4, 8) === 'ftyp') return sniffIsoMedia(bytes);
  return sniffOther(bytes);
}

function image(format: ImageFormat): SniffedFormat {
  return { kind: 'image', format };
}

function sniffRiff(bytes: Uint8Array): SniffedFormat {
  const type = ascii(bytes, 8, 12);
  if (type === 'WEBP') return image('webp');
  if (type === 'WAVE') return { kind: 'not-image', name: 'a WAV audio file' };
  if (type === 'AVI ') return { kind: 'not-image', name: 'an AVI video' };
  return { kind: 'unknown' };
}

/** HEIF, AVIF and MP4 share one container; the brands in the `ftyp` box tell them apart. */
function sniffIsoMedia(bytes: Uint8Array): SniffedFormat {
  const major = ascii(bytes, 8, 12).toLowerCase();
  const boxSize = readUint32(bytes, 0);
  const end = Math.min(bytes.length, boxSize);
  const compatible: string[] = [];
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    compatible.push(ascii(bytes, offset, offset + 4).toLowerCase());
  }
  const brands = [major, ...compatible];
  if (AVIF_BRANDS.has(major)) return image('avif');
  if (HEIC_BRANDS.has(major)) return image('heif');
  if (GENERIC_HEIF_BRANDS.has(major)) {
    // A generic HEIF major brand says only "image in HEIF"; the codec shows in the other brands.
    if (compatible.some((brand) => AVIF_BRANDS.has(brand))) return image('avif');
    return image('heif');
  }
  if (major === 'crx ') return { kind: 'unsupported-image', name: 'a Canon CR3 raw photo' };
  if (brands.some((brand) => VIDEO_BRANDS.has(brand))) {
    return { kind: 'not-image', name: 'a video (MP4/QuickTime)' };
  }
  return { kind: 'unknown' };
}

function sniffOther(bytes: Uint8Array): SniffedFormat {
  if (ascii(bytes, 0, 5) === '%PDF-') return { kind: 'not-image', name: 'a PDF document' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    return { kind: 'not-image', name: 'a ZIP archive (or an Office document)' };
  }
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: 'not-image', name: 'a gzip-compressed file' };
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) {
    return { kind: 'not-image', name: 'a video (WebM/Matroska)' };
  }
  if (ascii(bytes, 0, 4) === 'OggS')
    return { kind: 'not-image', name: 'an Ogg audio or video file' };
  if (ascii(bytes, 0, 3) === 'ID3') return { kind: 'not-image', name: 'an MP3 audio file' };
  if (ascii(bytes, 0, 4) === '8BPS') {
    return { kind: 'unsupported-image', name: 'a Photoshop (PSD) document' };
  }
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 12) === 'JXL \r\n\x87\n') {
    return { kind: 'unsupported-image', name: 'a JPEG XL image' };
  }
  if (ascii(bytes, 4, 12) === 'jP  \r\n\x87\n') {
    return { kind: 'unsupported-image', name: 'a JPEG 2000 image' };
  }
  if (isBmp(bytes)) return { kind: 'unsupported-image', name: 'a BMP image' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) && bytes.length >= 6 && bytes[4]! > 0) {
    return { kind: 'unsupported-image', name: 'an icon (ICO) file' };
  }
  return sniffText(bytes);
}

/** "BM" alone is too weak (text can start with it): also check the DIB header's known sizes. */
function isBmp(bytes: Uint8Array): boolean {
  if (ascii(bytes, 0, 2) !== 'BM' || bytes.length < 18) return false;
  return [12, 40, 52, 56, 64, 108, 124].includes(readUint32Le(bytes, 14));
}

function sniffText(bytes: Uint8Array): SniffedFormat {
  if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff])) {
    return { kind: 'not-image', name: 'a text file' };
  }
  const head = bytes.subarray(0, TEXT_SNIFF_BYTES);
  if (head.includes(0)) return { kind: 'unknown' };
  let text: string;
  try {
    // stream: true, so a character cut at the end of the sniffed window is not an error.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return { kind: 'unknown' };
  }
  if (!isMostlyPrintable(text)) return { kind: 'unknown' };
  const lower = text.toLowerCase();
  if (/<svg[\s>/]/.test(lower)) return { kind: 'svg' };
  const start = lower.replace(/^\ufeff/, '').trimStart();
  if (start.startsWith('<!doctype html') || start.startsWith('<html')) {
    return { kind: 'not-image', name: 'a web page (HTML)' };
  }
  if (start.startsWith('<?xml')) return { kind: 'not-image', name: 'an XML file' };
  return { kind: 'not-image', name: 'a text file' };
}

/** Text has few control characters other than tab, newline and carriage return. */
function isMostlyPrintable(text: string): boolean {
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d && code !== 0x0c) control++;
  }
  return control <= text.length / 100;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((value, index) => bytes[index] === value);
}

/** Bytes [start, end) as Latin-1 characters; shorter when the file is shorter. */
function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));
}

function readUint32(bytes: Uint8Array, offset: number): number {
  if (bytes.length < offset + 4) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, false);
}

function readUint32Le(bytes: Uint8Array, offset: number): number {
  if (bytes.length < offset + 4) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
}
