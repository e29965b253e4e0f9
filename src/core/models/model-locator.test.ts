// Where model files are found (FINDIMAGE_MODEL_DIR, cache, bundle), how they are checked, and
// what a user is told when the model cannot be had. A fake hub on 127.0.0.1 stands in for the hub.
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import { createSilentLogger } from '../../logger.js';
import { ModelLocator, type ModelLocatorOptions } from './model-locator.js';
import { getModelSpec } from './model-registry.js';
import type { ModelSpec } from './model-spec.js';
import { packageRoot } from './package-root.js';
import { FAKE_REPO, FAKE_REVISION, FakeHub, buildFakeModel, type FakeModel } from './testing/fake-hub.js';

/** A port nothing listens on: bound, noted, released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function writeModel(dir: string, model: FakeModel, layout: 'repo' | 'flat'): Promise<void> {
  for (const [path, bytes] of model.bytes) {
    const target = layout === 'repo' ? join(dir, path) : join(dir, path.split('/').at(-1) ?? path);
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, bytes);
  }
}

describe('ModelLocator', () => {
  let model: FakeModel;
  let hub: FakeHub;
  let work: string;
  let cacheDir: string;

  const locator = (extra: Partial<ModelLocatorOptions> = {}) =>
    new ModelLocator({ cacheDir, baseUrl: hub.baseUrl, logger: createSilentLogger(), retryDelayMs: 1, maxAttempts: 2, ...extra });

  beforeEach(async () => {
    model = buildFakeModel({ text: 40_000, vision: 60_000, tokenizer: 5_000 });
    hub = await FakeHub.start(model);
    work = await mkdtemp(join(tmpdir(), 'findimage-locate-'));
    cacheDir = join(work, 'cache');
  });

  afterEach(async () => {
    await hub.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('downloads a missing hub model into the cache, then finds it there with no request', async () => {
    const first = await locator().locate(model.spec);
    expect(first.visionModel).toBe(join(cacheDir, ...FAKE_REPO.split('/'), FAKE_REVISION, 'onnx', 'vision_model.onnx'));
    expect(hub.requests).toHaveLength(3);

    const second = await locator().locate(model.spec);

    expect(second).toEqual(first);
    expect(hub.requests).toHaveLength(3);
  });

  it('uses FINDIMAGE_MODEL_DIR laid out like the repository, without any request', async () => {
    const modelDir = join(work, 'repo-layout');
    await writeModel(modelDir, model, 'repo');

    const paths = await locator({ modelDir }).locate(model.spec);

    expect(paths).toEqual({
      textModel: join(modelDir, 'onnx', 'text_model.onnx'),
      visionModel: join(modelDir, 'onnx', 'vision_model.onnx'),
      tokenizer: join(modelDir, 'tokenizer.json'),
    });
    expect(hub.requests).toHaveLength(0);
  });

  it('uses a flat FINDIMAGE_MODEL_DIR (files side by side), without any request', async () => {
    const modelDir = join(work, 'flat');
    await writeModel(modelDir, model, 'flat');

    const paths = await locator({ modelDir, allowDownload: false }).locate(model.spec);

    expect(paths.textModel).toBe(join(modelDir, 'text_model.onnx'));
    expect(paths.visionModel).toBe(join(modelDir, 'vision_model.onnx'));
    expect(hub.requests).toHaveLength(0);
  });

  it('refuses a corrupted file in FINDIMAGE_MODEL_DIR, naming it, instead of loading it', async () => {
    const modelDir = join(work, 'damaged');
    await writeModel(modelDir, model, 'repo');
    const damaged = join(modelDir, 'onnx', 'vision_model.onnx');
    const bytes = await readFile(damaged);
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    await writeFile(damaged, bytes);

    const error = await locator({ modelDir }).locate(model.spec).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_checksum_mismatch');
    expect((error as ModelError).message).toContain(damaged);
    expect((error as ModelError).message).toContain(`expected sha256 ${model.spec.files.visionModel.sha256}`);
    expect(hub.requests).toHaveLength(0);
  });

  it('refuses a truncated file in FINDIMAGE_MODEL_DIR by its size', async () => {
    const modelDir = join(work, 'short');
    await writeModel(modelDir, model, 'repo');
    const short = join(modelDir, 'tokenizer.json');
    await writeFile(short, 'x');

    const error = await locator({ modelDir }).locate(model.spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_checksum_mismatch');
    expect((error as ModelError).message).toContain(`${short} in FINDIMAGE_MODEL_DIR`);
    expect((error as ModelError).message).toContain(`expected ${model.spec.files.tokenizer.size} bytes, found 1`);
  });

  it('says which files are missing when FINDIMAGE_MODEL_DIR holds only part of the model', async () => {
    const modelDir = join(work, 'partial');
    await writeModel(modelDir, model, 'repo');
    await rm(join(modelDir, 'tokenizer.json'));

    const error = await locator({ modelDir }).locate(model.spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_missing');
    expect((error as ModelError).message).toContain('tokenizer.json is missing');
  });

  it('hashes a file once: later starts check its size, and re-hash it when the file changes', async () => {
    const modelDir = join(work, 'stamped');
    await writeModel(modelDir, model, 'repo');
    const target = join(modelDir, 'onnx', 'text_model.onnx');
    // A whole-second mtime, so that putting it back below restores it exactly.
    const mtime = new Date('2026-01-01T00:00:00Z');
    await utimes(target, mtime, mtime);
    await locator({ modelDir }).locate(model.spec);
    const inode = (await stat(target)).ino;
    const bytes = await readFile(target);
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    await writeFile(target, bytes);
    expect((await stat(target)).ino).toBe(inode);

    // Same inode, same size, mtime put back: the remembered hash is trusted, nothing is re-read.
    await utimes(target, mtime, mtime);
    await expect(locator({ modelDir }).locate(model.spec)).resolves.toBeDefined();

    // A new mtime voids the stamp, and the re-hash catches the change.
    await utimes(target, mtime, new Date(mtime.getTime() + 5_000));
    const error = await locator({ modelDir }).locate(model.spec).catch((e: unknown) => e);
    expect((error as ModelError).code).toBe('model_checksum_mismatch');
  });

  it('tells the user exactly what to do when the hub cannot be reached', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;

    const error = await locator({ baseUrl }).locate(model.spec).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelError);
    const message = (error as ModelError).message;
    expect((error as ModelError).code).toBe('model_download_failed');
    expect(message).toContain('Model fake-clip is not on this machine and could not be downloaded');
    expect(message).toContain('findimage model pull fake-clip');
    expect(message).toContain('FINDIMAGE_MODEL_DIR');
    expect(message).toContain('FINDIMAGE_MODEL=tiny-test');
    for (const file of Object.values(model.spec.files)) {
      expect(message).toContain(`${baseUrl}/${FAKE_REPO}/resolve/${FAKE_REVISION}/${file.path}`);
      expect(message).toContain(file.sha256);
    }
  });

  it('does not touch the network when downloads are off, and says what to do instead', async () => {
    const error = await locator({ allowDownload: false }).locate(model.spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_missing');
    expect((error as ModelError).message).toContain('findimage model pull fake-clip');
    expect(hub.requests).toHaveLength(0);
  });

  it('finds the bundled tiny-test model in the package, verified, with no request', async () => {
    const spec = getModelSpec('tiny-test');

    const paths = await locator({ allowDownload: false }).locate(spec);

    expect(paths.textModel).toBe(join(packageRoot(), 'models', 'tiny-test', 'onnx', 'text_model.onnx'));
    expect(paths.tokenizer).toBe(join(packageRoot(), 'models', 'tiny-test', 'tokenizer.json'));
    expect(hub.requests).toHaveLength(0);
  });

  it('reports a damaged bundled model as a load failure naming the file', async () => {
    const bundleRoot = join(work, 'bundle');
    const spec: ModelSpec = { ...model.spec, id: 'bundled-fake', source: { kind: 'bundled', dir: 'models/fake' } };
    await writeModel(join(bundleRoot, 'models', 'fake'), model, 'repo');
    await writeFile(join(bundleRoot, 'models', 'fake', 'tokenizer.json'), 'broken');

    const error = await locator({ bundleRoot }).locate(spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_load_failed');
    expect((error as ModelError).message).toContain(join(bundleRoot, 'models', 'fake', 'tokenizer.json'));
  });

  it('reports where each model is without hashing or downloading', async () => {
    const missing = await locator().status(model.spec);
    expect(missing).toEqual({ location: 'missing', downloadBytes: 105_000 });

    await locator().locate(model.spec);
    const cached = await locator().status(model.spec);
    expect(cached.location).toBe('cache');

    const modelDir = join(work, 'dir');
    await writeModel(modelDir, model, 'flat');
    expect((await locator({ modelDir }).status(model.spec)).location).toBe('model-dir');
    expect((await locator().status(getModelSpec('tiny-test'))).location).toBe('bundled');
    expect(hub.requests).toHaveLength(3);
  });
});
