// Decodes HEIC/HEIF photos to RGBA pixels with heic-decode (libheif compiled to WebAssembly),
// because the sharp build here has no HEVC decoder. Each decode runs in its own worker thread.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { InvalidImageError } from '../errors.js';

/**
 * A HEIC decode that has not finished in this time is stopped. libheif in WebAssembly decoded an
 * 800x600 photo in 159 ms here, so a 48-megapixel one takes a few seconds; a minute only ever
 * stops a file crafted to stall the decoder.
 */
export const HEIC_DECODE_TIMEOUT_MS = 60_000;

/** Pixels of a decoded HEIC image, 4 bytes (RGBA) per pixel, rows top to bottom. */
export interface DecodedPixels {
  /** Width in pixels, after the file's own rotation (irot) is applied. */
  width: number;
  /** Height in pixels, after the file's own rotation (irot) is applied. */
  height: number;
  /** width * height * 4 bytes. */
  rgba: Uint8Array;
}

/** Bounds on the work a HEIC decode may do. */
export interface HeicDecodeLimits {
  /** Images whose header declares more pixels than this are refused before decoding. */
  maxPixels: number;
  /** Overrides HEIC_DECODE_TIMEOUT_MS (tests). */
  timeoutMs?: number;
}

/** What the worker sends back: pixels, or why there are none. */
type WorkerReply =
  | { ok: true; width: number; height: number; data: Uint8ClampedArray }
  | { ok: false; reason: 'too_large'; width: number; height: number }
  | { ok: false; reason: 'invalid'; message: string };

/**
 * The worker's code, plain CommonJS evaluated by the Worker (`eval: true`) so that it runs the
 * same from TypeScript sources (tests, tsx) and from the compiled package, with no loader. It
 * reads the declared size from the container before decoding, so a huge image is never decoded.
 * A worker per decode costs about 100 ms (measured here) but frees the WebAssembly memory after
 * every image and keeps the main thread free while libheif runs synchronously.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const printed = [];
for (const level of ['log', 'info', 'warn', 'error']) console[level] = (...args) => printed.push(args.join(' '));
const decodeAll = require(workerData.heicDecodePath).all;
(async () => {
  let images;
  try {
    images = await decodeAll({ buffer: workerData.bytes });
    const first = images[0];
    if (first.width * first.height > workerData.maxPixels) {
      parentPort.postMessage({ ok: false, reason: 'too_large', width: first.width, height: first.height });
      return;
    }
    const { width, height, data } = await first.decode();
    parentPort.postMessage({ ok: true, width, height, data }, [data.buffer]);
  } catch (error) {
    const said = printed.join('; ').slice(0, workerData.maxPrinted);
    const message = String((error && error.message) || error) + (said ? ' (' + said + ')' : '');
    parentPort.postMessage({ ok: false, reason: 'invalid', message });
  } finally {
    if (images) images.dispose();
  }
})();
`;

/** libheif's console messages kept in an error's reason; a line or two says what went wrong. */
const MAX_PRINTED_CHARS = 500;

/** Where heic-decode lives, looked up on the first HEIC rather than when this module loads. */
let heicDecodePath: string | undefined;

/**
 * Decodes the first image of a HEIC/HEIF file. Throws InvalidImageError: 'image_too_large' when
 * the header declares more than `maxPixels`, 'image_invalid' when the file cannot be decoded.
 */
export async function decodeHeic(
  bytes: Uint8Array,
  limits: HeicDecodeLimits,
): Promise<DecodedPixels> {
  const reply = await runWorker(bytes, limits);
  if (reply.ok) {
    const rgba = new Uint8Array(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength);
    if (rgba.length !== reply.width * reply.height * 4) throw corrupt('wrong pixel count');
    return { width: reply.width, height: reply.height, rgba };
  }
  if (reply.reason === 'too_large') {
    throw new InvalidImageError(
      'image_too_large',
      `The image is ${reply.width}x${reply.height} pixels, more than the ` +
        `${limits.maxPixels / 1_000_000} megapixels findimage reads.`,
      { details: { width: reply.width, height: reply.height, maxPixels: limits.maxPixels } },
    );
  }
  throw corrupt(reply.message);
}

function runWorker(bytes: Uint8Array, limits: HeicDecodeLimits): Promise<WorkerReply> {
  const timeoutMs = limits.timeoutMs ?? HEIC_DECODE_TIMEOUT_MS;
  return new Promise<WorkerReply>((resolve, reject) => {
    // libheif prints parse errors on the console; the worker collects them into the error's
    // reason, and anything still written to its stdio is dropped, not mixed into our output.
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        bytes,
        maxPixels: limits.maxPixels,
        maxPrinted: MAX_PRINTED_CHARS,
        heicDecodePath: (heicDecodePath ??= createRequire(import.meta.url).resolve('heic-decode')),
      },
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      action();
    };
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new InvalidImageError(
            'image_invalid',
            `The HEIC image could not be decoded within ${timeoutMs / 1000} s; it may be corrupt.`,
          ),
        ),
      );
    }, timeoutMs);
    worker.once('message', (reply: WorkerReply) => finish(() => resolve(reply)));
    // A worker may throw any value, not only an Error (Node's types say `unknown`).
    worker.once('error', (error: unknown) =>
      finish(() => reject(corrupt(error instanceof Error ? error.message : String(error), error))),
    );
    worker.once('exit', (code) =>
      finish(() => reject(corrupt(`decoder exited with code ${code}`))),
    );
  });
}

function corrupt(reason: string, cause?: unknown): InvalidImageError {
  return new InvalidImageError(
    'image_invalid',
    'The image could not be read: it looks truncated or corrupt.',
    { cause, details: { format: 'heif', reason } },
  );
}
