// sha256 of a file on disk, read as a stream so a 350 MB model never sits in memory, and the
// check that a registry entry carries a usable pin at all.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 of the whole file, lowercase hex. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
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
