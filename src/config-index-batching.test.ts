// The indexing batch settings as src/config.ts reads them: defaults, bounds and the messages a
// user sees for a value out of range.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { DEFAULT_INDEX_BATCH_SIZE, DEFAULT_INDEX_BATCHES_IN_FLIGHT } from './core/indexing/index-batching.js';

describe('FINDIMAGE_INDEX_BATCH and FINDIMAGE_INDEX_BATCHES_IN_FLIGHT', () => {
  it('default to 64 images per batch and 2 batches in flight', () => {
    expect(loadConfig({}).indexBatching).toEqual({ size: DEFAULT_INDEX_BATCH_SIZE, inFlight: DEFAULT_INDEX_BATCHES_IN_FLIGHT });
    expect(loadConfig({}).indexBatching).toEqual({ size: 64, inFlight: 2 });
  });

  it('read whole numbers in range', () => {
    const config = loadConfig({ FINDIMAGE_INDEX_BATCH: '1', FINDIMAGE_INDEX_BATCHES_IN_FLIGHT: '4' });
    expect(config.indexBatching).toEqual({ size: 1, inFlight: 4 });
  });

  it('refuse 0, too many and non-numbers, naming the setting', () => {
    expect(() => loadConfig({ FINDIMAGE_INDEX_BATCH: '0' })).toThrow(/FINDIMAGE_INDEX_BATCH/);
    expect(() => loadConfig({ FINDIMAGE_INDEX_BATCH: '1000' })).toThrow(/FINDIMAGE_INDEX_BATCH must be at most 256/);
    expect(() => loadConfig({ FINDIMAGE_INDEX_BATCHES_IN_FLIGHT: '9' })).toThrow(/FINDIMAGE_INDEX_BATCHES_IN_FLIGHT must be at most 8/);
    expect(() => loadConfig({ FINDIMAGE_INDEX_BATCHES_IN_FLIGHT: 'two' })).toThrow(/FINDIMAGE_INDEX_BATCHES_IN_FLIGHT/);
  });
});
