// A bulk index that keeps running in the background: the load a search competes with while a
// team's history is being indexed. Every image is a photo made unique with a JPEG comment, so
// each one is decoded and embedded for real (a duplicate would skip the model).
import type { ImageIndexer } from '../src/core/indexing/image-indexer.js';
import { withComment } from './jpeg-corpus.js';

/**
 * Images in flight at once: as many as `findimage index` decodes and embeds at once
 * (IMAGES_DECODING in src/cli/commands/index-command.ts), so the load is what a user's bulk
 * index puts on the pool.
 */
export const BULK_IN_FLIGHT = 6;

/** What the background index did while it ran. */
export interface BulkLoadReport {
  /** Images indexed (all new to the store). */
  indexed: number;
  /** From start() to the end of stop(), ms. */
  durationMs: number;
  /** indexed / duration. */
  imagesPerSecond: number;
}

export interface BulkIndexLoadOptions {
  indexer: ImageIndexer;
  /** JPEG bytes to cycle through. */
  photos: readonly Uint8Array[];
  tenant: string;
  /** Distinguishes this load's comments from any other run's, so no image is a duplicate. */
  label: string;
  /** Images in flight at once; default BULK_IN_FLIGHT (the GPU bench spreads decoding over every core). */
  inFlight?: number;
}

export class BulkIndexLoad {
  readonly #options: BulkIndexLoadOptions;
  #next = 0;
  #indexed = 0;
  #stopping = false;
  #started = 0;
  #runners: Promise<void>[] = [];
  #failure: unknown;
  #firstIndexed: Promise<void>;
  #markFirst: () => void = () => {};

  constructor(options: BulkIndexLoadOptions) {
    if (options.photos.length === 0) throw new Error('BulkIndexLoad needs at least one photo');
    this.#options = options;
    this.#firstIndexed = new Promise((resolve) => {
      this.#markFirst = resolve;
    });
  }

  /** Starts `inFlight` (default BULK_IN_FLIGHT) indexing loops. */
  start(): void {
    this.#started = performance.now();
    this.#runners = Array.from({ length: this.#options.inFlight ?? BULK_IN_FLIGHT }, () => this.#run());
  }

  /** Resolves once the first image is indexed: the pipeline is then full and in steady state. */
  firstIndexed(): Promise<void> {
    return this.#firstIndexed;
  }

  /** Images indexed so far. */
  get indexed(): number {
    return this.#indexed;
  }

  /** Lets the images in flight finish, then reports; rethrows the first indexing failure. */
  async stop(): Promise<BulkLoadReport> {
    this.#stopping = true;
    await Promise.all(this.#runners);
    if (this.#failure !== undefined) throw this.#failure;
    const durationMs = performance.now() - this.#started;
    return { indexed: this.#indexed, durationMs, imagesPerSecond: (this.#indexed * 1000) / durationMs };
  }

  async #run(): Promise<void> {
    const { indexer, photos, tenant, label } = this.#options;
    while (!this.#stopping && this.#failure === undefined) {
      const n = this.#next++;
      const photo = photos[n % photos.length] as Uint8Array;
      try {
        const result = await indexer.index({
          bytes: withComment(photo, `${label} ${n}`),
          filename: `load-${label}-${n}.jpg`,
          tenant,
          source: 'local',
        });
        if (result.status !== 'indexed') throw new Error(`bulk load image ${n} was a ${result.status}, not new`);
        this.#indexed++;
        this.#markFirst();
      } catch (error) {
        this.#failure ??= error;
        this.#markFirst();
      }
    }
  }
}
