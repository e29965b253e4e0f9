// Specification of sniffImageFormat: what a file is, told from its first bytes alone.
import { describe, expect, it } from 'vitest';
import { sniffImageFormat, type SniffedFormat } from './image-format.js';

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Uint8Array.from(
    parts.flatMap((part) => (typeof part === 'string' ? [...Buffer.from(part, 'latin1')] : part)),
  );

/** An ISO base media `ftyp` box with a major brand and compatible brands, then some payload. */
function ftyp(major: string, ...compatible: string[]): Uint8Array {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], ...compatible, [0, 0, 0, 8], 'meta');
}

describe('sniffImageFormat', () => {
  const cases: Array<[string, Uint8Array, SniffedFormat]> = [
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF'), { kind: 'image', format: 'jpeg' }],
    [
      'PNG',
      bytes([0x89], 'PNG\r\n\x1a\n', [0, 0, 0, 13], 'IHDR'),
      { kind: 'image', format: 'png' },
    ],
    ['GIF87a', bytes('GIF87a', [16, 0, 16, 0]), { kind: 'image', format: 'gif' }],
    ['GIF89a', bytes('GIF89a', [16, 0, 16, 0]), { kind: 'image', format: 'gif' }],
    ['WebP', bytes('RIFF', [100, 0, 0, 0], 'WEBPVP8L'), { kind: 'image', format: 'webp' }],
    ['little-endian TIFF', bytes('II', [42, 0, 8, 0, 0, 0]), { kind: 'image', format: 'tiff' }],
    ['big-endian TIFF', bytes('MM', [0, 42, 0, 0, 0, 8]), { kind: 'image', format: 'tiff' }],
    ['BigTIFF', bytes('II', [43, 0, 8, 0, 0, 0]), { kind: 'image', format: 'tiff' }],
    ['AVIF', ftyp('avif', 'mif1', 'miaf'), { kind: 'image', format: 'avif' }],
    ['AVIF sequence', ftyp('avis', 'msf1'), { kind: 'image', format: 'avif' }],
    [
      'AVIF under a generic HEIF brand',
      ftyp('mif1', 'miaf', 'avif'),
      { kind: 'image', format: 'avif' },
    ],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), { kind: 'image', format: 'heif' }],
    ['HEIC 10-bit (heix)', ftyp('heix', 'mif1'), { kind: 'image', format: 'heif' }],
    ['HEIC sequence (hevc)', ftyp('hevc', 'msf1'), { kind: 'image', format: 'heif' }],
    ['generic HEIF', ftyp('mif1', 'heic'), { kind: 'image', format: 'heif' }],
    [
      'MP4 video',
      ftyp('isom', 'iso2', 'avc1', 'mp41'),
      { kind: 'not-image', name: 'a video (MP4/QuickTime)' },
    ],
    [
      'QuickTime video',
      ftyp('qt  ', 'qt  '),
      { kind: 'not-image', name: 'a video (MP4/QuickTime)' },
    ],
    [
      'Canon CR3',
      ftyp('crx ', 'crx ', 'isom'),
      { kind: 'unsupported-image', name: 'a Canon CR3 raw photo' },
    ],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'), { kind: 'svg' }],
    [
      'SVG after a BOM, an XML declaration, a comment and a DOCTYPE',
      bytes(
        [0xef, 0xbb, 0xbf],
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- Inkscape -->\n',
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n',
        '<SVG width="10" height="10"></SVG>',
      ),
      { kind: 'svg' },
    ],
    ['PDF', bytes('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'), { kind: 'not-image', name: 'a PDF document' }],
    [
      'ZIP',
      bytes('PK', [3, 4, 20, 0]),
      { kind: 'not-image', name: 'a ZIP archive (or an Office document)' },
    ],
    [
      'gzip (or .svgz)',
      bytes([0x1f, 0x8b, 8, 0]),
      { kind: 'not-image', name: 'a gzip-compressed file' },
    ],
    [
      'WebM',
      bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f]),
      { kind: 'not-image', name: 'a video (WebM/Matroska)' },
    ],
    [
      'WAV',
      bytes('RIFF', [36, 0, 0, 0], 'WAVEfmt '),
      { kind: 'not-image', name: 'a WAV audio file' },
    ],
    ['MP3', bytes('ID3', [4, 0, 0]), { kind: 'not-image', name: 'an MP3 audio file' }],
    [
      'HTML',
      bytes('  <!DOCTYPE html>\n<html><body>Not found</body></html>'),
      { kind: 'not-image', name: 'a web page (HTML)' },
    ],
    [
      'XML that is not SVG',
      bytes('<?xml version="1.0"?><rss></rss>'),
      { kind: 'not-image', name: 'an XML file' },
    ],
    [
      'UTF-8 text',
      bytes([...Buffer.from('Photo caption: café ☕\n', 'utf8')]),
      { kind: 'not-image', name: 'a text file' },
    ],
    ['UTF-16 text', bytes([0xff, 0xfe], 'h\0i\0'), { kind: 'not-image', name: 'a text file' }],
    [
      'text starting with BM',
      bytes('BMW parts list\nwheels: 4\n'),
      { kind: 'not-image', name: 'a text file' },
    ],
    [
      'PSD',
      bytes('8BPS', [0, 1]),
      { kind: 'unsupported-image', name: 'a Photoshop (PSD) document' },
    ],
    [
      'JPEG XL codestream',
      bytes([0xff, 0x0a, 0xfa]),
      { kind: 'unsupported-image', name: 'a JPEG XL image' },
    ],
    [
      'JPEG XL container',
      bytes([0, 0, 0, 12], 'JXL \r\n\x87\n'),
      { kind: 'unsupported-image', name: 'a JPEG XL image' },
    ],
    [
      'JPEG 2000',
      bytes([0, 0, 0, 12], 'jP  \r\n\x87\n'),
      { kind: 'unsupported-image', name: 'a JPEG 2000 image' },
    ],
    [
      'ICO',
      bytes([0, 0, 1, 0, 1, 0, 16, 16]),
      { kind: 'unsupported-image', name: 'an icon (ICO) file' },
    ],
    ['binary noise', bytes([0x00, 0x13, 0x37, 0x00, 0xfe, 0x01]), { kind: 'unknown' }],
    ['a lone JPEG start byte', bytes([0xff, 0xd8]), { kind: 'unknown' }],
  ];

  it.each(cases)('tells %s from its first bytes', (_name, input, expected) => {
    expect(sniffImageFormat(input)).toEqual(expected);
  });

  it('finds an <svg> tag only when the file is text, not inside binary data', () => {
    const binary = bytes([0x00, 0x01, 0x02], '<svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(sniffImageFormat(binary)).toEqual({ kind: 'unknown' });
  });

  it('reads a view into a larger buffer from the view, not the buffer', () => {
    const buffer = new Uint8Array(32);
    buffer.set(bytes('%PDF-1.7'), 0);
    buffer.set(bytes([0x89], 'PNG\r\n\x1a\n'), 16);
    expect(sniffImageFormat(buffer.subarray(16))).toEqual({ kind: 'image', format: 'png' });
  });
});
