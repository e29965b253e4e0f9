// A process-wide budget on the pixels being decoded at once, across every image in flight
// (folder indexing, the upload queue, web and chat searches by image). MAX_IMAGE_PIXELS bounds
// one image; this bounds them together, so that six decompression bombs decoded side by side
// cannot take six times the memory of one.

/**
 * Pixels decoded at once in this process. A full decode holds up to about 8.3 bytes a pixel
 * (a 118-megapixel lossless WebP peaked at 984 MB, a GIF at 4.2 bytes a pixel), and `findimage
 * index` with a model loaded sits at about 200 MB: 48 megapixels keeps a process under 600 MB
 * while still decoding four 12-megapixel images side by side at full size. A baseline JPEG
 * decoded at reduced scale is charged what libjpeg decodes (image-decoder.ts): 0.75 megapixel for
 * a 12-megapixel photo at 1/4, so 64 such photos decode side by side.
 */
export const DECODE_BUDGET_PIXELS = 48_000_000;

/** Gives back what acquire() took; calling it again does nothing. */
export type DecodeRelease = () => void;

/** A request waiting for its pixels. */
interface Waiter {
  /** Pixels charged (already capped at the capacity). */
  charge: number;
  /** Grants the request. */
  grant: () => void;
}

/**
 * A counting semaphore over pixels. Requests are granted in the order they came (a big image is
 * not starved by a stream of small ones). A request larger than the whole budget is charged the
 * whole budget: it waits until nothing else is decoding, then decodes alone, so it never
 * deadlocks.
 */
export class DecodeBudget {
  /** The most pixels granted at once. */
  readonly capacity: number;
  #inUse = 0;
  #peak = 0;
  readonly #waiters: Waiter[] = [];

  /** `capacity`: pixels decoded at once (a whole number >= 1). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`DecodeBudget capacity must be a whole number of at least 1, not ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Pixels granted now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** The most pixels granted at once since this budget was made (for tests and benchmarks). */
  get peak(): number {
    return this.#peak;
  }

  /** Requests waiting for pixels. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits until `pixels` (width x height from the header) may be decoded, takes them, and
   * resolves to the function that gives them back. Always call it, in a finally.
   */
  async acquire(pixels: number): Promise<DecodeRelease> {
    // An unknown size (NaN, infinity) is charged the whole budget, like one over it.
    const charge = Number.isFinite(pixels) ? Math.min(this.capacity, Math.max(1, Math.ceil(pixels))) : this.capacity;
    if (this.#waiters.length === 0 && this.#inUse + charge <= this.capacity) {
      this.#take(charge);
    } else {
      await new Promise<void>((resolve) => this.#waiters.push({ charge, grant: resolve }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse -= charge;
      this.#grantWaiters();
    };
  }

  #take(charge: number): void {
    this.#inUse += charge;
    this.#peak = Math.max(this.#peak, this.#inUse);
  }

  /** Grants waiters in order while the first one fits. */
  #grantWaiters(): void {
    for (;;) {
      const first = this.#waiters[0];
      if (first === undefined || this.#inUse + first.charge > this.capacity) return;
      this.#waiters.shift();
      this.#take(first.charge);
      first.grant();
    }
  }
}

/** The budget every decode in this process shares. */
export const processDecodeBudget = new DecodeBudget(DECODE_BUDGET_PIXELS);
