// How ImageIndexer batches its store calls while indexing: the defaults here, the settings in
// FINDIMAGE_INDEX_BATCH and FINDIMAGE_INDEX_BATCHES_IN_FLIGHT (parsed in src/config.ts).

/**
 * Points per store write and ids per duplicate lookup. 64 points of 512 floats are about 700 KB
 * of JSON to Qdrant, far under its 32 MB request limit, and cut the requests per image from two
 * to about 1/32; bench/qdrant-adapter.ts measured little more from bigger batches.
 */
export const DEFAULT_INDEX_BATCH_SIZE = 64;

/** Largest batch size accepted: QdrantStore splits anything bigger into requests of this many anyway. */
export const MAX_INDEX_BATCH_SIZE = 256;

/** Batches of each kind (lookups, writes) sent at once: one fills while the other is on the wire. */
export const DEFAULT_INDEX_BATCHES_IN_FLIGHT = 2;

/** Most batches in flight accepted: more only queue up at the store. */
export const MAX_INDEX_BATCHES_IN_FLIGHT = 8;

/**
 * How long a partial batch waits for more images, in ms, when other images are still on their
 * way (a batch is sent at once when none is). Short beside one embedding (tens of ms on a CPU),
 * so a lone upload is not held back noticeably.
 */
export const INDEX_BATCH_LINGER_MS = 20;

/** How ImageIndexer batches its store calls. */
export interface IndexBatching {
  /** Points per write and ids per lookup, at most (default DEFAULT_INDEX_BATCH_SIZE; 1 turns batching off). */
  size: number;
  /** Batches of each kind in flight at once (default DEFAULT_INDEX_BATCHES_IN_FLIGHT). */
  inFlight: number;
  /** How long a partial batch waits for company, in ms (default INDEX_BATCH_LINGER_MS). */
  lingerMs?: number;
}
