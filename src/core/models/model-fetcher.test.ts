// Downloads against a fake hub on 127.0.0.1: progress, cache layout, resume, redirects, refusal.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import { createSilentLogger } from '../../logger.js';
import type { DownloadProgressEvent } from './download-progress.js';
import { waitUntil } from '../testing/wait-until.js';
import { ModelFetcher } from './model-fetcher.js';
import { FAKE_REPO, FAKE_REVISION, FakeHub, buildFakeModel, type FakeModel } from './testing/fake-hub.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('ModelFetcher', () => {
  let model: FakeModel;
  let hub: FakeHub;
  let cacheDir: string;
  const fetchers: ModelFetcher[] = [];

  const fetcher = (extra: { onProgress?: (e: DownloadProgressEvent) => void; maxAttempts?: number } = {}) => {
    const f = new ModelFetcher({
      baseUrl: hub.baseUrl,
      cacheDir,
      logger: createSilentLogger(),
      retryDelayMs: 1,
      ...extra,
    });
    fetchers.push(f);
    return f;
  };

  beforeEach(async () => {
    model = buildFakeModel();
    hub = await FakeHub.start(model);
    cacheDir = await mkdtemp(join(tmpdir(), 'findimage-fetch-'));
  });

  afterEach(async () => {
    await Promise.all(fetchers.splice(0).map((f) => f.close()));
    await hub.stop();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('downloads every file into <cache>/<repo>/<revision>/<path>, reporting progress up to each exact size', async () => {
    const events: DownloadProgressEvent[] = [];
    const paths = await fetcher({ onProgress: (e) => events.push(e) }).fetchModel(model.spec);

    const base = join(cacheDir, ...FAKE_REPO.split('/'), FAKE_REVISION);
    expect(paths).toEqual({
      textModel: join(base, 'onnx/text_model.onnx'),
      visionModel: join(base, 'onnx/vision_model.onnx'),
      tokenizer: join(base, 'tokenizer.json'),
    });
    for (const [path, bytes] of model.bytes) {
      expect(sha256(await readFile(join(base, path)))).toBe(sha256(bytes));
      const mine = events.filter((e) => e.file === path);
      expect(mine.length).toBeGreaterThan(1);
      expect(mine[0]?.receivedBytes).toBe(0);
      expect(mine.at(-1)).toEqual({ file: path, receivedBytes: bytes.length, totalBytes: bytes.length });
    }
    expect(await readdir(join(base, 'onnx'))).toEqual(['text_model.onnx', 'vision_model.onnx']);
  });

  it('makes no request at all when the cache already holds the verified files', async () => {
    await fetcher().fetchModel(model.spec);
    const before = hub.requests.length;
    expect(before).toBe(3);

    await fetcher().fetchModel(model.spec);

    expect(hub.requests.length).toBe(before);
  });

  it('follows the hub\'s redirect to its CDN', async () => {
    hub.behaviours.set('onnx/vision_model.onnx', { redirect: true });

    const paths = await fetcher().fetchModel(model.spec);

    expect(hub.requestsFor('onnx/vision_model.onnx').map((r) => r.path)).toEqual([
      `/${FAKE_REPO}/resolve/${FAKE_REVISION}/onnx/vision_model.onnx`,
      '/cdn/onnx/vision_model.onnx',
    ]);
    expect(sha256(await readFile(paths.visionModel))).toBe(model.spec.files.visionModel.sha256);
  });

  it('resumes a download cut mid-file with a Range request, through the redirect, and ends with the right sha256', async () => {
    hub.behaviours.set('onnx/vision_model.onnx', { redirect: true, dropAfterBytes: 200_000 });

    const paths = await fetcher().fetchModel(model.spec);

    // Every byte sent before the cut is kept, and only the rest is asked for (on Node 26 too,
    // whose stream iterator would drop the chunks still buffered when the body fails).
    const cdnRequests = hub.requestsFor('onnx/vision_model.onnx').filter((r) => r.path.startsWith('/cdn/'));
    expect(cdnRequests.map((r) => r.range)).toEqual([undefined, 'bytes=200000-']);
    expect(sha256(await readFile(paths.visionModel))).toBe(model.spec.files.visionModel.sha256);
    expect(existsSync(`${paths.visionModel}.partial`)).toBe(false);
  });

  it('restarts from the first byte when the server ignores the Range and answers 200', async () => {
    // An earlier run left the first 100,000 bytes behind (written here, so no dropped connection
    // has to race the client's reads); the server ignores the Range the fetcher then sends.
    hub.behaviours.set('onnx/text_model.onnx', { ignoreRange: true });
    const base = join(cacheDir, ...FAKE_REPO.split('/'), FAKE_REVISION);
    await mkdir(join(base, 'onnx'), { recursive: true });
    const text = model.bytes.get('onnx/text_model.onnx') as Buffer;
    await writeFile(join(base, 'onnx/text_model.onnx.partial'), text.subarray(0, 100_000));

    const paths = await fetcher().fetchModel(model.spec);

    expect(hub.requestsFor('onnx/text_model.onnx').map((r) => r.range)).toEqual(['bytes=100000-']);
    expect(sha256(await readFile(paths.textModel))).toBe(model.spec.files.textModel.sha256);
  });

  it('refuses a file whose sha256 does not match, naming it and both hashes, and leaves nothing in the cache', async () => {
    hub.behaviours.set('onnx/text_model.onnx', { corrupt: true });
    const expected = model.spec.files.textModel.sha256;
    const servedHash = (() => {
      const bytes = Buffer.from(model.bytes.get('onnx/text_model.onnx') ?? Buffer.alloc(0));
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      return sha256(bytes);
    })();

    const error = await fetcher().fetchModel(model.spec).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_checksum_mismatch');
    expect((error as ModelError).message).toContain('onnx/text_model.onnx');
    expect((error as ModelError).message).toContain(`expected sha256 ${expected}`);
    expect((error as ModelError).message).toContain(`but got ${servedHash}`);
    expect((error as ModelError).message).toContain('was refused');
    const onnxDir = join(cacheDir, ...FAKE_REPO.split('/'), FAKE_REVISION, 'onnx');
    expect(existsSync(join(onnxDir, 'text_model.onnx'))).toBe(false);
    expect(existsSync(join(onnxDir, 'text_model.onnx.partial'))).toBe(false);
  });

  it('refuses a file the server sends at another size before writing it to the cache', async () => {
    const spec = structuredClone(model.spec);
    spec.files.tokenizer.size += 1;

    const error = await fetcher().fetchFile(
      spec.source as Extract<typeof spec.source, { kind: 'huggingface' }>,
      spec.files.tokenizer,
    ).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_checksum_mismatch');
    expect((error as ModelError).message).toContain(`expected ${spec.files.tokenizer.size} bytes`);
    expect((error as ModelError).message).toContain(`sends ${spec.files.tokenizer.size - 1} bytes`);
    expect(existsSync(join(cacheDir, ...FAKE_REPO.split('/'), FAKE_REVISION, 'tokenizer.json.partial'))).toBe(false);
  });

  it('gives up after the configured tries when every connection drops before any byte', async () => {
    hub.behaviours.set('tokenizer.json', { dropAfterBytes: 0, dropTimes: 100 });

    const error = await fetcher({ maxAttempts: 3 }).fetchModel(model.spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_download_failed');
    expect((error as ModelError).message).toContain('after 3 tries');
    expect(hub.requestsFor('tokenizer.json')).toHaveLength(3);
  });

  it('does not retry a 404 and says to check FINDIMAGE_MODEL_URL', async () => {
    hub.behaviours.set('onnx/text_model.onnx', { status: 404 });

    const error = await fetcher().fetchModel(model.spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_download_failed');
    expect((error as ModelError).message).toContain('HTTP 404');
    expect((error as ModelError).message).toContain('FINDIMAGE_MODEL_URL');
    expect(hub.requestsFor('onnx/text_model.onnx')).toHaveLength(1);
  });

  it('retries a 503 and then succeeds', async () => {
    hub.behaviours.set('tokenizer.json', { status: 503 });
    const attempt = fetcher({ maxAttempts: 50 }).fetchModel(model.spec);
    // Let the hub recover once the first 503 has been seen.
    await waitUntil(() => hub.requestsFor('tokenizer.json').length > 0, 'the first request for tokenizer.json');
    hub.behaviours.delete('tokenizer.json');

    const paths = await attempt;

    expect(sha256(await readFile(paths.tokenizer))).toBe(model.spec.files.tokenizer.sha256);
    expect(hub.requestsFor('tokenizer.json').length).toBeGreaterThan(1);
  });

  it('refuses to download a file whose registry entry has no pinned sha256, without any request', async () => {
    const spec = structuredClone(model.spec);
    spec.files.textModel.sha256 = '';

    const error = await fetcher().fetchModel(spec).catch((e: unknown) => e);

    expect((error as ModelError).code).toBe('model_checksum_mismatch');
    expect((error as ModelError).message).toContain('no pinned sha256');
    expect(hub.requests).toHaveLength(0);
  });

  it('replaces a damaged cached file by downloading it again', async () => {
    const paths = await fetcher().fetchModel(model.spec);
    await rm(paths.tokenizer);
    await writeFile(paths.tokenizer, Buffer.alloc(model.spec.files.tokenizer.size, 7));

    await fetcher().fetchModel(model.spec);

    expect(sha256(await readFile(paths.tokenizer))).toBe(model.spec.files.tokenizer.sha256);
    expect(hub.requestsFor('tokenizer.json')).toHaveLength(2);
  });
});
