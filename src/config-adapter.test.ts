// FINDIMAGE_ADAPTER: read and checked when the config loads, so a missing, damaged or
// other-model adapter stops findimage with a message naming the variable, before any search.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { encodeAdapterFile } from './core/tuning/adapter-file.js';
import { QueryAdapter } from './core/tuning/query-adapter.js';

describe('FINDIMAGE_ADAPTER', () => {
  let dir: string;
  let tinyAdapter: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-config-adapter-'));
    tinyAdapter = join(dir, 'tiny.json');
    await writeFile(tinyAdapter, encodeAdapterFile(QueryAdapter.identity('tiny-test', 4), {}));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is unset by default: no adapter', () => {
    expect(loadConfig({}).adapter).toBeUndefined();
    expect(loadConfig({ FINDIMAGE_ADAPTER: '  ' }).adapter).toBeUndefined();
  });

  it('loads an adapter made for FINDIMAGE_MODEL', () => {
    const config = loadConfig({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_ADAPTER: tinyAdapter });
    expect(config.adapter?.path).toBe(tinyAdapter);
    expect(config.adapter?.file.adapter.modelId).toBe('tiny-test');
  });

  it('refuses an adapter made for another model, naming both and what to do', () => {
    expect(() => loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32', FINDIMAGE_ADAPTER: tinyAdapter })).toThrow(
      `FINDIMAGE_ADAPTER (${tinyAdapter}) was made for the model tiny-test, but FINDIMAGE_MODEL is clip-vit-b32: an adapter only fits the model it was learned on. Set FINDIMAGE_MODEL=tiny-test, run \`findimage tune\` for clip-vit-b32, or unset FINDIMAGE_ADAPTER.`,
    );
  });

  it('refuses a file that is not there, or not an adapter', async () => {
    expect(() => loadConfig({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_ADAPTER: join(dir, 'missing.json') })).toThrow(/FINDIMAGE_ADAPTER names .*missing.json, which cannot be read \(no such file\)/);
    const junk = join(dir, 'junk.json');
    await writeFile(junk, '{"format": "something else"}');
    expect(() => loadConfig({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_ADAPTER: junk })).toThrow(/is not a usable findimage query adapter/);
  });
});
