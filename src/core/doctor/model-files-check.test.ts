// The doctor's model check: it finds each file where findimage would load it, checks its size
// and its sha256 against the registry's pin, trusts a verification stamp for a file hashed
// before and unchanged, and hashes everything again when asked (--full).
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { ModelLocator } from '../models/model-locator.js';
import { getModelSpec } from '../models/model-registry.js';
import { VerificationStamps } from '../models/verification-stamps.js';
import { modelFilesCheck } from './model-files-check.js';

const TINY = getModelSpec('tiny-test');
const BUNDLE = join(import.meta.dirname, '..', '..', '..', 'models', 'tiny-test');
const FILES = ['onnx/text_model.onnx', 'onnx/vision_model.onnx', 'tokenizer.json'];

describe('the model files check', () => {
  let dir: string;
  let modelDir: string;
  let stamps: Pick<VerificationStamps, 'isVerified' | 'record'>;
  let hashed: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-doctor-model-'));
    modelDir = join(dir, 'model');
    await mkdir(join(modelDir, 'onnx'), { recursive: true });
    for (const file of FILES) await copyFile(join(BUNDLE, file), join(modelDir, file));
    // Counts the files hashed now: a stamp recorded means a hash was computed.
    const real = new VerificationStamps({ cacheDir: join(dir, 'cache'), logger: createSilentLogger() });
    hashed = [];
    stamps = {
      isVerified: (path, sha256) => real.isVerified(path, sha256),
      record: async (path, sha256) => {
        hashed.push(path);
        await real.record(path, sha256);
      },
    };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const check = (fullHash: boolean, modelDirSetting: string | undefined = modelDir) =>
    modelFilesCheck({ spec: TINY, locator: new ModelLocator({ modelDir: modelDirSetting, cacheDir: join(dir, 'cache'), baseUrl: 'http://hub.invalid', logger: createSilentLogger(), allowDownload: false }), stamps, fullHash });

  it('hashes each file once, then trusts the stamps until --full asks for a re-hash', async () => {
    expect((await check(false).run(new AbortController().signal)).summary).toContain('sha256 computed now');
    expect(hashed).toHaveLength(3);
    expect((await check(false).run(new AbortController().signal)).summary).toContain('sha256 from verification stamps');
    expect(hashed).toHaveLength(3);
    expect((await check(true).run(new AbortController().signal)).summary).toContain('sha256 computed now');
    expect(hashed).toHaveLength(6);
  });

  it('fails a file changed after it was stamped, whose size is still right, on --full', async () => {
    await check(false).run(new AbortController().signal);
    const path = join(modelDir, 'tokenizer.json');
    const bytes = await readFile(path);
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    await writeFile(path, bytes);
    const result = await check(true).run(new AbortController().signal);
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/tokenizer\.json has sha256 [0-9a-f]{64}, the pinned tokenizer\.json has 0d4008ce/);
  });

  it('fails a file of the wrong size, and a model that is not there, saying what to run', async () => {
    await writeFile(join(modelDir, 'onnx/vision_model.onnx'), 'short');
    const damaged = await check(false).run(new AbortController().signal);
    expect(damaged).toMatchObject({ status: 'fail', summary: expect.stringContaining('vision_model.onnx is 5 bytes, the pinned onnx/vision_model.onnx is 115382') });
    const hub = getModelSpec('clip-vit-b32');
    const absent = await modelFilesCheck({ spec: hub, locator: new ModelLocator({ cacheDir: join(dir, 'empty'), baseUrl: 'http://hub.invalid', logger: createSilentLogger() }), stamps, fullHash: false }).run(new AbortController().signal);
    expect(absent).toEqual({ status: 'fail', summary: 'model clip-vit-b32 is not on this machine', action: expect.stringContaining('findimage model pull clip-vit-b32') });
  });

  it('stops hashing once out of time and records no stamp', async () => {
    const outOfTime = new AbortController();
    // Time runs out as the first file is about to be hashed.
    const stampsThatTimeOut: typeof stamps = {
      isVerified: async () => {
        outOfTime.abort();
        return false;
      },
      record: stamps.record,
    };
    const locator = new ModelLocator({ modelDir, cacheDir: join(dir, 'cache'), baseUrl: 'http://hub.invalid', logger: createSilentLogger(), allowDownload: false });

    await expect(modelFilesCheck({ spec: TINY, locator, stamps: stampsThatTimeOut, fullHash: false }).run(outOfTime.signal)).rejects.toThrow(/abort/i);
    expect(hashed).toEqual([]);
  });

  it('looks for each file in FINDIMAGE_MODEL_DIR where the loader does, at its repository path or flat', async () => {
    const flat = join(dir, 'flat');
    await mkdir(flat);
    for (const file of FILES) await copyFile(join(BUNDLE, file), join(flat, file.split('/').at(-1) as string));
    for (const folder of [modelDir, flat]) {
      const locator = new ModelLocator({ modelDir: folder, cacheDir: join(dir, 'cache'), baseUrl: 'http://hub.invalid', logger: createSilentLogger(), allowDownload: false });
      const status = await locator.status(TINY);
      expect(status.location).toBe('model-dir');
      expect(locator.places(TINY).map((place) => place.paths)).toContainEqual(status.location === 'missing' ? undefined : status.paths);
      hashed = [];
      // tiny-test's weights are random, so a match reads as a warning that says so, never a failure.
      expect(await check(false, folder).run(new AbortController().signal)).toMatchObject({
        status: 'warn',
        summary: expect.stringContaining('model tiny-test: 3 files, sizes and sha256 match the pins (sha256 computed now)'),
      });
      expect(hashed.sort()).toEqual(Object.values(status.paths ?? {}).sort());
    }
  });
});
