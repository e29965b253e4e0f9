// Reads one image file without trusting it (the CLI's paths, the web's originals): the size is
// checked from the open file's stat before a byte is read, no more than the limit is ever read,
// and every way a path can fail (missing, a folder, a link loop, no permission, a pipe) becomes a
// typed error with a message.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FindimageError, InvalidImageError } from '../errors.js';
import { MAX_IMAGE_BYTES } from './image-decoder.js';

const MEGABYTE = 1024 * 1024;

/**
 * Opened without blocking: opening a named pipe called `photo.jpg` for reading would otherwise
 * wait for a writer forever. A regular file reads the same either way.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** An image file's bytes and what its stat said. */
export interface ImageFile {
  /** The whole file, at most the limit given. */
  bytes: Buffer;
  /** Last modification, as the file's date when it is indexed. */
  modified: Date;
}

/** The message for a file over the limit, as the image decoder words it for uploads. */
export function tooLargeMessage(bytes: number, maxBytes: number): string {
  return `The file is ${(bytes / MEGABYTE).toFixed(1)} MB; findimage reads images up to ${(maxBytes / MEGABYTE).toFixed(0)} MB.`;
}

/**
 * Reads an image file of at most `maxBytes` (default MAX_IMAGE_BYTES). Throws InvalidImageError
 * 'image_too_large' for a larger file (nothing read; from the open file's stat, so a file swapped
 * after a walk's stat is still checked) and 'image_invalid' when the file grows while it is read;
 * FindimageError 'not_found' when the path is missing, a folder, a link loop, unreadable or not a
 * regular file. `shown` is the path as the message should name it.
 */
export async function readImageFile(path: string | Buffer, shown: string, maxBytes = MAX_IMAGE_BYTES): Promise<ImageFile> {
  let file: FileHandle;
  try {
    file = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw unreadable(error, shown);
  }
  try {
    const info = await file.stat();
    if (info.isDirectory()) {
      throw new FindimageError('not_found', `${shown} is a folder, not an image file.`, { details: { path: shown } });
    }
    if (!info.isFile()) {
      throw new FindimageError('not_found', `${shown} is not a regular file (a pipe, socket or device), so it was not read.`, {
        details: { path: shown },
      });
    }
    if (info.size > maxBytes) {
      throw new InvalidImageError('image_too_large', tooLargeMessage(info.size, maxBytes), {
        details: { bytes: info.size, maxBytes },
      });
    }
    // One byte more than stat said, to notice a file that is still being written.
    const buffer = Buffer.allocUnsafe(info.size + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > info.size) {
      throw new InvalidImageError('image_invalid', 'The file grew while it was read (is it still being written?). Index it again when it is complete.', {
        details: { bytes: info.size },
      });
    }
    return { bytes: buffer.subarray(0, filled), modified: info.mtime };
  } catch (error) {
    throw error instanceof FindimageError ? error : unreadable(error, shown);
  } finally {
    await file.close();
  }
}

/** A file-system refusal as a message that names the path and the reason. */
export function unreadable(error: unknown, shown: string): FindimageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const reason = REASONS[code] ?? `it could not be read (${code || String(error)})`;
  return new FindimageError('not_found', `${shown}: ${reason}.`, { cause: error, details: { path: shown, code } });
}

/** What each file-system error code means to a person. */
const REASONS: Record<string, string> = {
  ENOENT: 'there is no such file',
  ENOTDIR: 'there is no such file (a part of the path is not a folder)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'it is a symbolic link that loops back on itself',
  EISDIR: 'it is a folder, not an image file',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'the disk reported an input/output error',
};
