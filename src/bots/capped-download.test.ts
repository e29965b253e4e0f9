// The shared download cap: a file over the cap is refused from its declared size, its
// Content-Length or its body, before more than the cap is held in memory.
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../core/errors.js';
import { DownloadCap, mayBeImage, mediaTypeOf, megabytes } from './capped-download.js';

const MB = 1024 * 1024;
const subject = { name: 'cat.png', details: { fileId: 'F1' } };

/** A response whose body comes in `chunks` chunks of `chunkBytes`, with no Content-Length; counts the chunks pulled. */
function streamed(chunks: number, chunkBytes: number): { response: Response; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) return controller.close();
      pulled += 1;
      controller.enqueue(new Uint8Array(chunkBytes).fill(pulled));
    },
  });
  return { response: new Response(body), pulled: () => pulled };
}

describe('DownloadCap', () => {
  it('refuses a file whose declared size is over the cap, naming both sizes', () => {
    const cap = new DownloadCap(5 * MB);
    expect(() => cap.checkDeclared(subject, 200 * MB)).toThrow('cat.png is 200 MB; I index images up to 5.0 MB.');
    expect(() => cap.checkDeclared(subject, 5 * MB)).not.toThrow();
    expect(() => cap.checkDeclared(subject, undefined)).not.toThrow();
  });

  it('refuses a response whose Content-Length is over the cap, with the ids in the details', () => {
    const cap = new DownloadCap(1 * MB);
    const response = new Response('x', { headers: { 'content-length': String(3 * MB) } });
    let refusal: unknown;
    try {
      cap.checkContentLength(subject, response);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(InvalidImageError);
    expect(refusal).toMatchObject({ code: 'image_too_large', details: { fileId: 'F1', size: 3 * MB, maxBytes: 1 * MB } });
  });

  it('reads a body up to the cap whole, in order', async () => {
    const { response } = streamed(3, 4);
    const bytes = await new DownloadCap(12).read(subject, response);
    expect([...bytes]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  });

  it('stops reading a body without Content-Length once it passes the cap', async () => {
    const { response, pulled } = streamed(100, 256 * 1024);
    await expect(new DownloadCap(1 * MB).read(subject, response)).rejects.toThrow('cat.png is over 1.0 MB, the largest image I index.');
    expect(pulled()).toBeLessThan(10);
  });

  it('reads the media type without parameters and accepts images or generic binary', () => {
    expect(mediaTypeOf(new Response('', { headers: { 'content-type': 'Image/PNG; charset=binary' } }))).toBe('image/png');
    expect(mayBeImage('image/png')).toBe(true);
    expect(mayBeImage('application/octet-stream')).toBe(true);
    expect(mayBeImage('text/html')).toBe(false);
    expect(megabytes(120 * MB)).toBe('120 MB');
  });
});
