// Downloads a model's pinned files from the Hugging Face hub (or a mirror) into the cache:
// <cacheDir>/<repo>/<revision>/<path>. Streams to a .partial file, resumes with Range requests,
// retries dropped connections, checks exact size and sha256, then renames into place.
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Agent, Dispatcher } from 'undici';
import { ModelError } from '../errors.js';
import type { DownloadProgressListener } from './download-progress.js';
import { isPinnedSha256, sha256OfFile } from './file-digest.js';
import { ModelFileVerifier, describeMismatch } from './model-file-verifier.js';
import type { ModelFile, ModelFilePaths, ModelSpec } from './model-spec.js';
import { receivedChunks } from './received-chunks.js';
import { VerificationStamps } from './verification-stamps.js';

/** Tries per file without progress; the hub's CDN drops are brief, a dead network is not. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** First retry waits this long, then doubles (1, 2, 4, 8 s): about 15 s before giving up. */
export const DEFAULT_RETRY_DELAY_MS = 1_000;
/** Longest wait between retries, whatever the doubling says. */
const MAX_RETRY_DELAY_MS = 30_000;
/** The hub answers /resolve with one redirect to its CDN; a few more allow for mirrors. */
const MAX_REDIRECTS = 5;
/** A connection that sends nothing for this long is dropped and resumed, not waited on forever. */
const STALL_TIMEOUT_MS = 60_000;
/** Connecting (DNS, TCP, TLS) should not take longer than this on any working network. */
const CONNECT_TIMEOUT_MS = 30_000;

/** Statuses worth retrying: timeouts, rate limits and server errors. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** File system calls whose failure means the cache cannot be written (retrying will not help). */
const DISK_SYSCALLS = new Set(['open', 'write', 'rename', 'mkdir', 'unlink', 'ftruncate', 'close', 'fsync']);

/** A huggingface model source: where the files live on the hub. */
type HubSource = Extract<ModelSpec['source'], { kind: 'huggingface' }>;

export interface ModelFetcherOptions {
  /** Base URL of the hub or a mirror, without a trailing slash ("https://huggingface.co"). */
  baseUrl: string;
  /** The cache folder; files go to `<cacheDir>/<repo>/<revision>/<path>`. */
  cacheDir: string;
  /** Logs each download, retry and refusal. */
  logger: Logger;
  /** Told as bytes arrive. */
  onProgress?: DownloadProgressListener;
  /** Tries per file without progress before giving up (default DEFAULT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Delay before the first retry, doubled for each next one (default DEFAULT_RETRY_DELAY_MS). */
  retryDelayMs?: number;
  /** Shared with the locator so a file hashed here is not hashed again at load. */
  verifier?: ModelFileVerifier;
}

/** Raised inside a transfer for failures that another try may fix. */
class RetryableTransferError extends Error {}

/** Downloads and verifies model files. Call close() when done to free its connections. */
export class ModelFetcher {
  private readonly baseUrl: string;
  private readonly cacheDir: string;
  private readonly logger: Logger;
  private readonly onProgress: DownloadProgressListener | undefined;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly verifier: ModelFileVerifier;
  /** undici (about 170 ms to import) is loaded on the first download, not on every start. */
  private connection: Promise<{ agent: Agent; dispatcher: Dispatcher; request: typeof import('undici').request }> | undefined;

  constructor(options: ModelFetcherOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.cacheDir = options.cacheDir;
    this.logger = options.logger;
    this.onProgress = options.onProgress;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.verifier =
      options.verifier ??
      new ModelFileVerifier({ stamps: new VerificationStamps({ cacheDir: options.cacheDir, logger: options.logger }) });
  }

  private connect(): Promise<{ agent: Agent; dispatcher: Dispatcher; request: typeof import('undici').request }> {
    this.connection ??= import('undici').then(({ Agent, interceptors, request }) => {
      const agent = new Agent({
        bodyTimeout: STALL_TIMEOUT_MS,
        headersTimeout: STALL_TIMEOUT_MS,
        connect: { timeout: CONNECT_TIMEOUT_MS },
      });
      return { agent, dispatcher: agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS })), request };
    });
    return this.connection;
  }

  /** The URL a file is downloaded from. */
  fileUrl(source: HubSource, file: ModelFile): string {
    return hubFileUrl(this.baseUrl, source, file);
  }

  /** Where a file of this source lives in the cache. */
  cachePath(source: HubSource, file: ModelFile): string {
    return hubCachePath(this.cacheDir, source, file);
  }

  /**
   * Makes sure all three files of a hub model are in the cache and verified, downloading what
   * is missing or damaged. Files already cached and verified cause no request at all.
   */
  async fetchModel(spec: ModelSpec, signal?: AbortSignal): Promise<ModelFilePaths> {
    const source = spec.source;
    if (source.kind !== 'huggingface') {
      throw new ModelError('model_download_failed', `Model ${spec.id} ships inside findimage and is never downloaded.`);
    }
    return {
      textModel: await this.fetchFile(source, spec.files.textModel, signal),
      visionModel: await this.fetchFile(source, spec.files.visionModel, signal),
      tokenizer: await this.fetchFile(source, spec.files.tokenizer, signal),
    };
  }

  /** Makes sure one file is in the cache and verified; returns its absolute path. */
  async fetchFile(source: HubSource, file: ModelFile, signal?: AbortSignal): Promise<string> {
    const url = this.fileUrl(source, file);
    if (!isPinnedSha256(file.sha256)) {
      throw new ModelError(
        'model_checksum_mismatch',
        `${file.path} of ${source.repo} has no pinned sha256 in findimage's model registry, so it cannot be verified and its download is refused. Pin its size and sha256 in src/core/models/model-registry.ts first.`,
        { details: { file: file.path, url } },
      );
    }
    const target = this.cachePath(source, file);
    const cached = await this.verifier.check(target, file);
    if (cached.state === 'ok') return target;
    if (cached.state !== 'missing') {
      this.logger.warn({ file: target, problem: describeMismatch(cached, file) }, 'cached model file is damaged; downloading it again');
      await rm(target, { force: true });
    }
    await this.download(url, file, target, signal);
    return target;
  }

  /** Frees the connection pool. */
  async close(): Promise<void> {
    if (this.connection !== undefined) await (await this.connection).agent.close();
  }

  private async download(url: string, file: ModelFile, target: string, signal: AbortSignal | undefined): Promise<void> {
    const partial = `${target}.partial`;
    await this.onDisk(target, () => mkdir(dirname(target), { recursive: true }));
    this.logger.info({ file: file.path, url, bytes: file.size }, 'downloading model file');
    let failures = 0;
    for (;;) {
      let offset = await sizeOf(partial);
      if (offset > file.size) {
        await rm(partial, { force: true });
        offset = 0;
      }
      if (offset === file.size) break;
      let failure: unknown;
      try {
        await this.transfer(url, file, partial, offset, signal);
      } catch (error) {
        if (!(error instanceof RetryableTransferError) && !isNetworkError(error)) throw error;
        if (signal?.aborted === true) throw error;
        failure = error;
      }
      const now = await sizeOf(partial);
      if (now === file.size) break;
      failure ??= new RetryableTransferError(`the connection closed after ${now} of ${file.size} bytes`);
      failures = now > offset ? 1 : failures + 1;
      const reason = failure instanceof Error ? failure.message : String(failure);
      if (failures >= this.maxAttempts) {
        throw new ModelError(
          'model_download_failed',
          `Could not download ${url} after ${failures} tries: ${reason}. ${now} of ${file.size} bytes are kept in ${partial} and the next try resumes from there.`,
          { cause: failure, details: { url, file: file.path, receivedBytes: now, totalBytes: file.size } },
        );
      }
      const delay = Math.min(this.retryDelayMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
      this.logger.warn({ url, receivedBytes: now, totalBytes: file.size, retryInMs: delay, reason }, 'model download interrupted; retrying');
      await sleep(delay, undefined, { signal });
    }
    const actual = await sha256OfFile(partial);
    if (actual !== file.sha256) {
      await rm(partial, { force: true });
      throw new ModelError(
        'model_checksum_mismatch',
        `The download of ${file.path} from ${url} was refused: expected sha256 ${file.sha256} (${file.size} bytes) but got ${actual}. The file was deleted. A mirror or proxy (FINDIMAGE_MODEL_URL) may be serving other bytes; try again, or fetch the file by hand and compare its sha256.`,
        { details: { file: file.path, url, expected: file.sha256, actual } },
      );
    }
    await this.onDisk(target, () => rename(partial, target));
    await this.verifier.remember(target, file);
    this.logger.info({ file: file.path, path: target }, 'model file downloaded and verified');
  }

  /** One HTTP request: appends what arrives to `partial` (or restarts it when the range is ignored). */
  private async transfer(
    url: string,
    file: ModelFile,
    partial: string,
    offset: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const headers: Record<string, string> = { 'user-agent': 'findimage (model download)' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const { request, dispatcher } = await this.connect();
    const response = await request(url, { method: 'GET', headers, signal, dispatcher });
    const { statusCode, body } = response;

    let start: number;
    if (statusCode === 206) {
      const range = parseContentRange(header(response.headers, 'content-range'));
      if (range === undefined || range.start !== offset) {
        await body.dump();
        await rm(partial, { force: true });
        throw new RetryableTransferError(`the server resumed at the wrong offset (${header(response.headers, 'content-range') ?? 'no Content-Range'}), starting over`);
      }
      if (range.total !== undefined && range.total !== file.size) {
        await body.dump();
        await rm(partial, { force: true });
        throw this.sizeRefused(url, file, range.total);
      }
      start = offset;
    } else if (statusCode === 200) {
      if (offset > 0) this.logger.info({ url, offset }, 'server ignored the Range request; restarting the file from the beginning');
      const length = Number(header(response.headers, 'content-length') ?? Number.NaN);
      if (Number.isFinite(length) && length !== file.size) {
        await body.dump();
        await rm(partial, { force: true });
        throw this.sizeRefused(url, file, length);
      }
      start = 0;
    } else if (statusCode === 416) {
      await body.dump();
      await rm(partial, { force: true });
      throw new RetryableTransferError('the server refused the resume range (HTTP 416), starting over');
    } else if (RETRYABLE_STATUS.has(statusCode)) {
      await body.dump();
      throw new RetryableTransferError(`the server answered HTTP ${statusCode}`);
    } else {
      await body.dump();
      throw new ModelError(
        'model_download_failed',
        `Could not download ${url}: the server answered HTTP ${statusCode}. Check FINDIMAGE_MODEL_URL (now ${this.baseUrl}) points at the Hugging Face hub or a full mirror of it.`,
        { details: { url, status: statusCode } },
      );
    }

    const handle = await this.onDisk(partial, () => open(partial, start === 0 ? 'w' : 'a'));
    let received = start;
    let overflow = false;
    try {
      this.onProgress?.({ file: file.path, receivedBytes: received, totalBytes: file.size });
      // Not `for await` over the body: on Node 26 that drops the chunks still buffered when the
      // connection is cut, and the resume would fetch them again (received-chunks.ts).
      for await (const chunk of receivedChunks(body)) {
        if (received + chunk.length > file.size) {
          overflow = true;
          break;
        }
        await this.onDisk(partial, () => handle.write(chunk));
        received += chunk.length;
        this.onProgress?.({ file: file.path, receivedBytes: received, totalBytes: file.size });
      }
    } finally {
      await handle.close();
    }
    if (overflow) {
      body.destroy();
      await rm(partial, { force: true });
      throw this.sizeRefused(url, file, undefined);
    }
  }

  private sizeRefused(url: string, file: ModelFile, offered: number | undefined): ModelError {
    const got = offered === undefined ? 'more bytes than that' : `${offered} bytes`;
    return new ModelError(
      'model_checksum_mismatch',
      `The download of ${file.path} from ${url} was refused: expected ${file.size} bytes (sha256 ${file.sha256}) but the server sends ${got}. Nothing was kept. A mirror or proxy (FINDIMAGE_MODEL_URL) may be serving another file.`,
      { details: { file: file.path, url, expectedSize: file.size, offeredSize: offered } },
    );
  }

  /** Runs a file system step; a failure names the cache folder and how to fix it. */
  private async onDisk<T>(path: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (isDiskError(error)) {
        throw new ModelError(
          'model_download_failed',
          `Cannot write the model to ${path}: ${(error as Error).message}. Free some disk space or set FINDIMAGE_CACHE to a writable folder (now ${this.cacheDir}).`,
          { cause: error, details: { path } },
        );
      }
      throw error;
    }
  }
}

/** `${baseUrl}/${repo}/resolve/${revision}/${path}`, each segment URL-encoded. */
export function hubFileUrl(baseUrl: string, source: HubSource, file: ModelFile): string {
  const segments = [...source.repo.split('/'), 'resolve', source.revision, ...file.path.split('/')];
  return `${baseUrl.replace(/\/+$/, '')}/${segments.map(encodeURIComponent).join('/')}`;
}

/** `<cacheDir>/<repo>/<revision>/<path>`. */
export function hubCachePath(cacheDir: string, source: HubSource, file: ModelFile): string {
  return join(cacheDir, ...source.repo.split('/'), source.revision, ...file.path.split('/'));
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  return info?.size ?? 0;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseContentRange(value: string | undefined): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (match === null) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

/** Network failures (refused, reset, timed out, closed mid-body) are worth another try. */
function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof ModelError) return false;
  if (error.name === 'AbortError') return false;
  return !isDiskError(error);
}

function isDiskError(error: unknown): boolean {
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return syscall !== undefined && DISK_SYSCALLS.has(syscall);
}
