// The Discord part of a fleet worker's RemoteFiles: downloads a Discord attachment queued by
// reference (fleet mode) with this worker's own DISCORD_TOKEN, through the same
// AttachmentDownloader the bot uses: CDN hosts only, size cap, image check, retries, and a fresh
// signed link from Discord when the queued one has expired (a job may wait longer than a day).
import { REST } from 'discord.js';
import type { Logger } from 'pino';
import type { RemoteFile, RemoteFiles } from '../../core/fleet/remote-file.js';
import type { Config } from '../../config.js';
import type { DownloadRetryPolicy } from '../download-retry.js';
import { AttachmentDownloader, DEFAULT_MAX_ATTACHMENT_BYTES, type AttachmentRef } from './attachment-download.js';

/** The Discord settings a worker downloads with (config.discord: DISCORD_TOKEN, DISCORD_API_URL, DISCORD_MAX_FILE_MB). */
export type DiscordFileSettings = Pick<NonNullable<Config['discord']>, 'token' | 'apiUrl' | 'maxFileBytes'>;

/** Downloads Discord attachments for a fleet worker (no gateway connection: REST only). */
export class DiscordRemoteFiles implements RemoteFiles {
  readonly #downloader: AttachmentDownloader;

  constructor(settings: DiscordFileSettings, logger: Logger, retry?: DownloadRetryPolicy) {
    // The refresh of expired links is a REST call with the bot token.
    const rest = new REST(settings.apiUrl === undefined ? {} : { api: settings.apiUrl }).setToken(settings.token);
    this.#downloader = new AttachmentDownloader({
      rest,
      ...(settings.apiUrl === undefined ? {} : { apiUrl: settings.apiUrl }),
      maxBytes: settings.maxFileBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES,
      logger: logger.child({ component: 'discord-files' }),
      ...(retry === undefined ? {} : { retry }),
    });
  }

  async fetch(file: RemoteFile): Promise<Uint8Array> {
    const ref: AttachmentRef = {
      id: file.fileId ?? file.name,
      name: file.name,
      // Discord always declares it; a reference without one is capped while it is read.
      size: file.size ?? 0,
      url: file.url,
      ...(file.mimetype === undefined ? {} : { contentType: file.mimetype }),
    };
    return this.#downloader.download(ref);
  }
}
