// Downloading a Discord attachment safely: only from Discord's CDN hosts, size capped before
// the body is read, refusing anything that is not an image, and asking Discord for a fresh
// signed link (attachments/refresh-urls) when the one in hand has expired. The same refresh
// gives the signed links a result preview shows.
import type { REST } from 'discord.js';
import type { Logger } from 'pino';
import { FindimageError, InvalidImageError } from '../../core/errors.js';
import { DownloadCap, mayBeImage, mediaTypeOf, type DownloadSubject } from '../capped-download.js';
import { parseRetryAfter } from '../../core/retry-after.js';
import { DEFAULT_DOWNLOAD_RETRY, isTransientStatus, transientDetails, withDownloadRetries, type DownloadRetryPolicy } from '../download-retry.js';
import { asDiscordApiError } from './discord-api-error.js';

/** The fields of an attachment the bot uses. */
export interface AttachmentRef {
  /** Attachment id (a snowflake, unique across Discord). */
  id: string;
  /** File name as uploaded. */
  name: string;
  /** Size in bytes as Discord reports it. */
  size: number;
  /** Signed CDN link; expires after about a day. */
  url: string;
  /** MIME type Discord detected, when it did. */
  contentType?: string;
}

/**
 * Default cap on a download. Discord lets servers upload up to 500 MB; a photo is 3 to 8 MB,
 * and each file is held whole (in memory, then in the upload queue) until it is indexed.
 */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;
/** A download that has not finished in a minute is stuck. */
export const DOWNLOAD_TIMEOUT_MS = 60_000;
/** Discord's attachment hosts (https only). */
export const DISCORD_CDN_HOSTS: ReadonlySet<string> = new Set(['cdn.discordapp.com', 'media.discordapp.net']);
/** Where links to stored attachments are rebuilt before refreshing (Discord's own form). */
const CDN_ORIGIN = 'https://cdn.discordapp.com';
/** Links refresh-urls takes in one call. */
const REFRESH_BATCH = 50;
const IMAGE_EXTENSIONS = /\.(png|jpe?g|gif|webp|avif|heic|heif|bmp|tiff?)$/i;

/** A download was refused or failed; the message tells the uploader why. */
export class DiscordDownloadError extends FindimageError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('platform_api', message, { details, cause });
  }
}

/** Whether Discord says the attachment is an image (the bytes are checked again when decoded). */
export function isImageAttachment(attachment: AttachmentRef): boolean {
  if (attachment.contentType !== undefined) return attachment.contentType.toLowerCase().startsWith('image/');
  return IMAGE_EXTENSIONS.test(attachment.name);
}

/** The unsigned CDN link of a stored attachment, for refresh-urls to sign again. */
export function cdnLinkOf(channelId: string, attachmentId: string, filename: string): string {
  return `${CDN_ORIGIN}/attachments/${channelId}/${attachmentId}/${encodeURIComponent(filename)}`;
}

/** How a refusal names a Discord attachment. */
function subjectOf(attachment: AttachmentRef): DownloadSubject {
  return { name: attachment.name, details: { attachmentId: attachment.id } };
}

export interface AttachmentDownloaderOptions {
  /** discord.js's REST client (refresh-urls). */
  rest: REST;
  /** DISCORD_API_URL: its origin is also trusted for downloads (a compatible server, or tests). */
  apiUrl?: string;
  /** Largest attachment downloaded, in bytes. */
  maxBytes: number;
  /** Where retries and refused downloads are logged. */
  logger: Logger;
  /** Defaults to DOWNLOAD_TIMEOUT_MS. */
  timeoutMs?: number;
  /** How failures that may pass are retried; DEFAULT_DOWNLOAD_RETRY unless given (tests do not wait). */
  retry?: DownloadRetryPolicy;
}

export class AttachmentDownloader {
  readonly #rest: REST;
  readonly #trustedOrigin: string | undefined;
  readonly #cap: DownloadCap;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #retry: DownloadRetryPolicy;

  constructor(options: AttachmentDownloaderOptions) {
    this.#rest = options.rest;
    this.#trustedOrigin = options.apiUrl === undefined ? undefined : new URL(options.apiUrl).origin;
    this.#cap = new DownloadCap(options.maxBytes);
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
    this.#retry = options.retry ?? DEFAULT_DOWNLOAD_RETRY;
  }

  /**
   * The checks a download would make before its request (the declared size, a link on Discord's
   * CDN), for an attachment queued by reference in fleet mode: the uploader hears of these at
   * once. Throws as download() would.
   */
  checkReference(attachment: AttachmentRef): void {
    this.#cap.checkDeclared(subjectOf(attachment), attachment.size);
    this.#trustedUrl(attachment, attachment.url);
  }

  /**
   * Downloads an attachment's bytes, refreshing an expired link once and retrying failures that
   * may pass (5xx, 429, a reset or timed-out connection) with backoff. Throws saying why not.
   */
  async download(attachment: AttachmentRef): Promise<Uint8Array> {
    this.#cap.checkDeclared(subjectOf(attachment), attachment.size);
    return withDownloadRetries(() => this.#downloadOnce(attachment), this.#retry, this.#logger, { attachmentId: attachment.id });
  }

  async #downloadOnce(attachment: AttachmentRef): Promise<Uint8Array> {
    let response = await this.#fetch(attachment, attachment.url);
    if (response.status === 403 || response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      // Signed links expire after about a day (a backfill, a restart, a slow queue).
      const refreshed = (await this.refresh([attachment.url])).get(attachment.url);
      if (refreshed === undefined) throw new DiscordDownloadError(`Discord no longer serves ${attachment.name}; it may have been deleted.`, { attachmentId: attachment.id });
      this.#logger.info({ attachmentId: attachment.id }, 'attachment link had expired; downloading with a refreshed one');
      response = await this.#fetch(attachment, refreshed);
    }
    try {
      this.#checkResponse(attachment, response);
      return await this.#cap.read(subjectOf(attachment), response).catch((error: unknown) => {
        if (error instanceof FindimageError) throw error;
        // The connection broke while the body arrived.
        throw new DiscordDownloadError(`The download of ${attachment.name} from Discord broke off. Please post it again.`, { attachmentId: attachment.id, ...transientDetails() }, error);
      });
    } finally {
      await response.body?.cancel().catch(() => undefined);
    }
  }

  /** Fresh signed links for `urls` (original → refreshed); links Discord did not refresh are absent. */
  async refresh(urls: readonly string[]): Promise<Map<string, string>> {
    const refreshed = new Map<string, string>();
    for (let i = 0; i < urls.length; i += REFRESH_BATCH) {
      const batch = urls.slice(i, i + REFRESH_BATCH);
      let answer: { refreshed_urls?: Array<{ original: string; refreshed: string }> };
      try {
        answer = (await this.#rest.post('/attachments/refresh-urls', { body: { attachment_urls: batch } })) as typeof answer;
      } catch (error) {
        this.#logger.warn({ err: asDiscordApiError(error, 'refreshing attachment links'), links: batch.length }, 'could not refresh attachment links');
        continue;
      }
      for (const { original, refreshed: link } of answer.refreshed_urls ?? []) refreshed.set(original, link);
    }
    return refreshed;
  }

  async #fetch(attachment: AttachmentRef, link: string): Promise<Response> {
    const url = this.#trustedUrl(attachment, link);
    try {
      // A redirect could lead off Discord's hosts: never follow one.
      return await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      throw new DiscordDownloadError(
        `I couldn't download ${attachment.name} from Discord (${error instanceof Error ? error.message : String(error)}). Please post it again.`,
        // No answer at all (connection refused or reset, timeout): worth another try.
        { attachmentId: attachment.id, ...transientDetails() },
        error,
      );
    }
  }

  #trustedUrl(attachment: AttachmentRef, link: string): URL {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw new DiscordDownloadError(`Discord gave an unreadable link for ${attachment.name}.`, { attachmentId: attachment.id });
    }
    const fromCdn = url.protocol === 'https:' && DISCORD_CDN_HOSTS.has(url.hostname);
    if (!fromCdn && url.origin !== this.#trustedOrigin) {
      this.#logger.warn({ attachmentId: attachment.id, host: url.host }, 'refused a download from a host that is not Discord');
      throw new DiscordDownloadError(`I only download attachments from Discord's CDN, and ${attachment.name} is elsewhere (${url.host}).`, {
        attachmentId: attachment.id,
        host: url.host,
      });
    }
    return url;
  }

  #checkResponse(attachment: AttachmentRef, response: Response): void {
    const details = { attachmentId: attachment.id, status: response.status };
    if (response.status !== 200) {
      const retry = isTransientStatus(response.status) ? transientDetails(parseRetryAfter(response.headers.get('retry-after'))) : {};
      throw new DiscordDownloadError(`Discord answered HTTP ${response.status} when I downloaded ${attachment.name}. Please post it again.`, { ...details, ...retry });
    }
    const type = mediaTypeOf(response);
    if (!mayBeImage(type)) {
      throw new InvalidImageError('image_unsupported', `${attachment.name} is not an image (Discord served it as ${type || 'an unknown type'}).`, {
        details: { ...details, contentType: type },
      });
    }
    this.#cap.checkContentLength(subjectOf(attachment), response);
  }
}
