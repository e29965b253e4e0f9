// The settings that keep indexing out of a search's way, as src/config.ts reads them: defaults,
// bounds and the messages a user sees for a value out of range.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { DEFAULT_BULK_NICENESS } from './gpu-worker/embedding-pool-options.js';

describe('FINDIMAGE_BULK_NICE and FINDIMAGE_QUIET_BULK_BATCH', () => {
  it('default to the pool default niceness (10) and no quiet batch', () => {
    const config = loadConfig({});
    expect(config.bulkNiceness).toBe(DEFAULT_BULK_NICENESS);
    expect(config.bulkNiceness).toBe(10);
    expect(config.quietBulkBatch).toBeUndefined();
  });

  it('read whole numbers in range; 0 turns the lower priority off', () => {
    expect(loadConfig({ FINDIMAGE_BULK_NICE: '0' }).bulkNiceness).toBe(0);
    expect(loadConfig({ FINDIMAGE_BULK_NICE: '19' }).bulkNiceness).toBe(19);
    expect(loadConfig({ FINDIMAGE_QUIET_BULK_BATCH: '8' }).quietBulkBatch).toBe(8);
  });

  it('refuse values out of range and non-numbers, naming the setting', () => {
    expect(() => loadConfig({ FINDIMAGE_BULK_NICE: '20' })).toThrow(/FINDIMAGE_BULK_NICE must be from 0 \(unchanged\) to 19/);
    expect(() => loadConfig({ FINDIMAGE_BULK_NICE: '-1' })).toThrow(/FINDIMAGE_BULK_NICE/);
    expect(() => loadConfig({ FINDIMAGE_BULK_NICE: 'low' })).toThrow(/FINDIMAGE_BULK_NICE must be a whole number/);
    expect(() => loadConfig({ FINDIMAGE_QUIET_BULK_BATCH: '0' })).toThrow(/FINDIMAGE_QUIET_BULK_BATCH/);
    expect(() => loadConfig({ FINDIMAGE_QUIET_BULK_BATCH: '512' })).toThrow(/FINDIMAGE_QUIET_BULK_BATCH/);
  });
});
