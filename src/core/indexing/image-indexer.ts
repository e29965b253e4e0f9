// ImageIndexer: one image in, one point in the store out. Validates and decodes the bytes,
// skips images the tenant already has (no model call; a new share is added to the stored
// image instead), embeds the rest and writes them. An image is embedded once: concurrent calls
// for it in this process wait for the first, and other processes are kept off by a claim.
import type { Logger } from 'pino';
import type { Embedder, EmbedOptions, PreparedImage } from '../embedding/embedder.js';
import { mergeShares } from '../store/image-shares.js';
import type { ContentClaims } from './content-claims.js';
import type { ImagePayload, ImageShare, VectorStore } from '../store/vector-store.js';
import { contentHashOf, pointIdFor } from './point-id.js';

/** An image and what is known of where it came from (the payload's fields, as input). */
export type ImageToIndex = Pick<ImagePayload, 'tenant' | 'source' | 'filename'> & {
  bytes: Uint8Array;
  /** When it was first shared (or the file's modification time); else the share's time, or now. */
  createdAt?: Date;
  /** The chat share this upload is; none for a folder image. */
  share?: ImageShare;
  /** Absolute path on disk, for a folder image. */
  path?: string;
};

export interface IndexResult {
  /**
   * "duplicate": the tenant already had these exact bytes; nothing was embedded, and the
   * image's share (if any) was added to the stored image.
   */
  status: 'indexed' | 'duplicate';
  /** The image's point id. */
  id: string;
  /** The stored payload, with the new share when one was added. */
  payload: ImagePayload;
}

export interface ImageIndexerOptions {
  embedder: Embedder;
  store: VectorStore;
  /** Decodes and preprocesses bytes for the model; throws InvalidImageError on bad input. */
  prepare: (bytes: Uint8Array) => Promise<PreparedImage>;
  logger: Logger;
  /**
   * Claims shared with other processes on the same store, taken before an image is embedded.
   * Without them only this process's own calls are kept from embedding an image twice.
   */
  claims?: ContentClaims;
}

export class ImageIndexer {
  readonly #embedder: Embedder;
  readonly #store: VectorStore;
  readonly #prepare: (bytes: Uint8Array) => Promise<PreparedImage>;
  readonly #logger: Logger;
  readonly #claims: ContentClaims | undefined;
  /**
   * Images being indexed now, by point id. The same image posted in two channels at once
   * would otherwise be embedded twice and the second write would drop the first's share;
   * instead the second waits and then takes the duplicate path.
   */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(options: ImageIndexerOptions) {
    this.#embedder = options.embedder;
    this.#store = options.store;
    this.#prepare = options.prepare;
    this.#logger = options.logger;
    this.#claims = options.claims;
  }

  /** Indexes one image. Throws InvalidImageError for bad bytes, StoreError if the store fails. */
  async index(image: ImageToIndex, options: EmbedOptions = {}): Promise<IndexResult> {
    const contentHash = contentHashOf(image.bytes);
    const id = pointIdFor(image.tenant, contentHash);
    let running = this.#inFlight.get(id);
    while (running !== undefined) {
      await running.catch(() => undefined);
      running = this.#inFlight.get(id);
    }
    const indexing = this.#indexOnce(image, id, contentHash, options);
    this.#inFlight.set(id, indexing);
    try {
      return await indexing;
    } finally {
      this.#inFlight.delete(id);
    }
  }

  async #indexOnce(
    image: ImageToIndex,
    id: string,
    contentHash: string,
    options: EmbedOptions,
  ): Promise<IndexResult> {
    const duplicate = await this.#duplicateOf(image, id);
    if (duplicate !== undefined) return duplicate;
    if (this.#claims === undefined) return this.#embedAndStore(image, id, contentHash, options);
    const claim = await this.#claims.claim(id);
    try {
      // Another process may have stored the image while this one waited for the claim.
      return (await this.#duplicateOf(image, id)) ?? (await this.#embedAndStore(image, id, contentHash, options));
    } finally {
      claim.release();
    }
  }

  /** The result for an image the store has already (its share added), else undefined. */
  async #duplicateOf(image: ImageToIndex, id: string): Promise<IndexResult | undefined> {
    const [existing] = await this.#store.get([id]);
    if (existing !== undefined) {
      this.#logger.debug({ id, filename: image.filename }, 'image already indexed');
      if (image.share === undefined) return { status: 'duplicate', id, payload: existing.payload };
      // false: the image was deleted since get(); it is indexed afresh below.
      if (await this.#store.addShares(image.tenant, id, [image.share])) {
        const shares = mergeShares(existing.payload.shares, [image.share]);
        return { status: 'duplicate', id, payload: { ...existing.payload, shares } };
      }
    }
    return undefined;
  }

  async #embedAndStore(image: ImageToIndex, id: string, contentHash: string, options: EmbedOptions): Promise<IndexResult> {
    const prepared = await this.#prepare(image.bytes);
    const vector = await this.#embedder.embedImage(prepared, { lane: 'bulk', ...options });
    const payload = this.#payloadFor(image, contentHash, prepared);
    await this.#store.upsert([{ id, vector, payload }]);
    this.#logger.debug({ id, filename: image.filename, source: image.source }, 'image indexed');
    return { status: 'indexed', id, payload };
  }

  #payloadFor(image: ImageToIndex, contentHash: string, prepared: PreparedImage): ImagePayload {
    const payload: ImagePayload = {
      tenant: image.tenant,
      source: image.source,
      filename: image.filename,
      contentHash,
      modelId: this.#embedder.modelId,
      createdAt: this.#createdAtOf(image),
      width: prepared.width,
      height: prepared.height,
      shares: image.share === undefined ? [] : [image.share],
    };
    // Only a known path is stored, so a chat image's payload has no empty path field.
    if (image.path !== undefined) payload.path = image.path;
    return payload;
  }

  /** The image's createdAt: as given, else when it was shared, else now. */
  #createdAtOf(image: ImageToIndex): string {
    if (image.createdAt !== undefined) return image.createdAt.toISOString();
    const sharedAt = Date.parse(image.share?.sharedAt ?? '');
    // A share with a bad date is refused by the store when written; no need to throw here.
    return new Date(Number.isFinite(sharedAt) ? sharedAt : Date.now()).toISOString();
  }
}
