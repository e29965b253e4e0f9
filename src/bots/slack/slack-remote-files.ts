// The Slack part of a fleet worker's RemoteFiles: downloads a Slack upload queued by reference
// (fleet mode) with this worker's own SLACK_BOT_TOKEN, through the same SlackFileDownloader the
// bot uses, so the same host check, size cap, image check and retries apply on every machine.
import type { Logger } from 'pino';
import type { RemoteFile, RemoteFiles } from '../../core/fleet/remote-file.js';
import type { Config } from '../../config.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, SlackFileDownloader, type SlackFileRef } from './file-download.js';
import type { DownloadRetryPolicy } from '../download-retry.js';

/** The Slack settings a worker downloads with (config.slack: SLACK_BOT_TOKEN, SLACK_API_URL, SLACK_MAX_FILE_MB). */
export type SlackFileSettings = Pick<NonNullable<Config['slack']>, 'botToken' | 'apiUrl' | 'maxFileBytes'>;

/** Downloads Slack files for a fleet worker. */
export class SlackRemoteFiles implements RemoteFiles {
  readonly #downloader: SlackFileDownloader;

  constructor(settings: SlackFileSettings, logger: Logger, retry?: DownloadRetryPolicy) {
    this.#downloader = new SlackFileDownloader({
      botToken: settings.botToken,
      ...(settings.apiUrl === undefined ? {} : { apiUrl: settings.apiUrl }),
      maxBytes: settings.maxFileBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
      logger: logger.child({ component: 'slack-files' }),
      ...(retry === undefined ? {} : { retry }),
    });
  }

  async fetch(file: RemoteFile): Promise<Uint8Array> {
    const ref: SlackFileRef = {
      id: file.fileId ?? file.name,
      name: file.name,
      mimetype: file.mimetype ?? '',
      urlPrivateDownload: file.url,
      ...(file.size === undefined ? {} : { size: file.size }),
    };
    return this.#downloader.download(ref);
  }
}
