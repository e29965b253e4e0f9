// The image an upload-queue row describes: its metadata JSON (the bytes stay in the row), read
// back into what the indexer takes, including rows queued by findimage 1 with flat share fields.
import { shareFromFlatFields, type FlatShareFields } from '../store/image-shares.js';
import type { ImageToIndex } from './image-indexer.js';

/** The upload's metadata as stored in the queue (the bytes stay in the queue row). */
export type QueuedImage = Omit<ImageToIndex, 'bytes'>;

/**
 * A queue row's metadata JSON. Rows queued by findimage 1 (still on disk after an upgrade)
 * carry the share as flat fields (channel, uploader, ...) and no `share`.
 */
type StoredMetadata = Omit<QueuedImage, 'createdAt'> & { createdAt: string } & FlatShareFields;

/** The image a queue row describes, converting a findimage-1 row's flat fields to its share. */
export function queuedImageOf(metadataJson: string): QueuedImage {
  const {
    channel,
    channelIsPublic,
    uploader,
    messageId,
    fileId,
    permalink,
    ...metadata
  } = JSON.parse(metadataJson) as StoredMetadata;
  const image: QueuedImage = { ...metadata, createdAt: new Date(metadata.createdAt) };
  if (image.share === undefined) {
    const flat = { channel, channelIsPublic, uploader, messageId, fileId, permalink };
    const share = shareFromFlatFields(flat, metadata.createdAt);
    if (share !== undefined) image.share = share;
  }
  return image;
}
