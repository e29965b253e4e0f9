// Thumbnails shared by the processes of a fleet: the bytes of each image's thumbnail by image id,
// so that a replica without the original file (a web upload kept by the replica that took it)
// can still show it. Only a fleet has one (coordination.ts); one machine keeps its thumbnails on
// its own disk, beside the originals.

/**
 * Largest thumbnail shared, in bytes. The web app's thumbnails are 512 px JPEGs at quality 80,
 * 20 to 80 KB; anything far past that is not one of them, and each byte stored costs the
 * fleet's Redis memory, which also holds the job queue.
 */
export const MAX_SHARED_THUMBNAIL_BYTES = 256 * 1024;

/** A byte cache of thumbnails by image id that every process of the installation reads and writes. */
export interface SharedThumbnails {
  /**
   * The thumbnail of image `id`, or undefined when none is shared (never made, expired, deleted,
   * or the shared cache is unreachable now: the caller then makes it from the original if it can).
   */
  get(id: string): Promise<Buffer | undefined>;
  /**
   * Shares `jpeg` as image `id`'s thumbnail. Skipped (not thrown) when it is over
   * MAX_SHARED_THUMBNAIL_BYTES or the shared cache is unreachable: a thumbnail is a convenience,
   * never a reason to fail a request.
   */
  put(id: string, jpeg: Uint8Array): Promise<void>;
  /**
   * Keeps image `id`'s shared thumbnail for another full expiry, as if it had been read (a replica
   * served it from its own disk). False when none is shared now (the caller may put it again) or
   * the shared cache is unreachable.
   */
  renew(id: string): Promise<boolean>;
  /** Deletes image `id`'s shared thumbnail (the image was deleted). Skipped while unreachable. */
  forget(id: string): Promise<void>;
}
