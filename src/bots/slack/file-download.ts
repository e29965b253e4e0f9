// Downloading a shared file from Slack safely: only from Slack's file host, with the bot token,
// capped in size before the body is read, and refusing anything that is not an image (such as
// the HTML sign-in page Slack serves when the token may not read the file).
import type { Logger } from 'pino';
import { z } from 'zod';
import { FindimageError, InvalidImageError } from '../../core/errors.js';
import { DownloadCap, mayBeImage, mediaTypeOf, type DownloadSubject } from '../capped-download.js';
import { parseRetryAfter } from '../../core/retry-after.js';
import { DEFAULT_DOWNLOAD_RETRY, isTransientStatus, transientDetails, withDownloadRetries, type DownloadRetryPolicy } from '../download-retry.js';

/** The fields of a Slack file object the bot uses. */
export interface SlackFileRef {
  /** File id (F...). */
  id: string;
  /** File name as uploaded. */
  name: string;
  /** MIME type Slack detected ("image/png"). */
  mimetype: string;
  /** Size in bytes as Slack reports it. */
  size?: number;
  /** The link to download the original, which needs the bot token. */
  urlPrivateDownload?: string;
  /** The link to view the original, used when no download link is given. */
  urlPrivate?: string;
  /** A link a person can open. */
  permalink?: string;
  /** "hosted" for uploads; "tombstone" for deleted files; "external" for links to other services. */
  mode?: string;
}

/**
 * Default cap on a download. A 12-megapixel JPEG is 3 to 8 MB and a large PNG screenshot about
 * 10 MB; 50 MB leaves room for HEIC and TIFF originals while bounding memory, since each file
 * is held whole (in memory, then in the upload queue) until it is indexed.
 */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024;
/** A download that has not finished in a minute is stuck; the uploader is told it failed. */
export const DOWNLOAD_TIMEOUT_MS = 60_000;
/** Slack's file host for url_private_download. */
export const SLACK_FILE_HOST = 'files.slack.com';

/** A download was refused or failed; the message tells the uploader why. */
export class SlackDownloadError extends FindimageError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('platform_api', message, { details, cause });
  }
}

const fileSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  title: z.string().nullish(),
  mimetype: z.string().nullish(),
  size: z.number().nullish(),
  url_private_download: z.string().nullish(),
  url_private: z.string().nullish(),
  permalink: z.string().nullish(),
  mode: z.string().nullish(),
});

/** The file objects of an event's `files` array that carry an id; malformed entries are dropped. */
export function fileRefsFrom(files: unknown): SlackFileRef[] {
  if (!Array.isArray(files)) return [];
  const refs: SlackFileRef[] = [];
  for (const file of files) {
    const parsed = fileSchema.safeParse(file);
    if (!parsed.success) continue;
    const f = parsed.data;
    const ref: SlackFileRef = { id: f.id, name: f.name ?? f.title ?? f.id, mimetype: f.mimetype ?? '' };
    if (typeof f.size === 'number') ref.size = f.size;
    if (typeof f.url_private_download === 'string') ref.urlPrivateDownload = f.url_private_download;
    if (typeof f.url_private === 'string') ref.urlPrivate = f.url_private;
    if (typeof f.permalink === 'string') ref.permalink = f.permalink;
    if (typeof f.mode === 'string') ref.mode = f.mode;
    refs.push(ref);
  }
  return refs;
}

/** Whether Slack says the file is an image (the bytes are checked again when decoded). */
export function isImageFile(file: SlackFileRef): boolean {
  return file.mimetype.toLowerCase().startsWith('image/');
}

export interface SlackFileDownloaderOptions {
  /** Sent as the bearer token; Slack's file host refuses requests without it. */
  botToken: string;
  /** SLACK_API_URL: its host is also trusted for downloads (a compatible server, or tests). */
  apiUrl?: string;
  /** Largest file downloaded, in bytes. */
  maxBytes: number;
  /** Where retries and refused downloads are logged. */
  logger: Logger;
  /** Defaults to DOWNLOAD_TIMEOUT_MS. */
  timeoutMs?: number;
  /** How failures that may pass are retried; DEFAULT_DOWNLOAD_RETRY unless given (tests do not wait). */
  retry?: DownloadRetryPolicy;
}

/** How a refusal names a Slack file. */
function subjectOf(file: SlackFileRef): DownloadSubject {
  return { name: file.name, details: { fileId: file.id } };
}

export class SlackFileDownloader {
  readonly #botToken: string;
  readonly #trustedOrigin: string | undefined;
  readonly #cap: DownloadCap;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #retry: DownloadRetryPolicy;

  constructor(options: SlackFileDownloaderOptions) {
    this.#botToken = options.botToken;
    this.#trustedOrigin = options.apiUrl === undefined ? undefined : new URL(options.apiUrl).origin;
    this.#cap = new DownloadCap(options.maxBytes);
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
    this.#retry = options.retry ?? DEFAULT_DOWNLOAD_RETRY;
  }

  /** Largest file this downloader accepts, in bytes. */
  get maxBytes(): number {
    return this.#cap.maxBytes;
  }

  /**
   * Throws InvalidImageError (image_too_large) when Slack already says the file is over the cap,
   * so a 200 MB file is refused without a single request.
   */
  checkDeclaredSize(file: SlackFileRef): void {
    this.#cap.checkDeclared(subjectOf(file), file.size);
  }

  /**
   * The checks a download would make before its request (the declared size, a link on Slack's
   * file host), for a file queued by reference in fleet mode: the uploader hears of these at
   * once. Returns the link a worker downloads. Throws as download() would.
   */
  checkReference(file: SlackFileRef): string {
    this.checkDeclaredSize(file);
    return this.#trustedUrl(file).href;
  }

  /**
   * Downloads a file's original bytes, retrying failures that may pass (5xx, 429, a reset or
   * timed-out connection) with backoff. Throws SlackDownloadError or InvalidImageError saying why not.
   */
  async download(file: SlackFileRef): Promise<Uint8Array> {
    this.checkDeclaredSize(file);
    const url = this.#trustedUrl(file);
    return withDownloadRetries(() => this.#downloadOnce(file, url), this.#retry, this.#logger, { fileId: file.id });
  }

  async #downloadOnce(file: SlackFileRef, url: URL): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${this.#botToken}` },
        // A redirect from Slack's file host means "sign in": never follow it, and never send the
        // token anywhere else.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // No answer at all (connection refused or reset, timeout): worth another try.
      throw new SlackDownloadError(
        `I couldn't download ${file.name} from Slack (${error instanceof Error ? error.message : String(error)}). Please share it again.`,
        { fileId: file.id, ...transientDetails() },
        error,
      );
    }
    try {
      this.#checkResponse(file, response);
      return await this.#cap.read(subjectOf(file), response).catch((error: unknown) => {
        if (error instanceof FindimageError) throw error;
        // The connection broke while the body arrived.
        throw new SlackDownloadError(`The download of ${file.name} from Slack broke off. Please share it again.`, { fileId: file.id, ...transientDetails() }, error);
      });
    } finally {
      // Releases the connection when the body was refused or only partly read.
      await response.body?.cancel().catch(() => undefined);
    }
  }

  #trustedUrl(file: SlackFileRef): URL {
    const link = file.urlPrivateDownload ?? file.urlPrivate;
    if (link === undefined) {
      throw new SlackDownloadError(`Slack gave no download link for ${file.name} (an external or deleted file?).`, {
        fileId: file.id,
      });
    }
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw new SlackDownloadError(`Slack gave an unreadable download link for ${file.name}.`, { fileId: file.id });
    }
    const fromSlack = url.protocol === 'https:' && url.hostname === SLACK_FILE_HOST;
    if (!fromSlack && url.origin !== this.#trustedOrigin) {
      this.#logger.warn({ fileId: file.id, host: url.host }, 'refused a download from a host that is not Slack');
      throw new SlackDownloadError(`I only download files from Slack's own file host, and ${file.name} is elsewhere (${url.host}).`, {
        fileId: file.id,
        host: url.host,
      });
    }
    return url;
  }

  #checkResponse(file: SlackFileRef, response: Response): void {
    const details = { fileId: file.id, status: response.status };
    if (response.status >= 300 && response.status < 400) {
      throw new SlackDownloadError(
        `Slack sent me to its sign-in page instead of ${file.name}: the app may lack the files:read permission, or I'm not in this conversation.`,
        details,
      );
    }
    if (response.status !== 200) {
      const retry = isTransientStatus(response.status) ? transientDetails(parseRetryAfter(response.headers.get('retry-after'))) : {};
      throw new SlackDownloadError(`Slack answered HTTP ${response.status} when I downloaded ${file.name}. Please share it again.`, { ...details, ...retry });
    }
    const type = mediaTypeOf(response);
    if (type === 'text/html') {
      throw new SlackDownloadError(
        `Slack sent a web page (probably its sign-in page) instead of ${file.name}: the app may lack the files:read permission.`,
        { ...details, contentType: type },
      );
    }
    if (!mayBeImage(type)) {
      throw new InvalidImageError('image_unsupported', `${file.name} is not an image (Slack served it as ${type || 'an unknown type'}).`, {
        details: { ...details, contentType: type },
      });
    }
    this.#cap.checkContentLength(subjectOf(file), response);
  }
}
