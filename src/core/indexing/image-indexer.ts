// ImageIndexer: one image in, one point in the store out. Validates and decodes the bytes,
// skips images the tenant already has (no model call; a new share is added to the stored
// image instead), embeds the rest and writes them. An image is embedded once: concurrent calls
// for it in this process wait for the first, and other processes are kept off by a claim.
// Store calls are batched across concurrent calls: one lookup request for many images' ids and
// one write for many points, each caller answered only once its own batch is acknowledged.
import type { Logger } from 'pino';
import type { Embedder, EmbedOptions, PreparedImage } from '../embedding/embedder.js';
import { FindimageError, asFindimageError, isTransient } from '../errors.js';
import type { RemoteFile } from '../fleet/remote-file.js';
import { mergeShares } from '../store/image-shares.js';
import type { ContentClaims } from './content-claims.js';
import type { ImagePayload, ImageShare, PointInput, StoredPoint, VectorStore } from '../store/vector-store.js';
import { CallBatcher, type ItemOutcome } from './call-batcher.js';
import type { EmbedSlots } from './embed-slots.js';
import {
  DEFAULT_INDEX_BATCH_SIZE,
  DEFAULT_INDEX_BATCHES_IN_FLIGHT,
  INDEX_BATCH_LINGER_MS,
  type IndexBatching,
} from './index-batching.js';
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
  /**
   * Fleet mode: a chat upload queued as a reference to the platform's file, its `bytes` empty;
   * the worker that takes its job downloads it (remote-file.ts withBytes()) before indexing.
   */
  remote?: RemoteFile;
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
   * Claims shared with other processes on the same store, taken before an image is looked up.
   * Without them only this process's own calls are kept from embedding an image twice.
   */
  claims?: ContentClaims;
  /** How store lookups and writes are batched (default: 64 per batch, 2 batches in flight). */
  batching?: IndexBatching;
}

/** Options of one index() call. */
export interface IndexOptions extends EmbedOptions {
  /**
   * Slots the image's decoding and embedding wait for (its lookup comes first). A caller that
   * hands over many images at once, so that they share batches, bounds decoding memory with
   * them. Default: none, the caller bounds how many images it hands over.
   */
  embedSlots?: EmbedSlots;
  /**
   * true: the image's lookup and write do not leave after the linger time, only when their batch
   * is full or no other image in flight can still join it. For a caller that hands over many
   * images at once and waits for them all (`findimage index`): its images reach their write one
   * model run apart, far more than the linger, so batches would otherwise leave nearly empty.
   * Default false: a lone upload is not held back for images that may be slow to come.
   */
  holdForBatch?: boolean;
  /**
   * A stable name for this image's work (the upload queue's row id): the fleet's queue adds its
   * job once under it, so an upload sent again after a restart finds its first job. ImageIndexer
   * has no use for it.
   */
  jobId?: string;
}

/**
 * What indexes images for the upload queue and `findimage index`: ImageIndexer on this machine,
 * or FleetIndexing (src/core/fleet), which hands each image to the fleet's workers.
 */
export interface ImageIndexing {
  /** How many images a caller should hand over at once (size × inFlight) for full batches. */
  readonly batching: Readonly<Required<IndexBatching>>;
  /** Resolves once the image is in the store; rejects with why it is not. */
  index(image: ImageToIndex, options?: IndexOptions): Promise<IndexResult>;
}

/** Store requests ImageIndexer has sent, by kind (for tests and benchmarks). */
export interface IndexerRequests {
  /** Duplicate lookups: one store.get() per batch (per tenant in it). */
  lookups: number;
  /** Writes: one store.upsert() per batch. */
  writes: number;
}

/** An image's point id with its tenant, as a duplicate lookup needs them. */
interface ImageRef {
  tenant: string;
  id: string;
}

/** Whether one index() call may still add to the open lookup and write batches. */
interface CallProgress {
  lookup: boolean;
  write: boolean;
}

export class ImageIndexer implements ImageIndexing {
  readonly #embedder: Embedder;
  readonly #store: VectorStore;
  readonly #prepare: (bytes: Uint8Array) => Promise<PreparedImage>;
  readonly #logger: Logger;
  readonly #claims: ContentClaims | undefined;
  /**
   * Images being indexed now, by point id. The same image posted in two channels at once
   * would otherwise be embedded twice and the second write would drop the first's share;
   * instead the second waits (until the first's batch is acknowledged) and then takes the
   * duplicate path.
   */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #lookups: CallBatcher<ImageRef, StoredPoint | undefined>;
  readonly #writes: CallBatcher<PointInput, void>;
  /**
   * Calls that may still add a lookup, and a write: when none may, the open batch is sent at
   * once instead of lingering for company that is not coming.
   */
  #toLookUp = 0;
  #toWrite = 0;
  #flushScheduled = false;
  /** The batch settings in force. */
  readonly batching: Readonly<Required<IndexBatching>>;

  constructor(options: ImageIndexerOptions) {
    this.#embedder = options.embedder;
    this.#store = options.store;
    this.#prepare = options.prepare;
    this.#logger = options.logger;
    this.#claims = options.claims;
    this.batching = {
      size: options.batching?.size ?? DEFAULT_INDEX_BATCH_SIZE,
      inFlight: options.batching?.inFlight ?? DEFAULT_INDEX_BATCHES_IN_FLIGHT,
      lingerMs: options.batching?.lingerMs ?? INDEX_BATCH_LINGER_MS,
    };
    const batching = { maxSize: this.batching.size, maxInFlight: this.batching.inFlight, lingerMs: this.batching.lingerMs };
    this.#lookups = new CallBatcher({ ...batching, run: (refs) => this.#lookUp(refs) });
    this.#writes = new CallBatcher({ ...batching, run: (points) => this.#write(points) });
  }

  /** Lookup and write requests sent to the store so far. */
  get requests(): IndexerRequests {
    return { lookups: this.#lookups.batchesSent, writes: this.#writes.batchesSent };
  }

  /**
   * Indexes one image. Resolves once the image's point is in the store (its write batch
   * acknowledged), never before. Throws InvalidImageError for bad bytes, StoreError if the
   * store fails.
   */
  async index(image: ImageToIndex, options: IndexOptions = {}): Promise<IndexResult> {
    if (image.remote !== undefined) {
      // Its bytes are the platform's, fetched by a fleet worker first: hashing the empty bytes
      // here would store every such upload as one image.
      throw new FindimageError('internal', `${image.filename} was handed to the indexer as a reference to a ${image.remote.platform} file, without its bytes.`, {
        details: { platform: image.remote.platform, fileId: image.remote.fileId },
      });
    }
    const contentHash = contentHashOf(image.bytes);
    const id = pointIdFor(image.tenant, contentHash);
    // Counted before the first await, so that calls made together share their batches.
    const progress: CallProgress = { lookup: false, write: false };
    this.#setProgress(progress, true, true);
    try {
      let running = this.#inFlight.get(id);
      while (running !== undefined) {
        // Waiting on the same image: it joins no batch meanwhile, so it holds none back.
        this.#setProgress(progress, false, false);
        await running.catch(() => undefined);
        this.#setProgress(progress, true, true);
        running = this.#inFlight.get(id);
      }
      const indexing = this.#indexOnce(image, id, contentHash, options, progress);
      this.#inFlight.set(id, indexing);
      try {
        return await indexing;
      } finally {
        this.#inFlight.delete(id);
      }
    } finally {
      this.#setProgress(progress, false, false);
    }
  }

  async #indexOnce(
    image: ImageToIndex,
    id: string,
    contentHash: string,
    options: IndexOptions,
    progress: CallProgress,
  ): Promise<IndexResult> {
    // The claim comes before the lookup, so one lookup settles it: a process that stored the
    // image before we got the claim is seen by it, and none can store it after.
    let claim = this.#claims?.tryClaim?.(id);
    if (this.#claims !== undefined && claim === undefined) {
      // Another holder is embedding this image: it joins no batch while it waits.
      this.#setProgress(progress, false, false);
      claim = await this.#claims.claim(id);
      this.#setProgress(progress, true, true);
    }
    try {
      const duplicate = await this.#duplicateOf(image, id, progress, options.holdForBatch === true);
      if (duplicate !== undefined) return duplicate;
      const point = await this.#embedded(image, id, contentHash, options);
      const written = this.#writes.submit(point, { linger: options.holdForBatch !== true });
      this.#setProgress(progress, false, false);
      await written;
      this.#logger.debug({ id, filename: image.filename, source: image.source }, 'image indexed');
      return { status: 'indexed', id, payload: point.payload };
    } finally {
      claim?.release();
    }
  }

  /** The result for an image the store has already (its share added), else undefined. */
  async #duplicateOf(image: ImageToIndex, id: string, progress: CallProgress, holdForBatch: boolean): Promise<IndexResult | undefined> {
    const found = this.#lookups.submit({ tenant: image.tenant, id }, { linger: !holdForBatch });
    this.#setProgress(progress, false, progress.write);
    const existing = await found;
    if (existing !== undefined) {
      this.#setProgress(progress, false, false);
      this.#logger.debug({ id, filename: image.filename }, 'image already indexed');
      if (image.share === undefined) return { status: 'duplicate', id, payload: existing.payload };
      // false: the image was deleted since the lookup; it is indexed afresh below.
      if (await this.#store.addShares(image.tenant, id, [image.share])) {
        const shares = mergeShares(existing.payload.shares, [image.share]);
        return { status: 'duplicate', id, payload: { ...existing.payload, shares } };
      }
      this.#setProgress(progress, false, true);
    }
    return undefined;
  }

  /** The image's point, decoded and embedded within the embedding slots. */
  async #embedded(image: ImageToIndex, id: string, contentHash: string, options: IndexOptions): Promise<PointInput> {
    const { embedSlots, holdForBatch: _holdForBatch, ...embedOptions } = options;
    await embedSlots?.acquire();
    try {
      const prepared = await this.#prepare(image.bytes);
      const vector = await this.#embedder.embedImage(prepared, { lane: 'bulk', ...embedOptions });
      return { id, vector, payload: this.#payloadFor(image, contentHash, prepared) };
    } finally {
      embedSlots?.release();
    }
  }

  /** Marks whether a call may still add a lookup and a write; sends a batch nobody else can join. */
  #setProgress(progress: CallProgress, lookup: boolean, write: boolean): void {
    if (progress.lookup !== lookup) this.#toLookUp += lookup ? 1 : -1;
    if (progress.write !== write) this.#toWrite += write ? 1 : -1;
    progress.lookup = lookup;
    progress.write = write;
    if ((this.#toLookUp === 0 || this.#toWrite === 0) && !this.#flushScheduled) {
      // Checked again once this turn of the event loop is over: calls made together (a loop
      // over a folder or a queue's rows) reach their lookup one by one, and all join its batch.
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        if (this.#toLookUp === 0) this.#lookups.flush();
        if (this.#toWrite === 0) this.#writes.flush();
      });
    }
  }

  /**
   * One batch of duplicate lookups: a single store.get() for every id of a tenant (a batch
   * usually holds one; the store reads by id only within a tenant).
   */
  async #lookUp(refs: readonly ImageRef[]): Promise<Array<ItemOutcome<StoredPoint | undefined>>> {
    const byTenant = new Map<string, string[]>();
    for (const { tenant, id } of refs) {
      const ids = byTenant.get(tenant);
      if (ids === undefined) byTenant.set(tenant, [id]);
      else ids.push(id);
    }
    const found = new Map<string, StoredPoint>();
    await Promise.all(
      [...byTenant].map(async ([tenant, ids]) => {
        for (const point of await this.#store.get(ids, { tenant })) found.set(point.id, point);
      }),
    );
    return refs.map(({ id }) => ({ ok: true, value: found.get(id) }));
  }

  /**
   * One batch of writes: a single store.upsert(). The store refuses a whole batch for one bad
   * point (a share with a date that is not one, say); then each point is written alone, so only
   * that image fails. A failure that may pass (the store unreachable) fails the whole batch:
   * every caller keeps its image queued and tries again.
   */
  async #write(points: readonly PointInput[]): Promise<Array<ItemOutcome<void>>> {
    try {
      await this.#store.upsert(points);
      return points.map(() => ({ ok: true, value: undefined }));
    } catch (error) {
      if (points.length === 1 || isTransient(asFindimageError(error))) throw error;
      this.#logger.warn({ err: error, points: points.length }, 'a batch write was refused; writing its points one at a time');
      const outcomes: Array<ItemOutcome<void>> = [];
      for (const point of points) {
        outcomes.push(
          await this.#store.upsert([point]).then(
            () => ({ ok: true as const, value: undefined }),
            (single: unknown) => ({ ok: false as const, error: single }),
          ),
        );
      }
      return outcomes;
    }
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
