// Point ids derived from what an image is, not where it came from: the same bytes shared twice
// in one tenant map to one point, so a re-upload is recognised before any model call.
import { createHash } from 'node:crypto';

/** sha256 of the original bytes, lowercase hex. */
export function contentHashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A UUID (Qdrant accepts only UUIDs or integers as ids) from the tenant and content hash, laid
 * out like an RFC 9562 version 8 (custom) UUID so that every store accepts it.
 */
export function pointIdFor(tenant: string, contentHash: string): string {
  return uuidFromText(`${tenant}\u0000${contentHash}`);
}

/** A UUID (version 8 layout) from the sha256 of `text`: the same text, the same id. */
export function uuidFromText(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  digest[6] = ((digest[6] as number) & 0x0f) | 0x80;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
