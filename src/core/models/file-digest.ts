// sha256 of a file on disk, read as a stream so a 350 MB model never sits in memory, and the
// check that a registry entry carries a usable pin at all.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 of the whole file, lowercase hex; rejects with an AbortError, reading no further, once `signal` aborts. */
export async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, signal === undefined ? {} : { signal })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/**
 * True when `sha256` is 64 lowercase hex digits. A registry entry without one cannot be
 * verified, and findimage refuses to download or load such a file rather than trust it.
 */
export function isPinnedSha256(sha256: string): boolean {
  return SHA256_HEX.test(sha256);
}
