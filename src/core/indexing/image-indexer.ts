// ImageIndexer: one image in, one point in the store out. Validates and decodes the bytes,
// skips images the tenant already has (no model call), embeds the rest and writes them.
import type { Logger } from 'pino';
import type { Embedder, EmbedOptions, PreparedImage } from '../embedding/embedder.js';
import type { ImagePayload, VectorStore } from '../store/vector-store.js';
import { contentHashOf, pointIdFor } from './point-id.js';

/** Where an image came from, when known: copied into its payload as given. */
const PROVENANCE_KEYS = ['channel', 'channelIsPublic', 'uploader', 'messageId', 'fileId', 'path', 'permalink'] as const;

/** An image and what is known of where it came from (the payload's fields, as input). */
export type ImageToIndex = Pick<ImagePayload, 'tenant' | 'source' | 'filename'> &
  Partial<Pick<ImagePayload, (typeof PROVENANCE_KEYS)[number]>> & {
    bytes: Uint8Array;
    /** When it was shared (or the file's modification time); defaults to now. */
    createdAt?: Date;
  };

export interface IndexResult {
  /** "duplicate": the tenant already had these exact bytes; nothing was embedded. */
  status: 'indexed' | 'duplicate';
  id: string;
  payload: ImagePayload;
}

export interface ImageIndexerOptions {
  embedder: Embedder;
  store: VectorStore;
  /** Decodes and preprocesses bytes for the model; throws InvalidImageError on bad input. */
  prepare: (bytes: Uint8Array) => Promise<PreparedImage>;
  logger: Logger;
}

export class ImageIndexer {
  readonly #embedder: Embedder;
  readonly #store: VectorStore;
  readonly #prepare: (bytes: Uint8Array) => Promise<PreparedImage>;
  readonly #logger: Logger;

  constructor(options: ImageIndexerOptions) {
    this.#embedder = options.embedder;
    this.#store = options.store;
    this.#prepare = options.prepare;
    this.#logger = options.logger;
  }

  /** Indexes one image. Throws InvalidImageError for bad bytes, StoreError if the store fails. */
  async index(image: ImageToIndex, options: EmbedOptions = {}): Promise<IndexResult> {
    const contentHash = contentHashOf(image.bytes);
    const id = pointIdFor(image.tenant, contentHash);
    const [existing] = await this.#store.get([id]);
    if (existing !== undefined) {
      this.#logger.debug({ id, filename: image.filename }, 'image already indexed');
      return { status: 'duplicate', id, payload: existing.payload };
    }

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
      createdAt: (image.createdAt ?? new Date()).toISOString(),
      width: prepared.width,
      height: prepared.height,
    };
    // Only fields that are known are stored, so payloads stay small and filters stay exact.
    for (const key of PROVENANCE_KEYS) {
      if (image[key] !== undefined) Object.assign(payload, { [key]: image[key] });
    }
    return payload;
  }
}
