// Fills a store with random unit vectors and plausible chat payloads, straight through
// VectorStore.upsert: a 100k-image workspace in seconds, without embedding 100k images. The
// vectors are uniform directions (no neighbourhood structure: the worst case for an approximate
// index) or clustered like real embeddings (see clusteredVectors).
import { createHash } from 'node:crypto';
import { pointIdFor } from '../src/core/indexing/point-id.js';
import type { ImagePayload, PointInput, VectorStore } from '../src/core/store/vector-store.js';
import { seededRandom } from './jpeg-corpus.js';

/** Points per upsert call: one SQLite transaction each, large enough that commits do not dominate. */
export const FILL_BATCH = 1_000;
/** Shape of the fake workspace: a busy team's channels and people. */
export const CHANNELS = 40;
const UPLOADERS = 120;
/** Every this many chat images also has a second share (a re-post), so scans see multi-share rows. */
const REPOSTED_EVERY = 20;
/** Images are spread over the last two years. */
const SPAN_MS = 2 * 365 * 24 * 3600 * 1000;
const SOURCES = ['slack', 'discord', 'local'] as const;
const SIZES = [
  [4032, 3024],
  [3024, 4032],
  [1920, 1080],
  [1080, 1920],
  [1280, 720],
  [800, 600],
] as const;

/**
 * Clustered data: TOPICS broad topics, each with CENTRES_PER_TOPIC sub-centres (4,096 centres
 * in all, like "dogs" > "dogs on a beach"), and CLUSTERED_SHARE of the points near one centre;
 * the rest are uniform directions (odd one-off images). Real CLIP image embeddings are
 * clustered like this, not uniform.
 */
const TOPICS = 64;
const CENTRES_PER_TOPIC = 64;
const CLUSTERED_SHARE = 0.9;
/** A sub-centre is topic + this much of a random direction: cosine to its topic about 0.78. */
const CENTRE_SPREAD = 0.8;
/** A point is centre + this much of a random direction: cosine to its centre about 0.71. */
const POINT_SPREAD = 1.0;
/** The centres come from their own stream, so a fill and its queries share them. */
const CENTRE_SEED = 0xc1a55;

/** The distributions a fill can draw from. */
export type VectorData = 'uniform' | 'clustered';

/** Where a fill's (and its queries') vectors come from. */
export interface VectorSource {
  /** Which distribution this is, for reports. */
  readonly kind: VectorData;
  /** The next vector, drawn with `random` (unit length). */
  next(random: () => number): Float32Array;
}

export interface VectorFillOptions {
  store: VectorStore;
  tenant: string;
  modelId: string;
  /** Points to write in this call; ids continue from `startIndex`. */
  count: number;
  startIndex: number;
  /** Fixes the random stream, so runs fill the same store. */
  seed: number;
  /** The vectors' distribution; uniform directions when omitted. */
  vectors?: VectorSource;
  /** Called after each batch with the points written so far in this call. */
  onProgress?: (written: number) => void;
}

/** The conversation id fillStore gives channel `channel` (0 to CHANNELS - 1). */
export function conversationId(channel: number): string {
  return `C${String(channel).padStart(8, '0')}`;
}

/** A random direction in `dimension` dimensions (normal components, then normalised). */
export function randomUnitVector(dimension: number, random: () => number): Float32Array {
  const vector = new Float32Array(dimension);
  let norm = 0;
  for (let i = 0; i < dimension; i += 2) {
    // Box-Muller: two normal samples per pair of uniforms.
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    const a = radius * Math.cos(angle);
    const b = radius * Math.sin(angle);
    vector[i] = a;
    norm += a * a;
    if (i + 1 < dimension) {
      vector[i + 1] = b;
      norm += b * b;
    }
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}

/** `base` plus `spread` times a random direction, normalised. */
function around(base: Float32Array, spread: number, random: () => number): Float32Array {
  const vector = randomUnitVector(base.length, random);
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = (base[i] as number) + spread * (vector[i] as number);
    vector[i] = x;
    norm += x * x;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}

/** Uniform directions: no neighbourhood structure at all. */
export function uniformVectors(dimension: number): VectorSource {
  return { kind: 'uniform', next: (random) => randomUnitVector(dimension, random) };
}

/** Clustered directions (TOPICS x CENTRES_PER_TOPIC centres, CLUSTERED_SHARE near one). */
export function clusteredVectors(dimension: number): VectorSource {
  const random = seededRandom(CENTRE_SEED);
  const centres: Float32Array[] = [];
  for (let t = 0; t < TOPICS; t++) {
    const topic = randomUnitVector(dimension, random);
    for (let c = 0; c < CENTRES_PER_TOPIC; c++) centres.push(around(topic, CENTRE_SPREAD, random));
  }
  return {
    kind: 'clustered',
    next(random) {
      if (random() >= CLUSTERED_SHARE) return randomUnitVector(dimension, random);
      const centre = centres[Math.floor(random() * centres.length)] as Float32Array;
      return around(centre, POINT_SPREAD, random);
    },
  };
}

/** The source for `kind` at `dimension`. */
export function vectorSourceFor(kind: VectorData, dimension: number): VectorSource {
  return kind === 'clustered' ? clusteredVectors(dimension) : uniformVectors(dimension);
}

function payloadFor(index: number, options: VectorFillOptions, random: () => number, now: number): ImagePayload {
  const contentHash = createHash('sha256').update(`bench-image-${index}`).digest('hex');
  const source = SOURCES[index % SOURCES.length] as string;
  const [width, height] = SIZES[index % SIZES.length] as readonly [number, number];
  const channel = Math.floor(random() * CHANNELS);
  const createdAt = new Date(now - Math.floor(random() * SPAN_MS)).toISOString();
  const payload: ImagePayload = {
    tenant: options.tenant,
    source,
    filename: `IMG_${String(index).padStart(6, '0')}.jpg`,
    contentHash,
    modelId: options.modelId,
    createdAt,
    width,
    height,
    shares: [],
  };
  if (source === 'local') {
    payload.path = `/home/bench/Pictures/IMG_${String(index).padStart(6, '0')}.jpg`;
  } else {
    const uploader = `U${String(Math.floor(random() * UPLOADERS)).padStart(8, '0')}`;
    const fileId = `F${String(index).padStart(10, '0')}`;
    payload.shares.push({
      conversation: conversationId(channel),
      isPublic: channel % 4 !== 0,
      sharedAt: createdAt,
      uploader,
      messageId: `${Math.floor(now / 1000) - index}.${String(index % 1_000_000).padStart(6, '0')}`,
      fileId,
      permalink: `https://example.slack.com/files/${uploader}/${fileId}`,
    });
    // One image in REPOSTED_EVERY is posted again in the next channel, as real chats do.
    if (index % REPOSTED_EVERY === 0) {
      const again = (channel + 1) % CHANNELS;
      payload.shares.push({
        conversation: conversationId(again),
        isPublic: again % 4 !== 0,
        sharedAt: createdAt,
        uploader,
        messageId: `${Math.floor(now / 1000) - index}.${String((index + 1) % 1_000_000).padStart(6, '0')}`,
        fileId,
      });
    }
  }
  return payload;
}

/** Writes `count` random points in FILL_BATCH upserts; resolves to the time taken, ms. */
export async function fillStore(options: VectorFillOptions): Promise<number> {
  const random = seededRandom(options.seed + options.startIndex);
  const now = Date.now();
  const vectors = options.vectors ?? uniformVectors(options.store.dimension);
  const started = performance.now();
  for (let done = 0; done < options.count; done += FILL_BATCH) {
    const batch: PointInput[] = [];
    const end = Math.min(options.count, done + FILL_BATCH);
    for (let i = done; i < end; i++) {
      const index = options.startIndex + i;
      const payload = payloadFor(index, options, random, now);
      batch.push({
        id: pointIdFor(options.tenant, payload.contentHash),
        vector: vectors.next(random),
        payload,
      });
    }
    await options.store.upsert(batch);
    options.onProgress?.(end);
  }
  return performance.now() - started;
}
