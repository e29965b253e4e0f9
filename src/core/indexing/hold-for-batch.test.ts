// holdForBatch: a bulk caller's images reach their write one model run apart, far more than the
// linger time; held, they still share one write, where without it each leaves nearly alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { PreparedImage } from '../embedding/embedder.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { waitUntil } from '../testing/wait-until.js';
import { ImageIndexer, type IndexOptions } from './image-indexer.js';

const logger = createSilentLogger();
const IMAGES = 8;

/** An embedder whose images come out only when the test lets them, one at a time. */
class GatedEmbedder extends KnownVectorEmbedder {
  readonly waiting: Array<() => void> = [];

  override async embedImage(image: PreparedImage): Promise<Float32Array> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.embedImage(image);
  }
}

describe('ImageIndexer holdForBatch', () => {
  let dir: string;
  let store: VectorStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-hold-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Indexes IMAGES images together, letting each embedding finish only after the one before is written or held. */
  async function writesFor(options: IndexOptions): Promise<number> {
    const embedder = new GatedEmbedder(4);
    // A linger of 0: any batch that may linger leaves at the next timer tick.
    const indexer = new ImageIndexer({ embedder, store, prepare: prepareJsonImage, logger, batching: { size: 64, inFlight: 2, lingerMs: 0 } });
    const done = Promise.all(
      Array.from({ length: IMAGES }, (_, i) =>
        indexer.index({ bytes: jsonImage([i + 1, 1, 0.5, 0]), filename: `${i}.png`, tenant: 'T1', source: 'local' }, options),
      ),
    );
    for (let released = 0; released < IMAGES; released++) {
      await waitUntil(() => embedder.waiting.length > 0, 'an image waiting to be embedded');
      embedder.waiting.shift()?.();
      // A timer tick passes between two embeddings, as a model run does: a lingering batch leaves.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const results = await done;
    expect(results.map((r) => r.status)).toEqual(Array(IMAGES).fill('indexed'));
    return indexer.requests.writes;
  }

  it('writes images embedded one by one in one batch when they are held for it', async () => {
    expect(await writesFor({ holdForBatch: true })).toBe(1);
  });

  it('sends a batch after the linger time otherwise, so a lone upload is not held back', async () => {
    expect(await writesFor({})).toBeGreaterThan(1);
  });
});
