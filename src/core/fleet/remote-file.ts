// A chat upload in fleet mode travels as a reference to the platform's file, not as its bytes:
// the replica that heard of it queues the reference, and the worker that takes the job downloads
// the file itself with the bot's token. This file says what such a reference holds and what a
// worker fetches it with; the platform parts (Slack's file host, Discord's CDN) live in src/bots.
import { FindimageError } from '../errors.js';
import type { ImageToIndex } from '../indexing/image-indexer.js';

/** The chat platforms whose files a worker may be asked to fetch. */
export type RemotePlatform = 'slack' | 'discord';

/** What a worker on another machine needs to download a chat upload. */
export interface RemoteFile {
  /** Whose file host it is on, and so whose token fetches it. */
  platform: RemotePlatform;
  /** The platform's download link (Slack's url_private_download, Discord's signed CDN link). */
  url: string;
  /** The file's name as uploaded (named in the uploader's failure reply). */
  name: string;
  /** Size in bytes as the platform declared it (the cap is checked before a request). */
  size?: number;
  /** The MIME type the platform detected. */
  mimetype?: string;
  /** The platform's id of the file (Slack F..., Discord's attachment snowflake), for logs and refreshes. */
  fileId?: string;
}

/**
 * Downloads chat uploads' bytes on a worker. Throws a FindimageError saying why not: an
 * image_* code (not an image, too large) or platform_api (gone, refused) for a failure that
 * will not pass, and platform_api with `details.transient` for one that may.
 */
export interface RemoteFiles {
  /** The file's bytes, as the platform serves them to the bot. */
  fetch(file: RemoteFile): Promise<Uint8Array>;
}

const PLATFORM_NAME: Record<RemotePlatform, string> = { slack: 'Slack', discord: 'Discord' };

/**
 * The error of a worker asked for a platform's file it has no fetcher for (no bot token). Its
 * composition may say more (which setting to set): PlatformFiles takes that as `whenMissing`.
 */
export function missingTokenError(platform: RemotePlatform, operatorMessage?: string): FindimageError {
  return new FindimageError(
    'config_invalid',
    operatorMessage ?? `This worker was given no ${PLATFORM_NAME[platform]} bot token, so it cannot download ${PLATFORM_NAME[platform]} files; give every worker the bot's token (see docs/fleet.md).`,
    {
      details: { platform },
      publicMessage: `A findimage worker could not download this file from ${PLATFORM_NAME[platform]}; whoever runs findimage has been told why in its log.`,
    },
  );
}

/** RemoteFiles over one fetcher per platform; a platform without one fails with missingTokenError(). */
export class PlatformFiles implements RemoteFiles {
  readonly #fetchers: Partial<Record<RemotePlatform, RemoteFiles>>;
  readonly #whenMissing: (platform: RemotePlatform) => FindimageError;

  /** `whenMissing`: the error for a platform without a fetcher (default missingTokenError()). */
  constructor(fetchers: Partial<Record<RemotePlatform, RemoteFiles>>, options: { whenMissing?: (platform: RemotePlatform) => FindimageError } = {}) {
    this.#fetchers = fetchers;
    this.#whenMissing = options.whenMissing ?? ((platform) => missingTokenError(platform));
  }

  /** The platforms this can fetch from (logged when a worker starts). */
  get platforms(): RemotePlatform[] {
    return (Object.keys(this.#fetchers) as RemotePlatform[]).filter((platform) => this.#fetchers[platform] !== undefined);
  }

  async fetch(file: RemoteFile): Promise<Uint8Array> {
    const fetcher = this.#fetchers[file.platform];
    if (fetcher === undefined) throw this.#whenMissing(file.platform);
    return fetcher.fetch(file);
  }
}

/**
 * The image with its bytes: a referenced upload's are fetched (`remote` is dropped), any other
 * image is returned as it is. Without `files`, a referenced upload fails with missingTokenError().
 */
export async function withBytes(image: ImageToIndex, files: RemoteFiles | undefined): Promise<ImageToIndex> {
  const { remote, ...rest } = image;
  if (remote === undefined) return image;
  if (files === undefined) throw missingTokenError(remote.platform);
  return { ...rest, bytes: await files.fetch(remote) };
}
