// `findimage index` reads ahead so that the indexer's batches fill, and no further: the files it
// has handed the indexer and not yet seen stored stay within the bytes bound and within one
// batch size x batches in flight.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PreparedImage } from '../../core/embedding/embedder.js';
import { ImageIndexer, type ImageToIndex, type IndexOptions, type IndexResult } from '../../core/indexing/image-indexer.js';
import type { IndexBatching } from '../../core/indexing/index-batching.js';
import { openSqliteVectorStore } from '../../core/store/sqlite-vector-store.js';
import type { VectorStore } from '../../core/store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../../core/testing/json-images.js';
import { KnownVectorEmbedder } from '../../core/testing/known-vector-embedder.js';
import { waitUntil } from '../../core/testing/wait-until.js';
import { createSilentLogger } from '../../logger.js';
import type { Terminal } from '../terminal.js';
import { imagesDecodingFor, runIndex } from './index-command.js';

const logger = createSilentLogger();
const FILES = 10;
const silent: Terminal = { out: () => {}, err: () => {}, progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }) };

/** An embedder whose images come out only when the test lets them. */
class GatedEmbedder extends KnownVectorEmbedder {
  readonly waiting: Array<() => void> = [];

  override async embedImage(image: PreparedImage): Promise<Float32Array> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.embedImage(image);
  }
}

/** An indexer that counts the images handed to it and not yet settled, and the most at once. */
class CountingIndexer extends ImageIndexer {
  held = 0;
  mostHeld = 0;

  override async index(image: ImageToIndex, options?: IndexOptions): Promise<IndexResult> {
    this.mostHeld = Math.max(this.mostHeld, ++this.held);
    try {
      return await super.index(image, options);
    } finally {
      this.held--;
    }
  }
}

describe('findimage index reading ahead', () => {
  let dir: string;
  let folder: string;
  let store: VectorStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-read-ahead-'));
    folder = join(dir, 'photos');
    await mkdir(folder);
    // Test images are JSON vectors (prepareJsonImage): what is read, not how it decodes, matters here.
    for (let i = 0; i < FILES; i++) await writeFile(join(folder, `photo${i}.png`), jsonImage([i + 1, 1, 0.5, 0]));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the index, letting embeddings out one at a time; the most images the indexer held at once. */
  async function mostHeld(batching: IndexBatching, readAheadBytes?: number): Promise<number> {
    const embedder = new GatedEmbedder(4);
    const indexer = new CountingIndexer({ embedder, store, prepare: prepareJsonImage, logger, batching });
    let finished = false;
    const run = runIndex({ indexer }, folder, silent, { indexer, readAheadBytes }).finally(() => (finished = true));
    while (!finished) {
      await waitUntil(() => finished || embedder.waiting.length > 0, 'an image waiting to be embedded, or the end');
      embedder.waiting.shift()?.();
    }
    const summary = await run;
    expect(summary).toMatchObject({ indexed: FILES, duplicates: 0, skipped: [] });
    return indexer.mostHeld;
  }

  it('holds no more files than the bytes bound lets in (one file past it at most)', async () => {
    const fileBytes = (await stat(join(folder, 'photo0.png'))).size;
    // Room for 2.5 files: the third is let in while under the bound, then reading waits.
    expect(await mostHeld({ size: 64, inFlight: 2 }, fileBytes * 2.5)).toBe(3);
  });

  it('holds no more files than batch size x batches in flight', async () => {
    expect(await mostHeld({ size: 2, inFlight: 2 })).toBe(4);
  });

  it('decodes and embeds no more images at once than it is given', async () => {
    const embedder = new GatedEmbedder(4);
    const indexer = new ImageIndexer({ embedder, store, prepare: prepareJsonImage, logger, batching: { size: 64, inFlight: 2 } });
    const run = runIndex({ indexer }, folder, silent, { indexer, imagesDecoding: 3 });
    let mostWaiting = 0;
    for (let released = 0; released < FILES; released++) {
      await waitUntil(() => embedder.waiting.length === Math.min(3, FILES - released), 'the images in flight to reach the embedder');
      mostWaiting = Math.max(mostWaiting, embedder.waiting.length);
      embedder.waiting.shift()?.();
    }
    expect(await run).toMatchObject({ indexed: FILES });
    expect(mostWaiting).toBe(3);
  });
});

describe('images decoded at once by findimage index', () => {
  it('are 4 a core, and 6 at the least', () => {
    expect(imagesDecodingFor(1)).toBe(6);
    expect(imagesDecodingFor(2)).toBe(8);
    expect(imagesDecodingFor(16)).toBe(64);
  });
});
